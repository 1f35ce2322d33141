// The service's metrics (docs/operations.md, "Metrics"), created through the OpenTelemetry Meter API and
// exported both ways (Prometheus pull on the admin listener, OTLP push). Names are already in Prometheus
// form — one `callback_proxy_` prefix, the base unit in the name (`_seconds`, `_bytes`, `_ratio`) — and
// counters are named without `_total`: the Prometheus exporter appends it. Every label is bounded by
// configuration (connection, stage, backend names, reason codes), never by a request value (T-L1).
import type { Attributes, Histogram, Meter } from '@opentelemetry/api';
import type { ConnectionConfig, Stage } from '../model/registry';

/** Latency buckets in seconds: the interesting range for a sub-millisecond authz check. */
export const CHECK_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** Store round trips: memory is microseconds, Redis on a LAN is ~0.2–2 ms, the command timeout 250 ms. */
export const STORE_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5];

/** A series cap per counter (defence in depth: every label is already bounded by configuration). */
const MAX_SERIES = 2000;
const OVERFLOW = '_overflow';

/**
 * A counter summed in-process and reported through an ObservableCounter. Why not a synchronous Counter:
 * the SDK hashes the attribute set on every `add` (sorted keys, JSON) — measured 2–3 µs per call with
 * five labels on this machine, several times the old hand-written registry — while this is one string
 * join and one Map lookup. The exported series are the same monotonic `_total` counters.
 */
export class LabelledCounter {
  private readonly series = new Map<string, { attrs: Attributes; value: number }>();

  constructor(meter: Meter, name: string, description: string, unit: string, private readonly labels: readonly string[]) {
    meter.createObservableCounter(name, { description, unit }).addCallback((r) => {
      for (const s of this.series.values()) r.observe(s.value, s.attrs);
    });
  }

  /** Adds `by` to the series with these label values (in the order of `labels`). */
  add(values: readonly string[], by = 1): void {
    const key = values.join('\u0000');
    let s = this.series.get(key);
    if (s === undefined) {
      const overflow = this.series.size >= MAX_SERIES;
      const attrs: Attributes = {};
      for (let i = 0; i < this.labels.length; i++) attrs[this.labels[i]] = overflow ? OVERFLOW : values[i];
      const k = overflow ? this.labels.map(() => OVERFLOW).join('\u0000') : key;
      s = this.series.get(k) ?? { attrs, value: 0 };
      this.series.set(k, s);
    }
    s.value += by;
  }

  /** The current value of one series (tests, the demo). */
  get(values: readonly string[]): number {
    return this.series.get(values.join('\u0000'))?.value ?? 0;
  }
}

/** One policy bundle's status as the gauges read it (the fields of OPA's bundle status). */
export interface BundleState {
  name: string;
  activeRevision: string | null;
  lastSuccessfulRequest: string | null;
  lastSuccessfulActivation: string | null;
  lastError: { code: string; at: string } | null;
  consecutiveErrors: number;
}

/** `active` (in use, last poll fine), `error` (in use, the last download or activation failed), `not_activated`. */
export function bundleState(b: BundleState): 'active' | 'error' | 'not_activated' {
  if (b.activeRevision === null) return 'not_activated';
  return b.consecutiveErrors > 0 ? 'error' : 'active';
}

/** What the callback gauges read at collection time; the app supplies it once everything is loaded. */
export interface ServiceState {
  /** The active policy revision and engine kind, null before load. */
  policy(): { revision: string; engine: string } | null;
  /** The active registry revision (a digest) and its connections, null before load. */
  registry(): { revision: string; connections: readonly ConnectionConfig[] } | null;
  /** Pins held by the store, when it can tell (memory: yes; Redis: no). */
  pinsOutstanding(): { store: string; count: number } | null;
  /** Readiness conditions by name. */
  readiness(): { ready: boolean; conditions: readonly { name: string; ok: boolean }[] };
  /** Epoch ms. */
  now(): number;
  /** The policy's bundles (empty for a Rego directory). */
  bundles?(): readonly BundleState[];
}

export type StoreKind = 'memory' | 'redis';
export type ReloadKind = 'policy' | 'registry';

