// A small Prometheus text-format registry (exposition format 0.0.4): counters and one histogram with
// low-cardinality labels only (never state, user or session values), base units, `_total` suffixes.

import { VERSION } from '../model/version';
export { VERSION };

type Labels = Record<string, string>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelKey(names: readonly string[], labels: Labels): string {
  return names.map((n) => labels[n] ?? '').join('\u0000');
}

function renderLabels(names: readonly string[], values: string[], extra?: [string, string]): string {
  const parts = names.map((n, i) => `${n}="${escapeLabel(values[i])}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

export class Counter {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[] = [],
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(this.labelNames, labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(this.labelNames, labels)) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [k, v] of this.values) lines.push(`${this.name}${renderLabels(this.labelNames, k.split('\u0000'))} ${v}`);
    return lines.join('\n');
  }
}

export class Gauge {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[] = [],
  ) {}
  set(labels: Labels, v: number): void {
    this.values.set(labelKey(this.labelNames, labels), v);
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    for (const [k, v] of this.values) lines.push(`${this.name}${renderLabels(this.labelNames, k.split('\u0000'))} ${v}`);
    return lines.join('\n');
  }
}

/** Latency buckets in seconds: the interesting range for a sub-millisecond authz check. */
export const DEFAULT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export class Histogram {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[] = [],
    readonly buckets: readonly number[] = DEFAULT_BUCKETS,
  ) {}
  observe(labels: Labels, v: number): void {
    const k = labelKey(this.labelNames, labels);
    let s = this.series.get(k);
    if (!s) {
      s = { counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]) s.counts[i]++;
    s.sum += v;
    s.count++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.series) {
      const vals = k.split('\u0000');
      for (let i = 0; i < this.buckets.length; i++) {
        lines.push(`${this.name}_bucket${renderLabels(this.labelNames, vals, ['le', String(this.buckets[i])])} ${s.counts[i]}`);
      }
      lines.push(`${this.name}_bucket${renderLabels(this.labelNames, vals, ['le', '+Inf'])} ${s.count}`);
      lines.push(`${this.name}_sum${renderLabels(this.labelNames, vals)} ${s.sum}`);
      lines.push(`${this.name}_count${renderLabels(this.labelNames, vals)} ${s.count}`);
    }
    return lines.join('\n');
  }
}

export interface ServiceMetrics {
  decisions: Counter;
  checkDuration: Histogram;
  policyErrors: Counter;
  pinApiCalls: Counter;
  buildInfo: Gauge;
  /** Store health and budgets (docs/operations.md, "Redis", "Store budgets"). */
  storeUp: Gauge;
  storeBudgetExhausted: Counter;
  storeDataLost: Counter;
  unknownStateLimited: Counter;
  render(): string;
}

/** The service's metrics. `connection` is a registry name (bounded), never a request value. */
export function createMetrics(version: string): ServiceMetrics {
  const decisions = new Counter('callback_proxy_decisions_total', 'Authorization decisions by outcome', ['action', 'reason', 'connection', 'stage', 'transport']);
  const checkDuration = new Histogram('callback_proxy_check_duration_seconds', 'Time to answer one check, decode to encode', ['transport']);
  const policyErrors = new Counter('callback_proxy_policy_errors_total', 'Fail-closed denies caused by policy or pipeline failures', ['reason']);
  const pinApiCalls = new Counter('callback_proxy_pin_api_requests_total', 'Pin API calls by method and result', ['method', 'result']);
  const buildInfo = new Gauge('callback_proxy_build_info', 'Build information', ['version', 'node']);
  buildInfo.set({ version, node: process.version }, 1);
  const storeUp = new Gauge('callback_proxy_store_up', 'Whether the pin and replay store is usable (1) or not (0)', ['store']);
  const storeBudgetExhausted = new Counter('callback_proxy_store_budget_exhausted_total', 'Entries refused because their class budget (or the store memory) was full', ['class']);
  const storeDataLost = new Counter('callback_proxy_store_data_lost_total', 'Times the store was found to have lost data (a new epoch began)', ['cause']);
  const unknownStateLimited = new Counter('callback_proxy_unknown_state_limited_total', 'Callbacks denied rate_limited before the pin lookup', ['scope', 'connection']);
  const all = [decisions, checkDuration, policyErrors, pinApiCalls, buildInfo, storeUp, storeBudgetExhausted, storeDataLost, unknownStateLimited];
  return {
    decisions,
    checkDuration,
    policyErrors,
    pinApiCalls,
    buildInfo,
    storeUp,
    storeBudgetExhausted,
    storeDataLost,
    unknownStateLimited,
    render: () => `${all.map((m) => m.render()).join('\n')}\n`,
  };
}
