// The SLO guard (docs/stages.md, "The SLO guard"): per connection, a ring of time buckets counting the
// flow callbacks that belong to the new backend and those denied for a broken-login reason. The hot path
// increments two numbers; a timer evaluates the window and reports a breach with its evidence.
import type { PipelineResult } from '../model/decision';
import type { GuardConfig, RegistryConfig } from '../model/registry';
import { attributedBackend, denyReason, isFlowCallback } from './decision-view';
import { effectiveValues } from './overrides';
import type { StageOverride } from './overrides';

/** Buckets per window (at most; never narrower than 1 s): the window slides in steps of window_s / n. */
const BUCKETS = 30;

interface Ring {
  config: GuardConfig;
  reasons: ReadonlySet<string>;
  newBackend: string;
  n: number;
  widthMs: number;
  ids: number[];
  total: number[];
  broken: number[];
  /** reason → count, per bucket (only broken denies: a handful of codes). */
  byReason: Map<string, number>[];
}

export interface GuardEvidence {
  window_s: number;
  callbacks_new: number;
  denied_broken: number;
  ratio: number;
  deny_ratio: number;
  min_callbacks: number;
  reasons: Record<string, number>;
  since: string;
  until: string;
}

export interface GuardTarget {
  connection: string;
  config: GuardConfig;
  newBackend: string;
}

/** Stages in which new flows reach the new backend: the ones the guard watches. */
const GUARDED_STAGES: ReadonlySet<string> = new Set(['canary', 'cutover']);

/** The guards to install: connections with a `guard` whose effective stage is guarded. */
export function guardTargets(reg: RegistryConfig, overrides: ReadonlyMap<string, StageOverride>): GuardTarget[] {
  const out: GuardTarget[] = [];
  for (const c of reg.connections) {
    const neu = c.backends.find((b) => b.role === 'new');
    if (c.guard && neu && GUARDED_STAGES.has(effectiveValues(c, overrides.get(c.name)).stage)) out.push({ connection: c.name, config: c.guard, newBackend: neu.id });
  }
  return out;
}

export class SloGuard {
  private readonly rings = new Map<string, Ring>();

  /** Installs the guards of the connections that have one (and are in a guarded stage); drops the rest. */
  configure(targets: readonly GuardTarget[]): void {
    const keep = new Set<string>();
    for (const t of targets) {
      keep.add(t.connection);
      const cur = this.rings.get(t.connection);
      if (cur && cur.config === t.config && cur.newBackend === t.newBackend) continue;
      this.rings.set(t.connection, newRing(t));
    }
    for (const name of [...this.rings.keys()]) if (!keep.has(name)) this.rings.delete(name);
  }

  /** Forgets a connection's window (after its stage changed: the old stage's denies are not evidence). */
  reset(connection: string): void {
    const r = this.rings.get(connection);
    if (r) this.rings.set(connection, newRing({ connection, config: r.config, newBackend: r.newBackend }));
  }

  /** Hot path. */
  observe(result: PipelineResult, now: number): void {
    if (this.rings.size === 0 || result.connection === null) return;
    const r = this.rings.get(result.connection.name);
    if (r === undefined || !isFlowCallback(result) || attributedBackend(result) !== r.newBackend) return;
    const id = Math.floor(now / r.widthMs);
    const i = id % r.n;
    if (r.ids[i] !== id) {
      r.ids[i] = id;
      r.total[i] = 0;
      r.broken[i] = 0;
      r.byReason[i].clear();
    }
    r.total[i]++;
    const deny = denyReason(result);
    if (deny !== null && r.reasons.has(deny)) {
      r.broken[i]++;
      r.byReason[i].set(deny, (r.byReason[i].get(deny) ?? 0) + 1);
    }
  }

  /** The connections whose window is in breach now, with the evidence. */
  breaches(now: number): { connection: string; evidence: GuardEvidence }[] {
    const out: { connection: string; evidence: GuardEvidence }[] = [];
    for (const [connection, r] of this.rings) {
      const e = evidence(r, now);
      if (e.callbacks_new >= r.config.min_callbacks && e.ratio > r.config.deny_ratio) out.push({ connection, evidence: e });
    }
    return out;
  }

  /** The current window of a connection (the cockpit shows it); null without a guard. */
  window(connection: string, now: number): GuardEvidence | null {
    const r = this.rings.get(connection);
    return r ? evidence(r, now) : null;
  }
}

function newRing(t: GuardTarget): Ring {
  const n = Math.max(1, Math.min(BUCKETS, t.config.window_s));
  return {
    config: t.config,
    reasons: new Set(t.config.reasons),
    newBackend: t.newBackend,
    n,
    widthMs: Math.ceil((t.config.window_s * 1000) / n),
    ids: new Array<number>(n).fill(-1),
    total: new Array<number>(n).fill(0),
    broken: new Array<number>(n).fill(0),
    byReason: Array.from({ length: n }, () => new Map<string, number>()),
  };
}

function evidence(r: Ring, now: number): GuardEvidence {
  const current = Math.floor(now / r.widthMs);
  const oldest = current - r.n + 1;
  let total = 0;
  let broken = 0;
  const reasons: Record<string, number> = {};
  for (let i = 0; i < r.n; i++) {
    if (r.ids[i] < oldest || r.ids[i] > current) continue;
    total += r.total[i];
    broken += r.broken[i];
    for (const [k, n] of r.byReason[i]) reasons[k] = (reasons[k] ?? 0) + n;
  }
  return {
    window_s: r.config.window_s,
    callbacks_new: total,
    denied_broken: broken,
    ratio: total === 0 ? 0 : broken / total,
    deny_ratio: r.config.deny_ratio,
    min_callbacks: r.config.min_callbacks,
    reasons,
    since: new Date(oldest * r.widthMs).toISOString(),
    until: new Date(now).toISOString(),
  };
}