/**
 * The share of new flows the stage sends to the legacy backend (docs/stages.md). The observed share of
 * traffic is a query over callback_proxy_decisions_total by backend; this is what the stage intends.
 */
export function legacyShare(c: Pick<ConnectionConfig, 'stage' | 'canary_percent'>): number {
  const byStage: Record<Stage, number> = { observe: 1, shadow: 1, rollback: 1, canary: 1 - c.canary_percent / 100, cutover: 0, retired: 0, decommissioned: 0 };
  return byStage[c.stage];
}

export class ServiceMetrics {
  readonly decisions: LabelledCounter;
  readonly policyErrors: LabelledCounter;
  readonly pinApiCalls: LabelledCounter;
  readonly storeOperations: LabelledCounter;
  readonly storeErrors: LabelledCounter;
  readonly jwksFetches: LabelledCounter;
  readonly reloads: LabelledCounter;
  /** Store health and budgets (docs/operations.md, "Redis", "Store budgets"). */
  readonly storeBudgetExhausted: LabelledCounter;
  readonly storeDataLost: LabelledCounter;
  readonly unknownStateLimited: LabelledCounter;
  /** Shadow policy comparisons (docs/operations.md, "Shadow policy"). */
  readonly shadowComparisons: LabelledCounter;
  private readonly storeUp = new Map<StoreKind, boolean>();
  private readonly checkDuration: Histogram;
  private readonly policyDuration: Histogram;
  private readonly storeDuration: Histogram;
  private readonly lastReload = new Map<ReloadKind, number>();
  /** Attribute objects reused per label value: `record` with a fresh object per call allocates for nothing. */
  private readonly transportAttrs: Record<string, Attributes> = {};
  private readonly outcomeAttrs: Record<string, Attributes> = {};
  private readonly storeAttrs: Record<string, Attributes> = {};
  private state: ServiceState | null = null;

  constructor(meter: Meter, version: string, nodeVersion: string) {
    this.decisions = new LabelledCounter(meter, 'callback_proxy_decisions', 'Authorization decisions by outcome', '{decision}', ['action', 'reason', 'connection', 'stage', 'transport', 'backend']);
    this.policyErrors = new LabelledCounter(meter, 'callback_proxy_policy_errors', 'Fail-closed denies caused by policy or pipeline failures', '{decision}', ['reason']);
    this.pinApiCalls = new LabelledCounter(meter, 'callback_proxy_pin_api_requests', 'Pin API calls by method and result', '{request}', ['method', 'result']);
    this.storeOperations = new LabelledCounter(meter, 'callback_proxy_store_operations', 'Pin and replay store operations', '{operation}', ['store', 'operation']);
    this.storeErrors = new LabelledCounter(meter, 'callback_proxy_store_errors', 'Store operations that failed (each one denies store_unavailable)', '{operation}', ['store', 'operation']);
    this.jwksFetches = new LabelledCounter(meter, 'callback_proxy_jwks_fetches', 'Remote JWKS fetches by result', '{fetch}', ['result']);
    this.reloads = new LabelledCounter(meter, 'callback_proxy_reloads', 'Policy and registry reloads by result (a failed one keeps the last good)', '{reload}', ['kind', 'result']);
    this.storeBudgetExhausted = new LabelledCounter(meter, 'callback_proxy_store_budget_exhausted', 'Entries refused because their class budget (or the store memory) was full', '{entry}', ['class']);
    this.storeDataLost = new LabelledCounter(meter, 'callback_proxy_store_data_lost', 'Times the store was found to have lost data (a new epoch began)', '{event}', ['cause']);
    this.unknownStateLimited = new LabelledCounter(meter, 'callback_proxy_unknown_state_limited', 'Callbacks denied rate_limited before the pin lookup', '{request}', ['scope', 'connection']);
    this.shadowComparisons = new LabelledCounter(meter, 'callback_proxy_shadow_comparisons', 'Decisions the shadow policy also made, by result (match, mismatch)', '{decision}', ['result']);
    // Series that exist from the start, so rate() and alerts see a 0 rather than nothing.
    for (const kind of ['policy', 'registry']) for (const result of ['success', 'failure']) this.reloads.add([kind, result], 0);
    for (const result of ['ok', 'http_error', 'network_error']) this.jwksFetches.add([result], 0);
    for (const method of ['CreatePin', 'MintState']) this.pinApiCalls.add([method, 'ok'], 0);
    this.checkDuration = meter.createHistogram('callback_proxy_check_duration_seconds', {
      description: 'Time to answer one check, decode to encode',
      unit: 's',
      advice: { explicitBucketBoundaries: CHECK_BUCKETS },
    });
    this.policyDuration = meter.createHistogram('callback_proxy_policy_evaluation_duration_seconds', {
      description: 'Policy evaluation time by outcome (ok, policy_error, policy_timeout, policy_undefined)',
      unit: 's',
      advice: { explicitBucketBoundaries: CHECK_BUCKETS },
    });
    this.storeDuration = meter.createHistogram('callback_proxy_store_operation_duration_seconds', {
      description: 'Pin and replay store round trips',
      unit: 's',
      advice: { explicitBucketBoundaries: STORE_BUCKETS },
    });
    this.gauges(meter, version, nodeVersion);
  }

