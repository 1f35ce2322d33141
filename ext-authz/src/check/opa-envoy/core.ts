// The check core of `--mode opa-envoy` (docs/architecture.md, "OPA-Envoy mode"): a drop-in for
// opa-envoy-plugin. No callback facts, no registry, no pins and no stages: the CheckRequest becomes the
// plugin's input document (input.ts), the policy is evaluated at the decision path, and its answer is read
// by the plugin's decision rules (decision.ts). Like the callback mode's check core it is the outermost
// fail-closed boundary: it never throws, and every failure (unreadable request, policy error, undefined
// or ill-typed decision, a bug) is a deny with a reason code (docs/reason-codes.md). dry-run never
// overrides a failure, as in the plugin, where a failure is an error Envoy denies.
import { randomUUID } from 'node:crypto';
import type { PolicyEngine } from '../../policy/engine';
import type { ReasonCode } from '../../model/reasons';
import type { Logger } from '../../telemetry/logger';
import type { ServiceMetrics } from '../../telemetry/service-metrics';
import type { DecisionLogger } from '../../telemetry/decision-log';
import { describeError } from '../../telemetry/redact';
import type { CheckSpan, CheckTracing, TraceInput } from '../../telemetry/tracing';
import type { DecodedCheckRequest } from '../check-request-types';
import { buildOpaEnvoyInput } from './input';
import { interpretOpaEnvoyDecision } from './decision';
import type { OpaEnvoyResult } from './decision';

export type OpaEnvoyTransport = 'grpc' | 'http';

/** The plugin's options that change a check (plugins.envoy_ext_authz_grpc `dry-run`, `skip-request-body-parse`). */
export interface OpaEnvoySettings {
  dryRun?: boolean;
  skipRequestBodyParse?: boolean;
}

/** Failures, each a reason code; the HTTP status of the deny is the reason table's. */
export type OpaEnvoyFailure = Extract<ReasonCode, 'malformed_request' | 'policy_error' | 'policy_timeout' | 'policy_undefined' | 'invalid_decision' | 'authz_unavailable' | 'internal_error'>;

/** One check's outcome: the plugin's answer, or a coded failure (always a deny). */
export type OpaEnvoyCheck =
  | { decisionId: string; ok: true; result: OpaEnvoyResult }
  | { decisionId: string; ok: false; reason: OpaEnvoyFailure };

export interface OpaEnvoyCoreOptions {
  /** The loaded policy engine, or null while loading / draining (→ authz_unavailable). */
  engine: () => PolicyEngine | null;
  settings: OpaEnvoySettings;
  logger: Logger;
  /** Absent for a one-shot check (`callback-proxy check --mode opa-envoy`). */
  metrics?: ServiceMetrics;
  decisionLog: DecisionLogger | null;
  /** The decision path as configured (`envoy/authz/allow`), for the decision log. */
  decisionPath: string;
  /** Spans per check, as in the callback mode; absent or disabled → no span work. */
  tracing?: CheckTracing;
}

/** The failures that mean our machinery (not the request) failed: policy_errors_total. */
const FAILURES: ReadonlySet<string> = new Set<OpaEnvoyFailure>(['policy_error', 'policy_timeout', 'policy_undefined', 'invalid_decision', 'authz_unavailable', 'internal_error']);

function nowNs(): string {
  return (BigInt(Date.now()) * 1_000_000n).toString();
}

export class OpaEnvoyCore {
  constructor(private readonly opts: OpaEnvoyCoreOptions) {
    opts.metrics?.declarePolicyFailures(FAILURES);
  }

  /** Whether checks get spans: transports only gather trace headers when they do. */
  get traced(): boolean {
    return this.opts.tracing?.enabled === true;
  }

  /** Runs one check; never rejects. `request` may be a thunk (an adapter) so its failures stay inside. */
  run(request: DecodedCheckRequest | (() => DecodedCheckRequest | null), transport: OpaEnvoyTransport, t0: bigint, trace?: TraceInput): Promise<OpaEnvoyCheck> {
    const span = this.opts.tracing?.enabled ? this.opts.tracing.start(transport, trace) : null;
    if (span === null) return this.decide(request, transport, t0, null);
    return this.opts.tracing!.within(span, () => this.decide(request, transport, t0, span));
  }

