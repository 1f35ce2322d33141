// Token claims by use, per the specs (docs/threat-model.md §9): exp everywhere, iat not in the future,
// a maximum age; logout tokens per OIDC Back-Channel Logout 1.0 §2.4; id_tokens in form_post per OIDC
// Core §3.1.3.7 (aud, azp); agent access tokens per RFC 9068 (typ at+jwt, never an id_token); and the
// audience bound to the connection (the issuer's audiences ∩ the connection's client_ids). Over gRPC
// and HTTP, with two connections that share their issuers.
// Threat rows (docs/threat-model.md): T-J13, T-J14, T-J15, T-J16, T-J17, T-J18.
import { startHarness, ISS_LEGACY } from '../support/app-harness';
import type { Answer, Harness, Transport } from '../support/app-harness';
import { AGENT_ROUTE, OTHER_HOST, issuerJwt, storePin, twoConnectionSetup } from './two-connections';
import type { DemoSetup } from '../../ext-authz/src/config/default';

jest.setTimeout(60_000);

const BCL = 'http://schemas.openid.net/event/backchannel-logout';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const AT = { typ: 'at+jwt' };
const LOGOUT = { typ: 'logout+jwt' };
let seq = 0;
const jti = (): string => `jti-${process.pid}-${++seq}`;
const now = (): number => Math.floor(Date.now() / 1000);

let h: Harness;
let setup: DemoSetup;
beforeAll(async () => {
  setup = twoConnectionSetup();
  h = await startHarness({ demo: setup });
});
afterAll(async () => {
  await h?.close();
});

describe.each(['grpc', 'http-envoy'] as Transport[])('over %s', (t) => {
  const logout = (token: string, host?: string): Promise<Answer> =>
    h.ask(t, { method: 'POST', path: '/backchannel-logout', host, headers: FORM, body: `logout_token=${token}` });
  const agent = (token: string, host?: string): Promise<Answer> =>
    h.ask(t, { method: 'POST', path: AGENT_ROUTE, host, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
  const formPost = async (idToken: string): Promise<Answer> => {
    const state = await storePin(h, 'demo', 'legacy', 'form_post');
    const body = `code=fp-${++seq}&state=${encodeURIComponent(state)}&iss=${encodeURIComponent(ISS_LEGACY)}&id_token=${idToken}`;
    return h.ask(t, { method: 'POST', path: '/oauth2/callback', headers: FORM, body });
  };
  const logoutClaims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ events: { [BCL]: {} }, sid: 'sid-1', jti: jti(), ...extra });
  const atClaims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ client_id: 'demo-client', jti: jti(), ...extra });

  describe('logout tokens (OIDC Back-Channel Logout §2.4, §2.6)', () => {
    test('a well-formed logout token is routed (baseline)', async () => {
      expect(await logout(await issuerJwt(setup, 'legacy', logoutClaims(), { header: LOGOUT }))).toMatchObject({ allowed: true, backend: 'legacy' });
    });

    test.each([
      ['no exp', 'token_claim_missing', {}, { omit: ['exp'] }],
      ['iat an hour in the future', 'token_not_yet_valid', { iat: now() + 3600, exp: now() + 7200 }, {}],
      ['iat older than the maximum age', 'token_too_old', { iat: now() - 3600 }, {}],
      ['neither sub nor sid', 'token_claim_missing', { sid: undefined }, { omit: ['sub'] }],
      ['the event member is not an object', 'typ_mismatch', { events: { [BCL]: 'yes' } }, {}],
      ['no jti', 'token_claim_missing', { jti: undefined }, {}],
    ] as [string, string, Record<string, unknown>, { omit?: string[] }][])('%s → %s', async (_n, reason, extra, o) => {
      const claims = logoutClaims(extra);
      for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
      const token = await issuerJwt(setup, 'legacy', claims, { header: LOGOUT, omit: o.omit });
      expect(await logout(token)).toMatchObject({ allowed: false, reason });
    });

    test('the audience is bound to the connection: another connection\'s client is refused here, accepted there', async () => {
      const token = await issuerJwt(setup, 'legacy', logoutClaims({ aud: 'other-client' }), { header: LOGOUT });
      expect(await logout(token)).toMatchObject({ allowed: false, reason: 'aud_mismatch' });
      expect(await logout(token, OTHER_HOST)).toMatchObject({ allowed: true, backend: 'legacy' });
    });
  });

  describe('id_tokens in form_post (OIDC Core §2, §3.1.3.7)', () => {
    test('a good id_token is routed (baseline)', async () => {
      expect(await formPost(await issuerJwt(setup, 'legacy', {}))).toMatchObject({ allowed: true, backend: 'legacy' });
    });

    test.each([
      ['no exp', 'token_claim_missing', {}, ['exp']],
      ['no iat', 'token_claim_missing', {}, ['iat']],
      ['aud of another connection', 'aud_mismatch', { aud: 'other-client' }, []],
      ['several audiences without azp', 'token_claim_missing', { aud: ['demo-client', 'other-client'] }, []],
      ['azp naming another client', 'aud_mismatch', { aud: ['demo-client', 'other-client'], azp: 'other-client' }, []],
    ] as [string, string, Record<string, unknown>, string[]][])('%s → %s', async (_n, reason, claims, omit) => {
      expect(await formPost(await issuerJwt(setup, 'legacy', claims, { omit }))).toMatchObject({ allowed: false, reason });
    });

    test('several audiences with azp = this connection\'s client are accepted', async () => {
      expect(await formPost(await issuerJwt(setup, 'legacy', { aud: ['demo-client', 'other-client'], azp: 'demo-client' }))).toMatchObject({ allowed: true });
    });
  });

  describe('agent access tokens (RFC 9068)', () => {
    test('an at+jwt access token is routed (baseline)', async () => {
      expect(await agent(await issuerJwt(setup, 'legacy', atClaims(), { header: AT }))).toMatchObject({ allowed: true, backend: 'legacy' });
    });

    test('an id_token (typ JWT, no nonce) is not an access token', async () => {
      expect(await agent(await issuerJwt(setup, 'legacy', { jti: jti() }))).toMatchObject({ allowed: false, reason: 'typ_mismatch' });
      expect(await agent(await issuerJwt(setup, 'legacy', { jti: jti() }, { header: { typ: 'JWT' } }))).toMatchObject({ allowed: false, reason: 'typ_mismatch' });
    });

    test.each([
      ['no exp', 'token_claim_missing', {}, ['exp']],
      ['iat in the future', 'token_not_yet_valid', { iat: now() + 3600, exp: now() + 7200 }, []],
      ['no client_id', 'token_claim_missing', { client_id: undefined }, []],
      ['aud of another connection', 'aud_mismatch', { aud: 'other-client' }, []],
    ] as [string, string, Record<string, unknown>, string[]][])('%s → %s', async (_n, reason, extra, omit) => {
      const claims = atClaims(extra);
      for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
      expect(await agent(await issuerJwt(setup, 'legacy', claims, { header: AT, omit }))).toMatchObject({ allowed: false, reason });
    });
  });
});