  /** Connects the callback gauges to the running service. */
  setState(state: ServiceState): void {
    this.state = state;
  }

  decision(action: string, reason: string, connection: string, stage: string, transport: string, backend: string): void {
    this.decisions.add([action, reason, connection, stage, transport, backend]);
  }

  checkSeconds(transport: string, seconds: number): void {
    this.checkDuration.record(seconds, (this.transportAttrs[transport] ??= { transport }));
  }

  policyFailure(reason: string): void {
    this.policyErrors.add([reason]);
  }

  /** Declares the failure reasons (at 0) so their series exist before the first failure. */
  declarePolicyFailures(reasons: Iterable<string>): void {
    for (const r of reasons) this.policyErrors.add([r], 0);
  }

  /** Declares a store's operations (at 0, with their error counters). */
  declareStoreOperations(store: StoreKind, operations: readonly string[]): void {
    for (const op of operations) {
      this.storeOperations.add([store, op], 0);
      this.storeErrors.add([store, op], 0);
    }
  }

  policyEvaluation(outcome: string, seconds: number): void {
    this.policyDuration.record(seconds, (this.outcomeAttrs[outcome] ??= { outcome }));
  }

  pinApiCall(method: string, result: string): void {
    this.pinApiCalls.add([method, result]);
  }

  storeOperation(store: StoreKind, operation: string, ok: boolean, seconds: number): void {
    this.storeOperations.add([store, operation]);
    if (!ok) this.storeErrors.add([store, operation]);
    this.storeDuration.record(seconds, (this.storeAttrs[`${store}:${operation}`] ??= { store, operation }));
  }

  jwksFetch(result: 'ok' | 'http_error' | 'network_error'): void {
    this.jwksFetches.add([result]);
  }

  reload(kind: ReloadKind, ok: boolean, nowMs: number): void {
    this.reloads.add([kind, ok ? 'success' : 'failure']);
    if (ok) this.lastReload.set(kind, nowMs);
  }

  /** The store's usability as its watcher sees it (server/store-watch.ts). */
  setStoreUp(store: StoreKind, up: boolean): void {
    this.storeUp.set(store, up);
  }

  /** Marks the first load, so the last-success timestamp exists from the start. */
  loaded(kind: ReloadKind, nowMs: number): void {
    this.lastReload.set(kind, nowMs);
  }

