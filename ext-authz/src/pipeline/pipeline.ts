// The decision pipeline (docs/architecture.md, "A callback, step by step"): request → facts → policy input → policy → decision validation →
// defense in depth → commit (one-time markers, only when the request is forwarded) → result. Never
// throws for a request and never allows on failure (docs/architecture.md, "Fail closed").
import { randomUUID } from 'node:crypto';
import type { ConnectionConfig } from '../model/registry';
import { denyDecision, validateDecision } from '../policy/decision';
import type { DecisionContext } from '../policy/decision';
import type { EngineResult, PolicyEngine } from '../policy/engine';
import { commitOneTime, forwards } from './commit';
import { cookieHintHeader, gatherFacts } from './facts/gather';
import type { FactsDeps, GatheredFacts } from './facts/gather';
import type { ReasonCode } from '../model/reasons';
import type { Decision, PipelineResult } from '../model/decision';
import type { DecisionEvent } from '../model/decision';
import type { PolicyInput } from '../model/facts';
import type { RequestView } from '../model/request';
import { phase } from '../telemetry/phase';

const INPUT_VERSION: PolicyInput['version'] = Object.freeze({ ext_authz: 'v3', encoding: 'protojson' }) as PolicyInput['version'];
const FLOW_KINDS: ReadonlySet<string> = new Set(['oauth_query', 'oidc_form_post', 'saml_post']);

export interface PipelineDeps {
  /** The current facts dependencies (swapped when the registry reloads). */
  factsDeps: () => FactsDeps;
  engine: PolicyEngine;
  /** Epoch ms; tests pin it. */
  clock?: () => number;
}

const elapsed = (from: bigint, to: bigint): number => Number(to - from);

/** Engines promise not to throw; one that does (or rejects) still fails closed. */
function engineThrew(e: unknown): EngineResult {
  return { ok: false, code: 'policy_error', detail: e instanceof Error ? e.name : 'engine threw' };
}

export class Pipeline {
  private readonly clock: () => number;
  private readonly backendSets = new WeakMap<ConnectionConfig, ReadonlySet<string>>();
  private readonly reservedSets = new WeakMap<FactsDeps, ReadonlySet<string>>();

