// Fact provider `one-time` (docs/architecture.md, "A callback, step by step"): every one-time marker the
// earlier providers registered (state or RelayState, code, jti, webhook id) is looked up in ONE store
// round trip, read only. A marker already set is a replay: the pin says consumed_before (the policy
// denies state_replayed), a code / jti / webhook id becomes its violation. Nothing is written here;
// the commit phase sets the markers, all or none, after a decision forwarded the request.
//
// A store that lost its data (docs/operations.md, "Redis") can no longer vouch for anything issued
// before the loss: a flow, token or delivery used then may have left no marker. Those are denied
// store_data_lost before the peek (the user restarts the login); the rest are peeked as usual.
import { StoreError } from '../../../store/types';
import type { ReplayNamespace } from '../../../store/types';
import type { ReasonCode } from '../../../model/reasons';
import { addViolation } from '../context';
import type { FactsContext, FactsPhase, OneTimeMarker } from '../context';

/** The reason a replay of each kind of marker is denied with (also the commit phase's). */
export const REPLAY_REASON: Readonly<Record<ReplayNamespace, ReasonCode>> = Object.freeze({
  state: 'state_replayed', relay: 'state_replayed', code: 'code_replayed', jti: 'jti_replayed', webhook: 'webhook_replay',
});

/**
 * Whether a marker's one-time thing may have been used before the store's epoch began, leaving no
 * trace: issued before it, or (issue time unknown) a marker written before it could still be live.
 */
export function predatesStore(m: OneTimeMarker, epochStartMs: number, nowMs: number): boolean {
  if (epochStartMs <= 0 || !m.commit) return false;
  if (m.issuedAtMs !== null) return m.issuedAtMs < epochStartMs;
  return nowMs - m.ttlMs < epochStartMs;
}

async function run(ctx: FactsContext): Promise<void> {
  const store = ctx.deps.replayStore;
  let lost = false;
  for (const m of ctx.markers) {
    if (!predatesStore(m, store.epochStartMs(m.namespace), ctx.nowMs)) continue;
    lost = true;
    if ((m.namespace === 'state' || m.namespace === 'relay') && ctx.pin.error === null) ctx.pin.error = 'store_data_lost';
  }
  if (lost) {
    addViolation(ctx, 'store_data_lost');
    return;
  }
  let seen: boolean[];
  try {
    seen = await ctx.deps.replayStore.peek(ctx.markers);
  } catch (e) {
    // A store that lost its data under our feet: everything this request carries predates the loss.
    const reason = e instanceof StoreError && e.code === 'store_epoch_changed' ? 'store_data_lost' : 'store_unavailable';
    if (ctx.pin.found) ctx.pin.error = reason;
    addViolation(ctx, reason);
    return;
  }
  for (let i = 0; i < ctx.markers.length; i++) {
    if (!seen[i]) continue;
    const ns = ctx.markers[i].namespace;
    if (ns === 'state' || ns === 'relay') {
      ctx.pin.consumed_before = true; // the policy maps it (state_replayed), with the stage's context
    } else {
      addViolation(ctx, REPLAY_REASON[ns]);
      if (ns === 'jti') {
        ctx.token.verified = false;
        ctx.token.error = 'jti_replayed';
      } else if (ns === 'webhook' && ctx.webhook !== null) {
        ctx.webhook.verified = false;
        ctx.webhook.error = 'webhook_replay';
      }
    }
  }
}

export const oneTimePhase: FactsPhase = {
  name: 'one-time',
  applies: (ctx) => ctx.markers.length > 0,
  run,
};
