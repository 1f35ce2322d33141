// What the lifecycle reads from one decision (docs/stages.md, "The SLO guard"): its connection, the
// backend it belongs to, whether it is a flow callback, and whether a deny means a broken login.
// Reads fields the pipeline already computed; allocates nothing.
import type { PipelineResult } from '../model/decision';
import type { ReasonCode } from '../model/reasons';
import { isForwardable, primaryReason } from '../check/check-response';

/** Callback kinds that end a browser login (the SLO guard's denominator). */
const FLOW_KINDS: ReadonlySet<string> = new Set(['oauth_query', 'oidc_form_post', 'saml_post']);

/** Deny reasons that mean a login broke (the cockpit's "broken" share; a guard may list its own). */
export const BROKEN_LOGIN_REASONS: ReadonlySet<ReasonCode> = new Set<ReasonCode>([
  'state_unknown', 'state_expired', 'issuer_mismatch', 'iss_required', 'token_invalid', 'kid_unknown', 'backend_not_live',
  'drain_expired', 'policy_error', 'policy_undefined', 'internal_error', 'store_unavailable', 'stage_unknown', 'jwks_unavailable',
]);

export function isFlowCallback(result: PipelineResult): boolean {
  const kind = result.event?.input?.callback.kind;
  return kind !== undefined && FLOW_KINDS.has(kind);
}

/**
 * The backend a decision belongs to: where it was sent, or for a deny the backend its pin, token or
 * `iss` names; a pinless flow callback in a stage that sends every new flow to new belongs to new.
 */
export function attributedBackend(result: PipelineResult): string | null {
  if (isForwardable(result)) return result.decision.backend;
  const input = result.event?.input;
  if (!input) return null;
  if (input.pin.found && input.pin.backend !== null) return input.pin.backend;
  if (typeof input.pin.hint_backend === 'string') return input.pin.hint_backend;
  if (input.token.backend !== null) return input.token.backend;
  const m = input.migration;
  if (m === null) return null;
  const iss = input.callback.iss;
  if (iss !== null && Object.prototype.hasOwnProperty.call(m.issuers, iss)) return m.issuers[iss].backend;
  if (FLOW_KINDS.has(input.callback.kind) && (m.stage === 'cutover' || m.stage === 'retired')) return m.new;
  return null;
}

export function denyReason(result: PipelineResult): ReasonCode | null {
  return isForwardable(result) ? null : primaryReason(result);
}
