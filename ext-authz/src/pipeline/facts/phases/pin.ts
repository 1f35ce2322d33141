// Fact provider `pin` (docs/architecture.md, "Pins"): the flow key (state, or RelayState on SAML) → the pin facts,
// read only; the MAC'd cookie hint; and the flow's one-time markers: the state / RelayState itself and,
// on OAuth callbacks, the code. Only a flow whose pin verified for this connection may write a marker:
// a code on an unknown or foreign state is checked against the markers, never recorded (so junk
// callbacks cannot fill the store or burn a code, docs/threat-model.md T-C1, T-C6).
import { readHintCookie, verifyHint } from '../../pins/cookie-hint';
import { resolvePin } from '../../pins/resolve';
import { addViolation } from '../context';
import type { FactsContext, FactsPhase } from '../context';

async function run(ctx: FactsContext): Promise<void> {
  const conn = ctx.conn;
  if (conn === null) return;
  const { deps, nowMs, callback: cb, secrets } = ctx;
  ctx.pin.hint_backend = verifyHint(deps.keys.cookie, conn.config.name, readHintCookie(ctx.req.headers['cookie']), nowMs);
  const oauth = cb.kind === 'oauth_query' || cb.kind === 'oidc_form_post';
  let resolved = null;
  if (oauth && secrets.state !== null && cb.state_hash !== null) {
    resolved = await resolvePin(secrets.state, cb.state_hash, true, conn, deps, nowMs);
  } else if (cb.kind === 'saml_post' && secrets.relayState !== null && cb.relay_state_hash !== null) {
    resolved = await resolvePin(secrets.relayState, cb.relay_state_hash, false, conn, deps, nowMs);
  }
  if (resolved !== null) {
    const err = resolved.pin.error;
    ctx.flowKeyUnknown = !resolved.pin.found && err !== 'store_unavailable';
    resolved.pin.hint_backend = ctx.pin.hint_backend;
    ctx.pin = resolved.pin;
    if (resolved.pin.error === 'state_bad_mac' || resolved.pin.error === 'non_canonical_encoding' || resolved.pin.error === 'store_unavailable') addViolation(ctx, resolved.pin.error);
    if (resolved.marker !== null) {
      ctx.markers.push({ ...resolved.marker, commit: true, issuedAtMs: resolved.pin.created_at_ms });
      ctx.flowExpiresAtMs = resolved.expiresAtMs;
    }
  }
  // T-C1: a code is one-time. Its marker lives at least codeReplayTtlMs, and as long as its flow; it
  // was issued within its flow, so no earlier than the flow itself.
  if (oauth && cb.code_hash !== null) {
    const verified = ctx.flowExpiresAtMs !== null;
    const ttlMs = verified ? Math.max(deps.codeReplayTtlMs, (ctx.flowExpiresAtMs as number) - nowMs + deps.codeReplayTtlMs) : deps.codeReplayTtlMs;
    ctx.markers.push({ namespace: 'code', hash: cb.code_hash, ttlMs, commit: verified, issuedAtMs: verified ? ctx.pin.created_at_ms : null });
  }
}

export const pinPhase: FactsPhase = {
  name: 'pin',
  applies: (ctx) => ctx.clean,
  run,
};
