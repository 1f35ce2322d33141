// Claim rules by token use (docs/threat-model.md §9, docs/threat-model.md T-J5..T-J11), checked after the signature
// verified. Every use needs `exp` and `iat` (an `iat` in the future is refused by jose, a too old one by
// the maximum age); then, per use:
//   * id_token (OIDC Core 1.0 §2, §3.1.3.7): `sub`; `aud` names one of the connection's clients (the
//     audience set given to jose); with several audiences, `azp` is required and must be one of them.
//     The `nonce` is NOT checked here: only the backend knows the one it sent (docs/threat-model.md
//     T-C2), so it stays the backend's job.
//   * logout_token (OIDC Back-Channel Logout 1.0 §2.4, §2.6): `jti`; `sub` or `sid`; `events` holding
//     the back-channel-logout member whose value is a JSON object; no `nonce`.
//   * access_token (RFC 9068 §2.1, §2.2): header `typ` `at+jwt` unless the issuer names another typ or
//     opts out (allow_untyped_access_tokens); `sub` and `client_id` for at+jwt tokens; never a token
//     that carries an id_token-only claim (nonce, at_hash, c_hash, s_hash) or a logout event. Under an
//     opt-out, an id_token without those claims cannot be told from an access token: the opt-out is
//     the operator's explicit choice.
import type { ReasonCode } from '../../model/reasons';
import type { IssuerConfig } from '../../model/registry';

export type TokenUse = 'id_token' | 'logout_token' | 'access_token';

/** OIDC Back-Channel Logout 1.0 §2.4: the event that makes a JWT a logout token. */
export const BCL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/**
 * Default maximum token age (now − iat), seconds. id_tokens and logout tokens are delivered the moment
 * they are issued, so minutes are plenty; access tokens are used for their lifetime.
 */
export const DEFAULT_MAX_AGE_S: Readonly<Record<TokenUse, number>> = Object.freeze({ id_token: 600, logout_token: 600, access_token: 86_400 });

/** Claims every use requires before anything else is looked at (checked by jose, in this order). */
export const REQUIRED_CLAIMS: readonly string[] = Object.freeze(['exp', 'iat']);

/** Claims only an OpenID Connect id_token carries (OIDC Core §2, §3.3.2.11): never in an access token. */
const ID_TOKEN_ONLY = ['nonce', 'at_hash', 'c_hash', 's_hash'];

export function maxAgeS(issuer: IssuerConfig, use: TokenUse): number {
  return issuer.max_token_age_s?.[use] ?? DEFAULT_MAX_AGE_S[use];
}

/** `typ` compared as media types: case-insensitive, optional `application/` prefix (RFC 7515 §4.1.9). */
export function normTyp(t: unknown): string | null {
  if (typeof t !== 'string') return null;
  const l = t.toLowerCase();
  return l.startsWith('application/') ? l.slice('application/'.length) : l;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nonEmptyString(v: unknown): boolean {
  return typeof v === 'string' && v.length > 0;
}

function hasLogoutEvent(p: Record<string, unknown>): boolean {
  return isObject(p.events) && Object.prototype.hasOwnProperty.call(p.events, BCL_EVENT);
}

/**
 * The use rules above, as the first reason that applies, or null. `audiences` is what the token had to
 * name on this connection (jose already checked that at least one `aud` is among them).
 */
export function claimProblem(use: TokenUse, typ: string | null, issuer: IssuerConfig, p: Record<string, unknown>, audiences: readonly string[]): ReasonCode | null {
  const expected = issuer.typ?.[use];
  if (expected !== undefined && typ !== normTyp(expected)) return 'typ_mismatch';
  switch (use) {
    case 'logout_token': {
      if (!hasLogoutEvent(p) || p.nonce !== undefined) return 'typ_mismatch';
      // §2.4: the member's value is a JSON object (usually {}).
      if (!isObject((p.events as Record<string, unknown>)[BCL_EVENT])) return 'typ_mismatch';
      if (!nonEmptyString(p.sub) && !nonEmptyString(p.sid)) return 'token_claim_missing';
      if (!nonEmptyString(p.jti)) return 'token_claim_missing';
      return null;
    }
    case 'id_token': {
      if (typ === 'logout+jwt' || typ === 'at+jwt' || hasLogoutEvent(p)) return 'typ_mismatch';
      if (!nonEmptyString(p.sub)) return 'token_claim_missing';
      const several = Array.isArray(p.aud) && p.aud.length > 1;
      if (several && p.azp === undefined) return 'token_claim_missing';
      if (p.azp !== undefined && !(typeof p.azp === 'string' && audiences.includes(p.azp))) return 'aud_mismatch';
      return null;
    }
    case 'access_token': {
      if (typ === 'logout+jwt' || hasLogoutEvent(p)) return 'typ_mismatch';
      for (const c of ID_TOKEN_ONLY) if (p[c] !== undefined) return 'typ_mismatch';
      // An explicit typ was enforced above; without one, RFC 9068 applies unless the issuer opted out.
      if (expected === undefined && issuer.allow_untyped_access_tokens !== true && typ !== 'at+jwt') return 'typ_mismatch';
      if (typ === 'at+jwt' && (!nonEmptyString(p.sub) || !nonEmptyString(p.client_id))) return 'token_claim_missing';
      return null;
    }
  }
}
