// The transport-neutral core of one check (docs/architecture.md, "A callback, step by step"): an adapted
// request → Pipeline.decide → telemetry. This is the outermost fail-closed boundary: it never throws and
// never allows on failure, and an unexpected exception below it is logged here, once, with the decision
// id (docs/reason-codes.md `internal_error`).
import { randomUUID } from 'node:crypto';
import type { PipelineResult } from '../model/decision';
import type { ReasonCode } from '../model/reasons';
import type { RequestView } from '../model/request';
import type { Logger } from '../telemetry/logger';
import type { ServiceMetrics } from '../telemetry/metrics';
import type { DecisionLogger } from '../telemetry/decision-log';
import { describeError, renderHeaders, renderTarget } from '../telemetry/redact';
import type { AdaptedRequest } from './adapter';
import { isForwardable, primaryReason } from './check-response';
import { localDeny } from './local-deny';

/** What the check core asks; `Pipeline` (pipeline/pipeline.ts) satisfies it structurally. */
export interface Decider {
  decide(req: RequestView, attributesJson: unknown, decisionId?: string): Promise<PipelineResult>;
}

export type Transport = 'grpc' | 'http';

/** Reasons that mean our machinery failed rather than the request (policy_errors_total). */
const FAILURE_REASONS: ReadonlySet<string> = new Set<ReasonCode>([
  'policy_error', 'policy_timeout', 'policy_undefined', 'invalid_decision', 'backend_not_allowed',
  'policy_ignored_violation', 'store_unavailable', 'internal_error', 'authz_unavailable', 'jwks_unavailable', 'stage_unknown',
]);

export interface CheckCoreOptions {
  /** The current pipeline, or null while config/policy/keys are still loading. */
  decider: () => Decider | null;
  logger: Logger;
  metrics: ServiceMetrics;
  decisionLog: DecisionLogger | null;
  /** Sees every recorded decision (the lifecycle's traffic counters and SLO guard); must be cheap. */
  onDecision?: (result: PipelineResult) => void;
}

export class CheckCore {
  constructor(private readonly opts: CheckCoreOptions) {}

  /**
   * Runs one decision and never rejects. `adapt` is the transport's adapter call (or its result): it runs
   * inside this boundary, so an adapter bug is a logged internal_error like any other. `t0` is when the
   * transport received the request (process.hrtime.bigint()).
   */
  async run(adapt: AdaptedRequest | (() => AdaptedRequest), transport: Transport, t0: bigint): Promise<PipelineResult> {
    const decisionId = randomUUID();
    let req: AdaptedRequest | null = null;
    let result: PipelineResult;
    try {
      req = typeof adapt === 'function' ? adapt() : adapt;
      const decider = this.opts.decider();
      if (!req.ok) result = localDeny(req.reason, decisionId);
      else if (decider === null) result = localDeny('authz_unavailable', decisionId);
      else result = await decider.decide(req.view, req.attributes, decisionId);
    } catch (e) {
      // A bug below us: fail closed, and say so once (name, code and stack frames; never the message,
      // which may quote request text).
      result = localDeny('internal_error', decisionId);
      this.reportFailure(e, decisionId, transport);
    }
    const read = req !== null && req.ok ? req : null;
    this.record(result, read ? read.view : null, read ? read.attributes : undefined, transport, t0);
    return result;
  }

  /**
   * Logs a failure of one check, once, with its decision id. The transports call it when turning a
   * decision into a reply fails after run() returned (they then reply with internal_error themselves).
   */
  reportFailure(e: unknown, decisionId: string, transport: Transport): void {
    try {
      this.opts.logger.error({ event: 'check_failed', decision_id: decisionId, transport, ...describeError(e) }, 'check failed; denied internal_error');
    } catch {
      // a logger that throws must not turn into a failed check
    }
  }

  /** Metrics, one log line (info for denies, debug for allows), the decision log; never throws. */
  private record(result: PipelineResult, view: RequestView | null, attributes: unknown, transport: Transport, t0: bigint): void {
    try {
      const elapsedNs = Number(process.hrtime.bigint() - t0);
      const d = result.decision;
      const action = isForwardable(result) ? d.action : 'deny';
      const reason = action === 'deny' ? primaryReason(result) : (d.reasons[0] ?? 'none');
      const connection = result.connection?.name ?? 'none';
      const stage = result.connection?.stage ?? 'none';
      this.opts.metrics.decisions.inc({ action, reason, connection, stage, transport });
      this.opts.metrics.checkDuration.observe({ transport }, elapsedNs / 1e9);
      if (action === 'deny' && FAILURE_REASONS.has(reason)) this.opts.metrics.policyErrors.inc({ reason });
      // Denies are security events (info); allows are routine and already counted in the metrics and
      // the optional decision log, so their line is debug (a redacted pino line measured 9–35 µs).
      const level = action === 'deny' ? 'info' : 'debug';
      if (this.opts.logger.isLevelEnabled(level)) {
        this.opts.logger[level](
          {
            event: 'decision',
            decision_id: result.decisionId,
            action,
            reasons: d.reasons,
            backend: action === 'deny' ? null : d.backend,
            connection,
            stage,
            transport,
            method: view?.method,
            host: view?.host,
            // Request values only through the renderers: parameters of every kind masked (T-L1, T-P3).
            path: view ? renderTarget(view.path) : undefined,
            headers: view ? renderHeaders(view.headers) : undefined,
            request_id: view?.requestId,
            duration_us: Math.round(elapsedNs / 1000),
          },
          'decision',
        );
      }
      this.opts.decisionLog?.log(result, attributes, elapsedNs);
      this.opts.onDecision?.(result);
    } catch (e) {
      // The decision stands (it is already made); only its telemetry failed.
      try {
        this.opts.logger.error({ event: 'record_failed', decision_id: result.decisionId, transport, ...describeError(e) }, 'decision telemetry failed');
      } catch {
        // a logger that throws must not turn into a failed check
      }
    }
  }
}
