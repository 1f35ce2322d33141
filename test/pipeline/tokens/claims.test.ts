// Claim rules by use (pipeline/tokens/claims.ts), on claims that already verified: OIDC Core §2 and
// §3.1.3.7 (id_token), OIDC Back-Channel Logout 1.0 §2.4 (logout token), RFC 9068 §2 (access token).
import { BCL_EVENT, claimProblem, DEFAULT_MAX_AGE_S, maxAgeS } from '../../../ext-authz/src/pipeline/tokens/claims';
import type { IssuerConfig } from '../../../ext-authz/src/model/registry';

const issuer = (extra: Partial<IssuerConfig> = {}): IssuerConfig => ({ issuer: 'https://i', backend: 'b', algs: ['ES256'], audiences: ['c1', 'c2'], clock_skew_s: 60, jwks_uri: 'https://i/jwks', ...extra });
const AUD = ['c1'];
const events = { [BCL_EVENT]: {} };

describe('id_token', () => {
  it.each([
    ['good', { sub: 'u', aud: 'c1' }, null],
    ['no sub', { aud: 'c1' }, 'token_claim_missing'],
    ['several audiences, no azp', { sub: 'u', aud: ['c1', 'c2'] }, 'token_claim_missing'],
    ['several audiences, azp of this connection', { sub: 'u', aud: ['c1', 'c2'], azp: 'c1' }, null],
    ['azp of another client', { sub: 'u', aud: 'c1', azp: 'c2' }, 'aud_mismatch'],
    ['a logout event', { sub: 'u', events }, 'typ_mismatch'],
  ] as const)('%s → %s', (_n, claims, want) => {
    expect(claimProblem('id_token', 'jwt', issuer(), { ...claims }, AUD)).toBe(want);
  });

  it('an access token typ is not an id_token', () => {
    expect(claimProblem('id_token', 'at+jwt', issuer(), { sub: 'u' }, AUD)).toBe('typ_mismatch');
  });
});

describe('logout_token', () => {
  it.each([
    ['sid only', { sid: 's', jti: 'j', events }, null],
    ['sub only', { sub: 'u', jti: 'j', events }, null],
    ['neither sub nor sid', { jti: 'j', events }, 'token_claim_missing'],
    ['no jti', { sid: 's', events }, 'token_claim_missing'],
    ['nonce', { sid: 's', jti: 'j', events, nonce: 'n' }, 'typ_mismatch'],
    ['events not an object', { sid: 's', jti: 'j', events: 'x' }, 'typ_mismatch'],
    ['the member is not an object', { sid: 's', jti: 'j', events: { [BCL_EVENT]: true } }, 'typ_mismatch'],
    ['no logout member', { sid: 's', jti: 'j', events: { other: {} } }, 'typ_mismatch'],
  ] as const)('%s → %s', (_n, claims, want) => {
    expect(claimProblem('logout_token', 'logout+jwt', issuer(), { ...claims }, AUD)).toBe(want);
  });

  it('an expected typ from the registry is enforced', () => {
    expect(claimProblem('logout_token', 'jwt', issuer({ typ: { logout_token: 'logout+jwt' } }), { sid: 's', jti: 'j', events }, AUD)).toBe('typ_mismatch');
  });
});

describe('access_token', () => {
  it.each([
    ['at+jwt with sub and client_id', 'at+jwt', { sub: 'u', client_id: 'c1' }, {}, null],
    ['at+jwt without client_id', 'at+jwt', { sub: 'u' }, {}, 'token_claim_missing'],
    ['an untyped token (an id_token shape)', 'jwt', { sub: 'u' }, {}, 'typ_mismatch'],
    ['no typ at all', null, { sub: 'u' }, {}, 'typ_mismatch'],
    ['opted out: an untyped token', 'jwt', { sub: 'u' }, { allow_untyped_access_tokens: true }, null],
    ['opted out: still never an id_token (nonce)', 'jwt', { sub: 'u', nonce: 'n' }, { allow_untyped_access_tokens: true }, 'typ_mismatch'],
    ['opted out: still never an id_token (at_hash)', null, { sub: 'u', at_hash: 'h' }, { allow_untyped_access_tokens: true }, 'typ_mismatch'],
    ['a logout token', 'logout+jwt', { sub: 'u' }, { allow_untyped_access_tokens: true }, 'typ_mismatch'],
  ] as const)('%s → %s', (_n, typ, claims, extra, want) => {
    expect(claimProblem('access_token', typ, issuer(extra as Partial<IssuerConfig>), { ...claims }, AUD)).toBe(want);
  });
});

it('maximum ages: defaults per use, overridable per issuer', () => {
  expect(maxAgeS(issuer(), 'id_token')).toBe(DEFAULT_MAX_AGE_S.id_token);
  expect(maxAgeS(issuer({ max_token_age_s: { access_token: 3600 } }), 'access_token')).toBe(3600);
  expect(maxAgeS(issuer({ max_token_age_s: { access_token: 3600 } }), 'logout_token')).toBe(DEFAULT_MAX_AGE_S.logout_token);
});
