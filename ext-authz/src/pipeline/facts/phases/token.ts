// Fact provider `token` (docs/architecture.md, "The policy input", docs/threat-model.md §9): the id_token (OIDC callbacks), logout token
// (back-channel logout) or bearer (agent and webhook routes), verified against the issuer registry with
// the audiences bound to this connection. A one-shot token (logout, agent) carries its `jti` as a
// one-time marker that lives until the token's own `exp` plus skew (OIDC Back-Channel Logout §2.6,
// docs/threat-model.md T-J11).
import { keyedHash } from '../keyed-hash';
import { addViolation } from '../context';
import type { FactsContext, FactsPhase } from '../context';
import { verifyToken } from '../../tokens/verify';
import type { TokenUse } from '../../tokens/verify';

async function run(ctx: FactsContext): Promise<void> {
  const raw = ctx.secrets.token as string;
  const conn = ctx.conn;
  // A request the parser already refused: say a token was there, spend no crypto on it.
  if (!ctx.clean || conn === null) {
    ctx.token.present = true;
    return;
  }
  const { deps, nowMs, callback: cb } = ctx;
  const use: TokenUse = cb.token_location === 'id_token' ? 'id_token' : cb.token_location === 'logout_token' ? 'logout_token' : 'access_token';
  const token = await verifyToken(raw, use, { issuers: deps.issuers, maxTokenBytes: deps.limits.max_token_bytes, nowMs, audiences: conn.audiences });
  ctx.token = token;
  if (token.error === null && (cb.kind === 'logout' || cb.kind === 'agent')) {
    const claims = token.claims as Record<string, unknown>;
    const jti = claims.jti;
    if (typeof jti !== 'string' || jti.length === 0) {
      token.verified = false;
      token.error = 'token_claim_missing';
    } else {
      const skewMs = (deps.issuers.get(token.issuer as string)?.config.clock_skew_s ?? 0) * 1000;
      const ttlMs = Math.max(1000, (claims.exp as number) * 1000 - nowMs + skewMs);
      // The issuer's clock may run ahead by the allowed skew: the token may be that much older.
      const iat = claims.iat;
      const issuedAtMs = typeof iat === 'number' && Number.isFinite(iat) ? iat * 1000 - skewMs : null;
      ctx.markers.push({ namespace: 'jti', hash: keyedHash(deps.keys.hash, 'jti', `${token.issuer as string}\0${jti}`), ttlMs, commit: true, issuedAtMs });
    }
  }
  if (token.error) addViolation(ctx, token.error);
}

export const tokenPhase: FactsPhase = {
  name: 'token',
  applies: (ctx) => ctx.secrets.token !== null,
  run,
};
