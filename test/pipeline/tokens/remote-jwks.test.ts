// Remote JWKS through jose's createRemoteJWKSet against a real local HTTP server: keys are fetched
// and cached; an unreachable or failing JWKS endpoint → jwks_unavailable (fail closed).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey } from 'jose';
import { prepareIssuers } from '../../../ext-authz/src/pipeline/tokens/issuer-registry';
import { verifyToken } from '../../../ext-authz/src/pipeline/tokens/verify';

const ISS = 'https://remote.example.com';
/** The audiences this issuer's tokens must name on the (test) connection. */
const AUD: ReadonlyMap<string, readonly string[]> = new Map([[ISS, ['c']]]);
let server: http.Server;
let base = '';
let status = 200;
let hits = 0;
let privateKey: CryptoKey;
let jwks: unknown;

beforeAll(async () => {
  const k = await generateKeyPair('ES256', { extractable: true });
  privateKey = k.privateKey;
  jwks = { keys: [{ ...(await exportJWK(k.publicKey)), kid: 'r1', alg: 'ES256' }] };
  server = http.createServer((_req, res) => {
    hits++;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(status === 200 ? JSON.stringify(jwks) : 'no');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

async function token(kid = 'r1'): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: ISS, aud: 'c', sub: 'u', iat: now, exp: now + 60 }).setProtectedHeader({ alg: 'ES256', kid }).sign(privateKey);
}

it('fetches once, caches, and verifies', async () => {
  const reg = prepareIssuers([{ issuer: ISS, backend: 'new', jwks_uri: `${base}/jwks`, algs: ['ES256'], audiences: ['c'], clock_skew_s: 60 }]);
  const ctx = { issuers: reg, maxTokenBytes: 16384, nowMs: Date.now(), audiences: AUD };
  expect((await verifyToken(await token(), 'id_token', ctx)).verified).toBe(true);
  expect((await verifyToken(await token(), 'id_token', ctx)).verified).toBe(true);
  expect(hits).toBe(1);
  // Unknown kid: one refetch at most (cooldown), then kid_unknown.
  expect((await verifyToken(await token('zz'), 'id_token', ctx)).error).toBe('kid_unknown');
});

it('a failing JWKS endpoint → jwks_unavailable', async () => {
  status = 500;
  const reg = prepareIssuers([{ issuer: ISS, backend: 'new', jwks_uri: `${base}/jwks`, algs: ['ES256'], audiences: ['c'], clock_skew_s: 60 }]);
  expect((await verifyToken(await token(), 'id_token', { issuers: reg, maxTokenBytes: 16384, nowMs: Date.now(), audiences: AUD })).error).toBe('jwks_unavailable');
  status = 200;
});

it('an unreachable JWKS endpoint → jwks_unavailable', async () => {
  const reg = prepareIssuers([{ issuer: ISS, backend: 'new', jwks_uri: 'http://127.0.0.1:9/jwks', algs: ['ES256'], audiences: ['c'], clock_skew_s: 60 }], { timeoutMs: 500 });
  expect((await verifyToken(await token(), 'id_token', { issuers: reg, maxTokenBytes: 16384, nowMs: Date.now(), audiences: AUD })).error).toBe('jwks_unavailable');
});
