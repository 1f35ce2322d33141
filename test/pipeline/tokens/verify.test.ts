// Token verification (docs/threat-model.md §9, T-J1..T-J12, T-T2) with real keys made by jose / node:crypto.
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey } from 'jose';
import type { IssuerConfig } from '../../../ext-authz/src/model/registry';
import { prepareIssuers } from '../../../ext-authz/src/pipeline/tokens/issuer-registry';
import { BCL_EVENT, verifyToken } from '../../../ext-authz/src/pipeline/tokens/verify';
import type { VerifyContext } from '../../../ext-authz/src/pipeline/tokens/verify';
import { b64url } from '../facts/fixtures';

const ISS_A = 'https://a.example.com';
const ISS_B = 'https://b.example.com';
const NOW = Date.parse('2026-11-28T12:00:00Z');
const NOW_S = NOW / 1000;

let rsa: { privateKey: CryptoKey; jwk: Record<string, unknown>; pem: string };
let ec: { privateKey: CryptoKey; jwk: Record<string, unknown> };
let attacker: { privateKey: CryptoKey; jwk: Record<string, unknown> };
let ctx: VerifyContext;

function issuer(iss: string, backend: string, jwk: Record<string, unknown>, alg: string, extra: Partial<IssuerConfig> = {}): IssuerConfig {
  return { issuer: iss, backend, jwks: { keys: [jwk] }, algs: [alg], audiences: ['client-1'], clock_skew_s: 60, ...extra };
}

beforeAll(async () => {
  const r = await generateKeyPair('RS256', { extractable: true });
  const rj = { ...(await exportJWK(r.publicKey)), kid: 'rsa-1', alg: 'RS256' };
  const nodeRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  rsa = { privateKey: r.privateKey, jwk: rj, pem: nodeRsa.publicKey.export({ type: 'spki', format: 'pem' }).toString() };
  const e = await generateKeyPair('ES256', { extractable: true });
  ec = { privateKey: e.privateKey, jwk: { ...(await exportJWK(e.publicKey)), kid: 'ec-1', alg: 'ES256' } };
  const a = await generateKeyPair('ES256', { extractable: true });
  attacker = { privateKey: a.privateKey, jwk: { ...(await exportJWK(a.publicKey)), kid: 'ec-1', alg: 'ES256' } };
  ctx = {
    issuers: prepareIssuers([
      issuer(ISS_A, 'legacy', rj, 'RS256', { typ: { logout_token: 'logout+jwt', access_token: 'at+jwt' } }),
      issuer(ISS_B, 'new', ec.jwk, 'ES256', { tenants: ['tenant-1'] }),
    ]),
    maxTokenBytes: 16384,
    nowMs: NOW,
    audiences: new Map([[ISS_A, ['client-1']], [ISS_B, ['client-1']]]),
  };
});

const claimsA = (extra: Record<string, unknown> = {}) => ({ iss: ISS_A, aud: 'client-1', sub: 'u1', iat: NOW_S, exp: NOW_S + 300, ...extra });

async function signA(extra: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claimsA(extra)).setProtectedHeader({ alg: 'RS256', kid: 'rsa-1', ...header }).sign(rsa.privateKey);
}

