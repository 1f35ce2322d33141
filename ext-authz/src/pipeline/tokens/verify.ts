// Token phase (DESIGN §4 `token`, THREATS §9): verify an id_token / logout token / bearer against the
// issuer registry with jose, map every failure to a reason code, never throw.
import { errors, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import type { ReasonCode } from '../../model/reasons';
import type { TokenFacts } from '../../model/facts';
import type { ReplayStore } from '../../store/types';
import { keyedHash } from '../facts/keyed-hash';
import type { IssuerRegistry } from './issuer-registry';
import { checkTokenShape } from './token-shape';

export type TokenUse = 'id_token' | 'logout_token' | 'access_token';

/** OIDC Back-Channel Logout 1.0 §2.4: the event that makes a JWT a logout token. */
export const BCL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export interface VerifyContext {
  issuers: IssuerRegistry;
  maxTokenBytes: number;
  nowMs: number;
  /** One-shot uses record the jti (T-J11); needs the hash key for keyed jti hashes. */
  oneShot?: { replayStore: ReplayStore; hashKey: Buffer };
}

export function emptyToken(): TokenFacts {
  return { present: false, verified: false, use: null, issuer: null, backend: null, alg: null, typ: null, claims: null, error: null };
}

function fail(use: TokenUse, error: ReasonCode, partial: Partial<TokenFacts> = {}): TokenFacts {
  return { ...emptyToken(), present: true, use, ...partial, error };
}

/** `typ` compared as media types: case-insensitive, optional `application/` prefix (RFC 7515 §4.1.9). */
function normTyp(t: unknown): string | null {
  if (typeof t !== 'string') return null;
  const l = t.toLowerCase();
  return l.startsWith('application/') ? l.slice('application/'.length) : l;
}

function hasLogoutEvent(p: Record<string, unknown>): boolean {
  const ev = p.events;
  return typeof ev === 'object' && ev !== null && Object.prototype.hasOwnProperty.call(ev, BCL_EVENT);
}

/** Mutually exclusive type rules (RFC 8725 §3.11, OIDC BCL §2.4/§2.6, RFC 9068 §2.1). */
function typProblem(use: TokenUse, typ: string | null, expected: string | undefined, p: Record<string, unknown>): boolean {
  if (expected !== undefined && typ !== normTyp(expected)) return true;
  if (use === 'logout_token') return !hasLogoutEvent(p) || p.nonce !== undefined;
  if (typ === 'logout+jwt' || hasLogoutEvent(p)) return true;
  if (use === 'id_token' && typ === 'at+jwt') return true;
  if (use === 'access_token' && p.nonce !== undefined && typ !== 'at+jwt') return true;
  return false;
}

function mapJoseError(e: unknown): ReasonCode {
  if (e instanceof errors.JWTExpired) return 'token_expired';
  if (e instanceof errors.JWTClaimValidationFailed) {
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
  let payload: JWTPayload;
  try {
    const r = await jwtVerify(raw, issuer.getKey, {
      algorithms: [...issuer.algs],
      issuer: iss,
      audience: issuer.config.audiences.length > 0 ? issuer.config.audiences : undefined,
      clockTolerance: issuer.config.clock_skew_s,
      currentDate: new Date(ctx.nowMs),
    });
    payload = r.payload;
  } catch (e) {
    return fail(use, mapJoseError(e), base);
  }
  const claims = payload as Record<string, unknown>;
  // Extra untrusted audiences (T-J7): every aud must be one we accept.
  if (Array.isArray(claims.aud) && issuer.config.audiences.length > 0) {
    if (!claims.aud.every((a) => issuer.config.audiences.includes(a as string))) return fail(use, 'aud_mismatch', base);
  }
  if (typProblem(use, typ, issuer.config.typ?.[use], claims)) return fail(use, 'typ_mismatch', base);
  const tenants = issuer.config.tenants;
  if (tenants && tenants.length > 0 && !(typeof claims.tid === 'string' && tenants.includes(claims.tid))) {
    return fail(use, 'tenant_not_allowed', base);
  }
  if (ctx.oneShot) {
    const jti = claims.jti;
    if (typeof jti !== 'string' || jti.length === 0) return fail(use, 'token_invalid', base);
    const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : ctx.nowMs + 3600_000;
    const ttl = Math.max(1000, exp - ctx.nowMs + issuer.config.clock_skew_s * 1000);
    let first: boolean;
    try {
      first = await ctx.oneShot.replayStore.firstSeen('jti', keyedHash(ctx.oneShot.hashKey, 'jti', `${iss}\0${jti}`), ttl);
    } catch {
      return fail(use, 'store_unavailable', base);
    }
    if (!first) return fail(use, 'jti_replayed', base);
  }
  return { present: true, verified: true, use, ...base, claims, error: null };
}
