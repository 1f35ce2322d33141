// Telemetry around the pipeline's dependencies (docs/operations.md, "Metrics" and "Traces"): decorators
// for the policy engine, the pin and replay stores and the JWKS fetch, so the modules they wrap stay
// free of telemetry. Each records a duration, a count and — inside a traced check — a child span. A
// decorator never changes a result and never throws anything its target did not.
import type { Attributes } from '@opentelemetry/api';
import type { EngineResult, EvalOptions, PolicyEngine } from '../policy/engine';
import type { Marker, MarkerKey, PinRecord, PinStore, ReplayStore } from '../store/types';
import type { JwksFetch } from './tokens/issuer-registry';
import type { ServiceMetrics, StoreKind } from '../telemetry/service-metrics';
import { phase, phaseSync } from '../telemetry/phase';

const seconds = (from: bigint): number => Number(process.hrtime.bigint() - from) / 1e9;

const policyFailure = (r: EngineResult | Promise<EngineResult>): string | null => (r instanceof Promise || r.ok ? null : r.code);

/** The policy engine, timed per evaluation (callback_proxy_policy_evaluation_duration_seconds) and traced. */
export function instrumentEngine(engine: PolicyEngine, metrics: ServiceMetrics): PolicyEngine {
  const policyAttrs = (): Attributes => ({ 'callback.policy.engine': engine.kind, 'callback.policy.revision': engine.revision });
  const record = (r: EngineResult, t0: bigint): EngineResult => {
    metrics.policyEvaluation(r.ok ? 'ok' : r.code, seconds(t0));
    return r;
  };
  const evaluate = (input: unknown, opts?: EvalOptions): EngineResult | Promise<EngineResult> => {
    const t0 = process.hrtime.bigint();
    const r = engine.evaluate(input, opts);
    // An async engine (shadow, wasm) is timed to its settlement; its failures stay the pipeline's.
    return r instanceof Promise ? r.then((v) => record(v, t0)) : record(r, t0);
  };
  return {
    get kind() {
      return engine.kind;
    },
    get decisionPath() {
      return engine.decisionPath;
    },
    get revision() {
      return engine.revision;
    },
    get bundles() {
      return engine.bundles;
    },
    evaluatePath: engine.evaluatePath ? (path, input) => engine.evaluatePath!(path, input) : undefined,
    evaluate: (input, opts) => phaseSync('callback.policy', policyAttrs, () => evaluate(input, opts), policyFailure),
    close: () => engine.close(),
  };
}

const storeAttrs = new Map<string, () => Attributes>();
function storeSpanAttrs(store: StoreKind, operation: string): () => Attributes {
  const key = `${store}:${operation}`;
  let f = storeAttrs.get(key);
  if (f === undefined) {
    const a: Attributes = { 'callback.store': store, 'callback.store.operation': operation };
    if (store === 'redis') a['db.system.name'] = 'redis';
    f = () => a;
    storeAttrs.set(key, f);
  }
  return f;
}

/** Times, counts and traces one store call; a rejection is counted as an error and re-thrown. */
function storeCall<T>(metrics: ServiceMetrics, store: StoreKind, operation: string, fn: () => Promise<T>): Promise<T> {
  return phase(`callback.store ${operation}`, storeSpanAttrs(store, operation), async () => {
    const t0 = process.hrtime.bigint();
    try {
      const v = await fn();
      metrics.storeOperation(store, operation, true, seconds(t0));
      return v;
    } catch (e) {
      metrics.storeOperation(store, operation, false, seconds(t0));
      throw e;
    }
  });
}

export function instrumentPinStore(s: PinStore, kind: StoreKind, metrics: ServiceMetrics): PinStore {
  metrics.declareStoreOperations(kind, ['pin_put', 'pin_get']);
  return {
    put: (pin: PinRecord, ttlMs: number) => storeCall(metrics, kind, 'pin_put', () => s.put(pin, ttlMs)),
    get: (hash: string) => storeCall(metrics, kind, 'pin_get', () => s.get(hash)),
    setBudgets: (b) => s.setBudgets(b),
    close: () => s.close(),
  };
}

export function instrumentReplayStore(s: ReplayStore, kind: StoreKind, metrics: ServiceMetrics): ReplayStore {
  metrics.declareStoreOperations(kind, ['replay_peek', 'replay_commit']);
  return {
    peek: (keys: readonly MarkerKey[]) => storeCall(metrics, kind, 'replay_peek', () => s.peek(keys)),
    commit: (markers: readonly Marker[]) => storeCall(metrics, kind, 'replay_commit', () => s.commit(markers)),
    epochStartMs: (ns) => s.epochStartMs(ns),
    setBudgets: (b) => s.setBudgets(b),
    close: () => s.close(),
  };
}

/** The JWKS fetch (global fetch unless given), counted by result and traced. */
export function instrumentJwksFetch(metrics: ServiceMetrics, inner?: JwksFetch): JwksFetch {
  const f: JwksFetch = inner ?? ((url, init) => fetch(url, init));
  return (url, init) =>
    phase('callback.jwks fetch', undefined, async () => {
      try {
        const r = await f(url, init);
        metrics.jwksFetch(r.ok ? 'ok' : 'http_error');
        return r;
      } catch (e) {
        metrics.jwksFetch('network_error');
        throw e;
      }
    });
}