  private gauges(meter: Meter, version: string, nodeVersion: string): void {
    const gauge = (name: string, description: string, unit: string, cb: (observe: (v: number, a?: Attributes) => void, s: ServiceState) => void): void => {
      meter.createObservableGauge(name, { description, unit }).addCallback((r) => {
        if (this.state) cb((v, a) => r.observe(v, a), this.state);
      });
    };
    meter.createObservableGauge('callback_proxy_build_info', { description: 'Build information' }).addCallback((r) => r.observe(1, { version, node: nodeVersion }));
    gauge('callback_proxy_policy_info', 'The active policy: revision and engine (value 1)', '', (o, s) => {
      const p = s.policy();
      if (p) o(1, { revision: p.revision, engine: p.engine });
    });
    gauge('callback_proxy_registry_info', 'The active migration registry: revision digest (value 1)', '', (o, s) => {
      const r = s.registry();
      if (r) o(1, { revision: r.revision });
    });
    meter.createObservableGauge('callback_proxy_last_reload_success_timestamp_seconds', { description: 'When the policy or registry was last loaded successfully', unit: 's' }).addCallback((r) => {
      for (const [kind, ms] of this.lastReload) r.observe(ms / 1000, { kind });
    });
    gauge('callback_proxy_connection_stage', 'The current stage of each connection (value 1)', '', (o, s) => {
      for (const c of s.registry()?.connections ?? []) o(1, { connection: c.name, stage: c.stage });
    });
    gauge('callback_proxy_connection_legacy_share_ratio', 'Share of new flows the stage sends to the legacy backend', '1', (o, s) => {
      for (const c of s.registry()?.connections ?? []) o(legacyShare(c), { connection: c.name });
    });
    gauge('callback_proxy_connection_past_sunset_seconds', 'Seconds since sunset_at (negative before it); absent without sunset_at', 's', (o, s) => {
      const now = s.now();
      for (const c of s.registry()?.connections ?? []) if (c.sunset_at !== undefined) o((now - c.sunset_at) / 1000, { connection: c.name });
    });
    gauge('callback_proxy_pins_outstanding', 'Pins held by the store, consumed ones included until their TTL (approximate; memory store only)', '{pin}', (o, s) => {
      const p = s.pinsOutstanding();
      if (p) o(p.count, { store: p.store });
    });
    gauge('callback_proxy_ready', 'Whether the service reports ready (1) or not (0)', '', (o, s) => o(s.readiness().ready ? 1 : 0));
    gauge('callback_proxy_readiness_condition', 'Each readiness condition: 1 ok, 0 failing', '', (o, s) => {
      for (const c of s.readiness().conditions) o(c.ok ? 1 : 0, { condition: c.name });
    });
    const seconds = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso) / 1000);
    gauge('callback_proxy_bundle_info', 'Each policy bundle: revision in use, state (active, error, not_activated) and last error code (value 1)', '', (o, s) => {
      for (const b of s.bundles?.() ?? []) o(1, { name: b.name, revision: b.activeRevision ?? '', state: bundleState(b), error: b.lastError?.code ?? '' });
    });
    gauge('callback_proxy_bundle_last_success_timestamp_seconds', 'When each bundle was last activated', 's', (o, s) => {
      for (const b of s.bundles?.() ?? []) {
        const t = seconds(b.lastSuccessfulActivation);
        if (t !== null) o(t, { name: b.name });
      }
    });
    gauge('callback_proxy_bundle_last_request_success_timestamp_seconds', 'When the bundle source last answered (a download or a 304)', 's', (o, s) => {
      for (const b of s.bundles?.() ?? []) {
        const t = seconds(b.lastSuccessfulRequest);
        if (t !== null) o(t, { name: b.name });
      }
    });
    gauge('callback_proxy_bundle_last_failure_timestamp_seconds', 'When a download or activation of each bundle last failed', 's', (o, s) => {
      for (const b of s.bundles?.() ?? []) {
        const t = seconds(b.lastError?.at ?? null);
        if (t !== null) o(t, { name: b.name });
      }
    });
    gauge('callback_proxy_bundle_consecutive_errors', 'Failed downloads or activations of each bundle since its last success', '{error}', (o, s) => {
      for (const b of s.bundles?.() ?? []) o(b.consecutiveErrors, { name: b.name });
    });
    meter.createObservableGauge('callback_proxy_store_up', { description: 'Whether the pin and replay store is usable (1) or not (0)' }).addCallback((r) => {
      for (const [store, up] of this.storeUp) r.observe(up ? 1 : 0, { store });
    });
    meter.createObservableGauge('callback_proxy_redis_up', { description: 'Whether the Redis store is reachable and usable (1) or not (0); absent without Redis' }).addCallback((r) => {
      const up = this.storeUp.get('redis');
      if (up !== undefined) r.observe(up ? 1 : 0);
    });
  }
}
