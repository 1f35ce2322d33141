// The transport-neutral core of one check: view → Pipeline.decide → telemetry, never throwing and never
// allowing on failure (DESIGN §4 "Fail closed"). gRPC and HTTP forward-auth both end up here.
import type { PipelineResult, RequestView } from '../pipeline/types';
import type { ReasonCode } from '../pipeline/reasons';
import { localDeny } from '../check/local-deny';
import { isForwardable, primaryReason } from '../check/check-response';
import type { Logger } from '../telemetry/logger';
import type { ServiceMetrics } from '../telemetry/metrics';
import type { DecisionLogger } from '../telemetry/decision-log';
import { loggableHeaders, redactPathQuery } from '../telemetry/redact';

/** What the pipeline offers; `Pipeline` from pipeline/pipeline.ts satisfies it structurally. */
export interface Decider {
  decide(req: RequestView, attributesJson?: unknown): Promise<PipelineResult>;
}

export type Transport = 'grpc' | 'http';

/** Reasons that mean our machinery failed rather than the request (policy_errors_total). */
const FAILURE_REASONS: ReadonlySet<string> = new Set<ReasonCode>([
  'policy_error', 'policy_timeout', 'policy_undefined', 'invalid_decision', 'backend_not_allowed',
  'policy_ignored_violation', 'store_unavailable', 'internal_error', 'authz_unavailable', 'jwks_unavailable',
]);

export interface CheckContext {
  /** The current pipeline, or null while config/policy/keys are still loading. */
  decider: () => Decider | null;
  logger: Logger;
  metrics: ServiceMetrics;
  decisionLog: DecisionLogger | null;
}

export class CheckHandler {
  constructor(private readonly ctx: CheckContext) {}

  /** Runs one decision. `view` null means the adapter could not read the request (`reason`). */
  async run(view: RequestView | null, readFailure: ReasonCode | null, attributes: unknown, transport: Transport, t0: bigint): Promise<PipelineResult> {
    let result: PipelineResult;
    const decider = this.ctx.decider();
    if (view === null) result = localDeny(readFailure ?? 'malformed_request');
    else if (decider === null) result = localDeny('authz_unavailable');
    else {
      try {
        result = await decider.decide(view, attributes);
      } catch {
        // The pipeline promises not to throw; if it does anyway, fail closed.
        result = localDeny('internal_error');
      }
    }
    this.record(result, view, attributes, transport, t0);
    return result;
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
      this.ctx.metrics.decisions.inc({ action, reason, connection, stage, transport });
      this.ctx.metrics.checkDuration.observe({ transport }, elapsedNs / 1e9);
      if (action === 'deny' && FAILURE_REASONS.has(reason)) this.ctx.metrics.policyErrors.inc({ reason });
      // Denies are security events (info); allows are routine and already counted in the metrics and
      // the optional decision log, so their line is debug (a redacted pino line measured 9–35 µs).
      const level = action === 'deny' ? 'info' : 'debug';
      if (this.ctx.logger.isLevelEnabled(level)) {
        this.ctx.logger[level](
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
            path: view ? redactPathQuery(view.path) : undefined,
            headers: view ? loggableHeaders(view.headers) : undefined,
            request_id: view?.requestId,
            duration_us: Math.round(elapsedNs / 1000),
          },
          'decision',
        );
      }
      if (this.ctx.decisionLog) {
        const input = result.input ?? { attributes };
        this.ctx.decisionLog.log(result, input, view?.requestId, elapsedNs);
      }
    } catch {
      // telemetry never throws
    }
  }
}