  private async decide(request: DecodedCheckRequest | (() => DecodedCheckRequest | null), transport: OpaEnvoyTransport, t0: bigint, span: CheckSpan | null): Promise<OpaEnvoyCheck> {
    const decisionId = randomUUID();
    let input: Record<string, unknown> | undefined;
    let policyValue: unknown;
    let evalNs = 0;
    let detail: string | undefined;
    let check: OpaEnvoyCheck;
    let engine: PolicyEngine | null = null;
    try {
      const req = typeof request === 'function' ? request() : request;
      engine = this.opts.engine();
      if (req === null) check = { decisionId, ok: false, reason: 'malformed_request' };
      else if (engine === null) check = { decisionId, ok: false, reason: 'authz_unavailable' };
      else {
        const built = buildOpaEnvoyInput(req, { skipRequestBodyParse: this.opts.settings.skipRequestBodyParse });
        if (!built.ok) {
          // The plugin answers 400 (docs/reason-codes.md malformed_request); the detail is for operators only.
          check = { decisionId, ok: false, reason: 'malformed_request' };
          detail = built.detail;
        } else {
          input = built.input;
          const e0 = process.hrtime.bigint();
          const r = await engine.evaluate(input, { nowNs: nowNs(), decisionId });
          evalNs = Number(process.hrtime.bigint() - e0);
          if (!r.ok) {
            check = { decisionId, ok: false, reason: r.code };
            detail = r.detail;
          } else {
            policyValue = r.value;
            const out = interpretOpaEnvoyDecision(r.value, { decisionId, dryRun: this.opts.settings.dryRun === true });
            if (out.ok) check = { decisionId, ok: true, result: out.result };
            else {
              check = { decisionId, ok: false, reason: out.code === 'decision_undefined' ? 'policy_undefined' : 'invalid_decision' };
              detail = out.detail;
            }
          }
        }
      }
    } catch (e) {
      check = { decisionId, ok: false, reason: 'internal_error' };
      this.reportFailure(e, decisionId, transport);
    }
    this.record(check, transport, t0, span, { input, policyValue, evalNs, detail, engine });
    return check;
  }

  /** Logs a failure of one check once (class, code, stack; never the message, which may quote the request). */
  reportFailure(e: unknown, decisionId: string, transport: OpaEnvoyTransport): void {
    try {
      this.opts.logger.error({ event: 'check_failed', mode: 'opa-envoy', decision_id: decisionId, transport, ...describeError(e) }, 'check failed; denied internal_error');
    } catch {
      // a logger that throws must not turn into a failed check
    }
  }

  private record(
    check: OpaEnvoyCheck,
    transport: OpaEnvoyTransport,
    t0: bigint,
    span: CheckSpan | null,
    ctx: { input?: Record<string, unknown>; policyValue: unknown; evalNs: number; detail?: string; engine: PolicyEngine | null },
  ): void {
    try {
      const elapsedNs = Number(process.hrtime.bigint() - t0);
      const allowed = check.ok && check.result.allowed;
      const reason = check.ok ? (check.result.policyAllowed ? 'opa_envoy_allowed' : 'opa_envoy_denied') : check.reason;
      const m = this.opts.metrics;
      if (m) {
        m.decision(allowed ? 'allow' : 'deny', reason, 'none', 'none', transport, 'none');
        m.checkSeconds(transport, elapsedNs / 1e9);
        if (!check.ok && FAILURES.has(check.reason)) m.policyFailure(check.reason);
      }
      if (span !== null) {
        this.opts.tracing!.finish(
          span,
          { decisionId: check.decisionId, action: allowed ? 'allow' : 'deny', reasons: [reason], connection: 'none', stage: 'none', backend: null, policyRevision: ctx.engine?.revision ?? null, engine: ctx.engine?.kind ?? null, failure: !check.ok && FAILURES.has(check.reason) ? check.reason : null },
          transport === 'grpc' ? 'OK' : undefined,
        );
      }
      const denied = !allowed || (check.ok && check.result.dryRunOverride);
      const level = denied ? 'info' : 'debug';
      if (this.opts.logger.isLevelEnabled(level)) {
        this.opts.logger[level](
          {
            event: 'decision',
            mode: 'opa-envoy',
            decision_id: check.decisionId,
            action: allowed ? 'allow' : 'deny',
            reason,
            dry_run: check.ok && check.result.dryRunOverride ? 'would_deny' : undefined,
            // Engine text for operators, as the callback mode logs it; the input parser's text may quote the
            // request, so it is left out (docs/threat-model.md T-L1).
            problem: !check.ok && check.reason !== 'malformed_request' ? ctx.detail : undefined,
            transport,
            duration_us: Math.round(elapsedNs / 1000),
          },
          check.ok && check.result.dryRunOverride ? 'dry-run: the policy denied; allowed' : 'decision',
        );
      }
      this.opts.decisionLog?.logOpaEnvoy({
        decisionId: check.decisionId,
        path: this.opts.decisionPath,
        input: ctx.input,
        result: check.ok ? ctx.policyValue : undefined,
        error: check.ok ? undefined : check.reason,
        problem: !check.ok && check.reason !== 'malformed_request' ? ctx.detail : undefined,
        dryRun: this.opts.settings.dryRun === true,
        evalNs: ctx.evalNs,
        handlerNs: elapsedNs,
        engine: ctx.engine ? { kind: ctx.engine.kind, revision: ctx.engine.revision, bundles: ctx.engine.bundles } : null,
      });
    } catch (e) {
      try {
        this.opts.logger.error({ event: 'record_failed', mode: 'opa-envoy', decision_id: check.decisionId, transport, ...describeError(e) }, 'decision telemetry failed');
      } catch {
        // a logger that throws must not turn into a failed check
      }
    }
  }
}
