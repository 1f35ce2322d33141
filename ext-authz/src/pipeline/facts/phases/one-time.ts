// Fact provider `one-time` (docs/architecture.md, "A callback, step by step"): every one-time marker the
// earlier providers registered (state or RelayState, code, jti, webhook id) is looked up in ONE store
// round trip, read only. A marker already set is a replay: the pin says consumed_before (the policy
// denies state_replayed), a code / jti / webhook id becomes its violation. Nothing is written here;
// the commit phase sets the markers, all or none, after a decision forwarded the request.
import type { ReplayNamespace } from '../../../store/types';
import type { ReasonCode } from '../../../model/reasons';
import { addViolation } from '../context';
import type { FactsContext, FactsPhase } from '../context';

/** The reason a replay of each kind of marker is denied with (also the commit phase's). */
export const REPLAY_REASON: Readonly<Record<ReplayNamespace, ReasonCode>> = Object.freeze({
  state: 'state_replayed', relay: 'state_replayed', code: 'code_replayed', jti: 'jti_replayed', webhook: 'webhook_replay',
});

async function run(ctx: FactsContext): Promise<void> {
  let seen: boolean[];
  try {
    seen = await ctx.deps.replayStore.peek(ctx.markers);
  } catch {
    if (ctx.pin.found) ctx.pin.error = 'store_unavailable';
    addViolation(ctx, 'store_unavailable');
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