  constructor(private readonly deps: PipelineDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  get engine(): PolicyEngine {
    return this.deps.engine;
  }

  /**
   * Decides one request. `attributesJson` is the CheckRequest attributes as protojson (the adapters build
   * it: from the CheckRequest over gRPC, from the request view over HTTP), the policy's `input.attributes`.
   */
  decide(req: RequestView, attributesJson: unknown, decisionId: string = randomUUID()): Promise<PipelineResult> {
    // No catch here: an exception below is a bug, and the check core (the outermost fail-closed
    // boundary) turns it into an internal_error deny and logs it once with this decision id.
    return this.run(req, attributesJson, process.hrtime.bigint(), decisionId);
  }

  private async run(req: RequestView, attributesJson: unknown, t0: bigint, decisionId: string): Promise<PipelineResult> {
    const factsDeps = this.deps.factsDeps();
    const nowMs = this.clock();
    // A child span of the check when tracing (store and JWKS spans nest under it); a plain call otherwise.
    const facts = await phase('callback.facts', undefined, () => gatherFacts(req, factsDeps, nowMs));
    const t1 = process.hrtime.bigint();
    const engine = this.deps.engine;
    const event: Omit<DecisionEvent, 'decision' | 'timings'> = {
      decisionId, requestId: req.requestId, engine: engine.kind, path: engine.decisionPath, revision: engine.revision,
      bundles: engine.bundles, input: null, result: undefined, engineError: null, problem: null,
    };

    if (facts.connection === null || facts.input.migration === null) {
      // No connection: nothing to route to, so the policy is not asked (threat model T-H1).
      const v = facts.input.callback.violations;
      const reason: ReasonCode = v.length === 0 || v.includes('host_not_allowed') ? 'host_not_allowed' : v[0];
      return this.finish(event, denyDecision([reason]), facts, t0, t1, process.hrtime.bigint());
    }

    // Object.assign, not `{ attributes, ...facts.input, version }`: same keys in the same order, but
    // spread-then-more-properties measured several µs on Node 20, this well under one.
    const input = Object.assign({ attributes: attributesJson }, facts.input) as PolicyInput;
    input.version = INPUT_VERSION;
    event.input = input;
    // The Rego engine answers synchronously: await only an engine that returns a promise.
    const pending = this.evaluate(engine, input, decisionId);
    const evaluated = pending instanceof Promise ? await pending : pending;
    const ctx = this.decisionContext(factsDeps, facts.connection, input);
    let decision: Decision;
    let extraRemove: string[] = [];
    if (evaluated.ok) {
      event.result = evaluated.value;
      const v = validateDecision(evaluated.value, ctx);
      decision = v.decision;
      extraRemove = v.requestHeadersToRemove;
      event.problem = v.problem;
    } else {
      event.engineError = evaluated.code;
      event.problem = evaluated.detail;
      decision = denyDecision([evaluated.code]);
    }
    const enforced = enforcePinAndViolations(decision, input);
    if (enforced !== decision) event.problem = event.problem ?? 'policy decision overridden by defense in depth';
    decision = this.loginStartHint(enforced, input, factsDeps, facts.connection, nowMs);
    // Last: consume the one-time markers, all or none, only if the request goes upstream.
    if (facts.markers.length > 0 && forwards(decision)) {
      const committed = await commitOneTime(decision, facts.markers, factsDeps.replayStore);
      if (committed.decision !== decision) {
        decision = committed.decision;
        event.problem = event.problem ?? committed.problem;
      }
    }
    const t2 = process.hrtime.bigint();
    const result = this.finish(event, decision, facts, t0, t1, t2);
    if (extraRemove.length > 0) result.headersToRemove = [...new Set([...result.headersToRemove, ...extraRemove])];
    return result;
  }

  private evaluate(engine: PolicyEngine, input: PolicyInput, decisionId: string): EngineResult | Promise<EngineResult> {
    try {
      const r = engine.evaluate(input, { nowNs: input.now.ns, decisionId });
      return r instanceof Promise ? r.catch(engineThrew) : r;
    } catch (e) {
      return engineThrew(e);
    }
  }

  private decisionContext(deps: FactsDeps, conn: ConnectionConfig, input: PolicyInput): DecisionContext {
    let backends = this.backendSets.get(conn);
    if (!backends) {
      backends = new Set(conn.backends.map((b) => b.id));
      this.backendSets.set(conn, backends);
    }
    let reserved = this.reservedSets.get(deps);
    if (!reserved) {
      reserved = new Set([deps.registry.routing_header.toLowerCase()]);
      this.reservedSets.set(deps, reserved);
    }
    const pin = input.pin;
    const pinned = pin.found && !pin.expired && !pin.consumed_before && pin.error === null && pin.backend !== null;
    const legacy = input.migration?.legacy ?? null;
    return { backends, reserved, defaultBackend: pinned ? pin.backend : legacy };
  }

  /**
   * Canary login start: the chosen backend goes into the MAC'd cookie hint (docs/architecture.md, "Pins" way 4).
   * `decision.pin` itself is written by whoever sees the backend's 302 (ext_proc, the Pin API): an
   * ext_authz check never sees the response that carries the new state.
   */
  private loginStartHint(d: Decision, input: PolicyInput, deps: FactsDeps, conn: ConnectionConfig, nowMs: number): Decision {
    if (d.action === 'deny' || d.backend === null || input.callback.kind !== 'login_start') return d;
    if (input.migration?.stage !== 'canary' || d.response_headers['set-cookie'] !== undefined) return d;
    const cookie = cookieHintHeader(deps, conn.name, d.backend, nowMs);
    if (cookie === null) return d;
    return { ...d, response_headers: { ...d.response_headers, 'set-cookie': cookie } };
  }

  private finish(
    event: Omit<DecisionEvent, 'decision' | 'timings'>,
    decision: Decision,
    facts: GatheredFacts,
    t0: bigint,
    t1: bigint,
    t2: bigint,
  ): PipelineResult {
    const timings = { facts: elapsed(t0, t1), policy: elapsed(t1, t2), total: elapsed(t0, process.hrtime.bigint()) };
    return { decision, decisionId: event.decisionId, connection: facts.connection, headersToRemove: facts.headersToRemove, timings, event: { ...event, decision, timings } };
  }
}

/**
 * Defense in depth: rules TypeScript enforces whatever the policy says (a permissive or buggy policy,
 * or an OPA-Envoy policy that knows nothing of pins, cannot route around them).
 *  1. The strict parser rejected the request → deny with its first violation.
 *  2. A pinned flow's state was replayed, expired or failed verification → deny (T-S3..T-S5).
 *  3. A valid pin names a backend → the request goes there or nowhere (docs/architecture.md, "Pins").
 */
export function enforcePinAndViolations(d: Decision, input: PolicyInput): Decision {
  if (d.action === 'deny') return d;
  const meta = d.dynamic_metadata;
  const violations = input.callback.violations;
  if (violations.length > 0) return denyDecision([violations[0], 'policy_ignored_violation'], meta);
  const pin = input.pin;
  if (FLOW_KINDS.has(input.callback.kind)) {
    if (pin.error !== null) return denyDecision([pin.error, 'policy_ignored_violation'], meta);
    if (pin.found && pin.consumed_before) return denyDecision(['state_replayed', 'policy_ignored_violation'], meta);
    if (pin.found && pin.expired) return denyDecision(['state_expired', 'policy_ignored_violation'], meta);
  }
  if (pin.found && pin.backend !== null && d.backend !== pin.backend) return denyDecision(['policy_ignored_violation'], meta);
  return d;
}
