// Fact providers `unknown-state-gate` and `unknown-state-charge` (docs/threat-model.md T-C6): a flood of
// manufactured `code=…&state=…` callbacks is answered without asking the pin store once the source, or
// the connection as a whole, has spent its allowance of unknown states (facts/unknown-state-limiter.ts).
//
//   gate   (before the pin provider): a store-backed flow key from an exhausted source or connection →
//          rate_limited (429); the request is no longer clean, so nothing later reads a store for it.
//          Signed envelopes are never gated: their MAC is checked in memory, with no store lookup.
//   charge (after the pin provider): the flow key resolved to nothing → one token from each bucket.
//
// Neither ever writes or drops a replay marker: a refused callback leaves the stores as they were.
import { isEnvelope } from '../../pins/state-envelope';
import { addViolation } from '../context';
import type { FactsContext, FactsPhase } from '../context';

/** The flow key the pin provider would look up in the store, else null (envelopes need no lookup). */
function storeBackedKey(ctx: FactsContext): string | null {
  const kind = ctx.callback.kind;
  if (kind === 'oauth_query' || kind === 'oidc_form_post') {
    const s = ctx.secrets.state;
    return s !== null && !isEnvelope(s) ? s : null;
  }
  return kind === 'saml_post' ? ctx.secrets.relayState : null;
}

function gate(ctx: FactsContext): void {
  const conn = ctx.conn;
  if (conn === null || storeBackedKey(ctx) === null) return;
  const scope = ctx.deps.unknownStates.blocked(ctx.req.sourceIp, conn.config.name, ctx.deps.limits, ctx.nowMs);
  if (scope === null) return;
  addViolation(ctx, 'rate_limited');
  ctx.clean = false;
}

function charge(ctx: FactsContext): void {
  const conn = ctx.conn;
  if (conn === null) return;
  ctx.deps.unknownStates.charge(ctx.req.sourceIp, conn.config.name, ctx.deps.limits, ctx.nowMs);
}

export const unknownStateGatePhase: FactsPhase = {
  name: 'unknown-state-gate',
  applies: (ctx) => ctx.clean,
  run: gate,
};

export const unknownStateChargePhase: FactsPhase = {
  name: 'unknown-state-charge',
  applies: (ctx) => ctx.flowKeyUnknown,
  run: charge,
};
