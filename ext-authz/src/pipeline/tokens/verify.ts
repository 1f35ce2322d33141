// Token verification (docs/architecture.md, "The policy input", docs/threat-model.md §9): verify an id_token / logout token / bearer against
// the issuer registry with jose, then the claim rules of its use (tokens/claims.ts), map every failure to
// a reason code, never throw. Pure: no store access (a one-shot token's jti is a one-time marker the
// token phase peeks and the commit phase writes).
import { errors, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import type { ReasonCode } from '../../model/reasons';
import type { TokenFacts } from '../../model/facts';
import { claimProblem, maxAgeS, normTyp, REQUIRED_CLAIMS } from './claims';
import type { TokenUse } from './claims';
import type { IssuerRegistry } from './issuer-registry';
import { checkTokenShape } from './token-shape';

export { BCL_EVENT } from './claims';
export type { TokenUse } from './claims';

export interface VerifyContext {
  issuers: IssuerRegistry;
  maxTokenBytes: number;
  nowMs: number;
  /**
   * issuer → the audiences its tokens must name on this connection (the issuer's audiences ∩ the
   * connection's client_ids, prepared per connection). An issuer missing here accepts no audience.
   */
  audiences: ReadonlyMap<string, readonly string[]>;
}

const NO_AUDIENCE: readonly string[] = Object.freeze([]);

export function emptyToken(): TokenFacts {
  return { present: false, verified: false, use: null, issuer: null, backend: null, alg: null, typ: null, claims: null, error: null };
}

function fail(use: TokenUse, error: ReasonCode, partial: Partial<TokenFacts> = {}): TokenFacts {
  return { ...emptyToken(), present: true, use, ...partial, error };
}

function mapJoseError(e: unknown): ReasonCode {
  if (e instanceof errors.JWTExpired) return e.claim === 'iat' ? 'token_too_old' : 'token_expired';
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.reason === 'missing' && e.claim !== 'aud') return 'token_claim_missing';
    if (e.claim === 'nbf') return 'token_not_yet_valid';
    if (e.claim === 'aud') return 'aud_mismatch';
    if (e.claim === 'iat' && e.reason === 'check_failed') return 'token_not_yet_valid';
    return 'token_invalid';
  }
  if (e instanceof errors.JOSEAlgNotAllowed) return 'alg_not_allowed';
  if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys) return 'kid_unknown';
  if (e instanceof errors.JWKSTimeout || e instanceof errors.JWKSInvalid) return 'jwks_unavailable';
  if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid) return 'token_malformed';
  if (e instanceof errors.JWSSignatureVerificationFailed) return 'token_invalid';
  // jose reports a JWKS HTTP failure (non-200, bad JSON) as the generic JOSEError.
  if (e instanceof errors.JOSEError && e.code === 'ERR_JOSE_GENERIC') return 'jwks_unavailable';
  if (e instanceof errors.JOSEError) return 'token_invalid';
  // A non-JOSE error from getKey is the remote JWKS fetch failing (network, HTTP status).
  return 'jwks_unavailable';
}

/** Verifies one token. `expectedIssuer` is not required: the pin comparison is the policy's. */
export async function verifyToken(raw: string, use: TokenUse, ctx: VerifyContext): Promise<TokenFacts> {
  const shape = checkTokenShape(raw, ctx.maxTokenBytes);
  if (typeof shape === 'string') return fail(use, shape);
  const alg = shape.header.alg as string;
  const typ = normTyp(shape.header.typ);
  // iss is read unverified only to choose the issuer whose keys then verify everything.
  const iss = typeof shape.payload.iss === 'string' ? shape.payload.iss : null;
  const issuer = iss === null ? undefined : ctx.issuers.get(iss);
  if (!issuer || iss === null) return fail(use, 'issuer_unknown', { alg, typ });
  const base = { alg, typ, issuer: iss, backend: issuer.config.backend };
  if (!issuer.algs.has(alg)) return fail(use, 'alg_not_allowed', base);
  const kid = shape.header.kid;
  if (issuer.kids !== null && kid !== undefined && (typeof kid !== 'string' || !issuer.kids.has(kid))) {
    return fail(use, 'kid_unknown', base);
  }
  // The audience is bound to the connection (T-J7): a token for another connection's client fails.
  const audiences = ctx.audiences.get(iss) ?? NO_AUDIENCE;
  if (audiences.length === 0) return fail(use, 'aud_mismatch', base);
  let payload: JWTPayload;
  try {
    const r = await jwtVerify(raw, issuer.getKey, {
      algorithms: [...issuer.algs],
      issuer: iss,
      audience: audiences as string[],
      requiredClaims: REQUIRED_CLAIMS as string[],
      maxTokenAge: maxAgeS(issuer.config, use),
      clockTolerance: issuer.config.clock_skew_s,
      currentDate: new Date(ctx.nowMs),
    });
    payload = r.payload;
  } catch (e) {
    return fail(use, mapJoseError(e), base);
  }
  const claims = payload as Record<string, unknown>;
  // Extra untrusted audiences (T-J7): every aud must be one the issuer may address.
  const trusted = issuer.config.audiences.length > 0 ? issuer.config.audiences : audiences;
  if (Array.isArray(claims.aud) && !claims.aud.every((a) => trusted.includes(a as string))) return fail(use, 'aud_mismatch', base);
  const problem = claimProblem(use, typ, issuer.config, claims, audiences);
  if (problem !== null) return fail(use, problem, base);
  const tenants = issuer.config.tenants;
  if (tenants && tenants.length > 0 && !(typeof claims.tid === 'string' && tenants.includes(claims.tid))) {
    return fail(use, 'tenant_not_allowed', base);
  }
  return { present: true, verified: true, use, ...base, claims, error: null };
}