describe('verifyToken', () => {
  it('verifies a good RS256 id_token', async () => {
    const t = await verifyToken(await signA(), 'id_token', ctx);
    expect(t).toMatchObject({ present: true, verified: true, issuer: ISS_A, backend: 'legacy', alg: 'RS256', error: null });
    expect(t.claims?.sub).toBe('u1');
  });

  it('verifies a good ES256 token with an allowed tenant', async () => {
    const tok = await new SignJWT({ iss: ISS_B, aud: 'client-1', sub: 'u', tid: 'tenant-1', iat: NOW_S, exp: NOW_S + 60 }).setProtectedHeader({ alg: 'ES256', kid: 'ec-1' }).sign(ec.privateKey);
    expect((await verifyToken(tok, 'id_token', ctx)).verified).toBe(true);
  });

  it('T-J1: alg none', async () => {
    const tok = `${b64url({ alg: 'none' })}.${b64url(claimsA())}.`;
    expect((await verifyToken(tok, 'id_token', ctx)).error).toBe('alg_not_allowed');
    const tok2 = `${b64url({ alg: 'none', kid: 'rsa-1' })}.${b64url(claimsA())}.c2ln`;
    expect((await verifyToken(tok2, 'id_token', ctx)).error).toBe('alg_not_allowed');
  });

  it('T-J2: HS256 signed with the RSA public key as the secret', async () => {
    const input = `${b64url({ alg: 'HS256', kid: 'rsa-1' })}.${b64url(claimsA())}`;
    const sig = createHmac('sha256', rsa.pem).update(input).digest('base64url');
    expect((await verifyToken(`${input}.${sig}`, 'id_token', ctx)).error).toBe('alg_not_allowed');
  });

  it('an allowed alg of another issuer (ES256 on an RS256 issuer)', async () => {
    const tok = await new SignJWT(claimsA()).setProtectedHeader({ alg: 'ES256', kid: 'rsa-1' }).sign(ec.privateKey);
    expect((await verifyToken(tok, 'id_token', ctx)).error).toBe('alg_not_allowed');
  });

  it.each(['../../../../dev/null', "' OR 1=1--", 'rsa-2'])('T-J3: kid %s → kid_unknown', async (kid) => {
    expect((await verifyToken(await signA({}, { kid }), 'id_token', ctx)).error).toBe('kid_unknown');
  });

  it.each([
    ['jku', { jku: 'https://attacker.example/jwks' }],
    ['x5u', { x5u: 'https://attacker.example/cert' }],
    ['jwk', { jwk: {} }],
    ['x5c', { x5c: ['MIIB'] }],
  ])('T-J4: %s header → key_source_not_allowed', async (_n, h) => {
    expect((await verifyToken(await signA({}, h), 'id_token', ctx)).error).toBe('key_source_not_allowed');
  });

  it('T-J4: an attacker key with the same kid and embedded jwk never verifies', async () => {
    const tok = await new SignJWT({ ...claimsA(), iss: ISS_B }).setProtectedHeader({ alg: 'ES256', kid: 'ec-1' }).sign(attacker.privateKey);
    expect((await verifyToken(tok, 'id_token', ctx)).error).toBe('token_invalid');
  });

  it('T-J5: exp beyond skew → token_expired; within skew ok', async () => {
    expect((await verifyToken(await signA({ exp: NOW_S - 61, iat: NOW_S - 400 }), 'id_token', ctx)).error).toBe('token_expired');
    expect((await verifyToken(await signA({ exp: NOW_S - 30, iat: NOW_S - 400 }), 'id_token', ctx)).error).toBeNull();
  });

  it('T-J6: nbf beyond skew → token_not_yet_valid', async () => {
    expect((await verifyToken(await signA({ nbf: NOW_S + 120 }), 'id_token', ctx)).error).toBe('token_not_yet_valid');
  });

  it('T-J7: wrong aud, or an extra untrusted aud → aud_mismatch', async () => {
    expect((await verifyToken(await signA({ aud: 'other' }), 'id_token', ctx)).error).toBe('aud_mismatch');
    expect((await verifyToken(await signA({ aud: ['client-1', 'evil'] }), 'id_token', ctx)).error).toBe('aud_mismatch');
  });

  it('T-J8 facts: a token of issuer B reports issuer B (the policy compares with the pin)', async () => {
    const tok = await new SignJWT({ iss: ISS_B, aud: 'client-1', sub: 'u', tid: 'tenant-1', iat: NOW_S, exp: NOW_S + 60 }).setProtectedHeader({ alg: 'ES256', kid: 'ec-1' }).sign(ec.privateKey);
    expect(await verifyToken(tok, 'id_token', ctx)).toMatchObject({ verified: true, issuer: ISS_B, backend: 'new' });
  });

  it('T-M5: an unknown issuer', async () => {
    expect((await verifyToken(await signA({ iss: 'https://attacker.example' }), 'id_token', ctx)).error).toBe('issuer_unknown');
  });

  describe('T-J10 / T-W9 type confusion', () => {
    const events = { [BCL_EVENT]: {} };
    it('a logout token presented as an id_token', async () => {
      expect((await verifyToken(await signA({ events }, { typ: 'logout+jwt' }), 'id_token', ctx)).error).toBe('typ_mismatch');
      expect((await verifyToken(await signA({ events }), 'id_token', ctx)).error).toBe('typ_mismatch');
    });
    it('an id_token presented as an access token (at+jwt required)', async () => {
      expect((await verifyToken(await signA({ nonce: 'n' }), 'access_token', ctx)).error).toBe('typ_mismatch');
      expect((await verifyToken(await signA({ client_id: 'client-1' }, { typ: 'at+jwt' }), 'access_token', ctx)).error).toBeNull();
      expect((await verifyToken(await signA({ client_id: 'client-1' }, { typ: 'application/at+jwt' }), 'access_token', ctx)).error).toBeNull();
    });
    it('an access token presented as an id_token', async () => {
      expect((await verifyToken(await signA({}, { typ: 'at+jwt' }), 'id_token', ctx)).error).toBe('typ_mismatch');
    });
    it('a logout token without typ, without events, or with nonce', async () => {
      expect((await verifyToken(await signA({ events }), 'logout_token', ctx)).error).toBe('typ_mismatch');
      expect((await verifyToken(await signA({}, { typ: 'logout+jwt' }), 'logout_token', ctx)).error).toBe('typ_mismatch');
      expect((await verifyToken(await signA({ events, nonce: 'n' }, { typ: 'logout+jwt' }), 'logout_token', ctx)).error).toBe('typ_mismatch');
      expect((await verifyToken(await signA({ events, jti: 'x' }, { typ: 'logout+jwt' }), 'logout_token', ctx)).error).toBeNull();
    });
  });

  it('T-J11 facts: verification is pure — the same one-shot token verifies twice (its jti is a one-time marker the token phase registers and only the commit phase writes)', async () => {
    const tok = await signA({ jti: 'j-1', client_id: 'client-1' }, { typ: 'at+jwt' });
    expect((await verifyToken(tok, 'access_token', ctx)).error).toBeNull();
    expect((await verifyToken(tok, 'access_token', ctx)).error).toBeNull();
  });

  describe('T-J12: refused before crypto', () => {
    it.each([
      ['oversized', () => `${b64url({ alg: 'RS256' })}.${'A'.repeat(17000)}.sig`],
      ['two parts', () => `${b64url({ alg: 'RS256' })}.${b64url(claimsA())}`],
      ['four parts', () => `${b64url({ alg: 'RS256' })}.${b64url(claimsA())}.a.b`],
      ['header not an object', () => `${Buffer.from('[1]').toString('base64url')}.${b64url(claimsA())}.sig`],
      ['header not JSON', () => `${Buffer.from('{x').toString('base64url')}.${b64url(claimsA())}.sig`],
      ['deep JSON', () => `${b64url({ alg: 'RS256' })}.${Buffer.from('{"a":' + '['.repeat(50) + ']'.repeat(50) + '}').toString('base64url')}.sig`],
      ['huge crit', () => `${b64url({ alg: 'RS256', crit: Array.from({ length: 500 }, (_, i) => `c${i}`) })}.${b64url(claimsA())}.sig`],
      ['crit present', () => `${b64url({ alg: 'RS256', crit: ['exp'] })}.${b64url(claimsA())}.sig`],
      ['non-base64url', () => `${b64url({ alg: 'RS256' })}.${b64url(claimsA())}.s*g`],
    ])('%s → token_malformed', async (_n, make) => {
      expect((await verifyToken(make(), 'id_token', ctx)).error).toBe('token_malformed');
    });
  });

  it('T-T2: a tid not on the allow-list → tenant_not_allowed', async () => {
    const tok = await new SignJWT({ iss: ISS_B, aud: 'client-1', sub: 'u', tid: 'common-attacker', iat: NOW_S, exp: NOW_S + 60 }).setProtectedHeader({ alg: 'ES256', kid: 'ec-1' }).sign(ec.privateKey);
    expect((await verifyToken(tok, 'id_token', ctx)).error).toBe('tenant_not_allowed');
    const none = await new SignJWT({ iss: ISS_B, aud: 'client-1', sub: 'u', iat: NOW_S, exp: NOW_S + 60 }).setProtectedHeader({ alg: 'ES256', kid: 'ec-1' }).sign(ec.privateKey);
    expect((await verifyToken(none, 'id_token', ctx)).error).toBe('tenant_not_allowed');
  });

  it('a bad signature → token_invalid', async () => {
    const tok = await signA();
    const [h, p] = tok.split('.');
    const other = (await signA({ sub: 'u2' })).split('.')[2];
    expect((await verifyToken(`${h}.${p}.${other}`, 'id_token', ctx)).error).toBe('token_invalid');
  });

  it('a re-spelt part (pad bits set, padding, the standard alphabet) → non_canonical_encoding, before any crypto', async () => {
    const tok = await signA();
    const [h, p, sig] = tok.split('.');
    expect((await verifyToken(tok, 'id_token', ctx)).verified).toBe(true);
    const alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // RS256: 256 bytes → 342 characters, 4 pad bits in the last one.
    const sibling = sig.slice(0, -1) + alpha[alpha.indexOf(sig[sig.length - 1]) | 1];
    expect(Buffer.from(sibling, 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true);
    for (const t of [`${h}.${p}.${sibling}`, `${h}.${p}.${sig}==`, `${h}.${p}.${sig.replace(/-/g, '+').replace(/_/g, '/')}`, `${h}.${p}=.${sig}`]) {
      if (t === tok) continue;
      expect((await verifyToken(t, 'id_token', ctx)).error).toBe('non_canonical_encoding');
    }
    expect((await verifyToken(`${h}.${p}.${sig}!`, 'id_token', ctx)).error).toBe('token_malformed');
  });
});
