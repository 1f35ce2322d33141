// A registry reload keeps the remote JWKS cache of every issuer whose entry did not change: the
// dependencies are rebuilt the way the service rebuilds them on reload (createFactsDeps with the last
// good deps), tokens are verified with jose against a real local JWKS endpoint, and the endpoint counts
// its fetches. A changed issuer entry gets a fresh verifier (and fetches again).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey } from 'jose';
import { createDemoRegistry } from '../../../ext-authz/src/config/default';
import { createFactsDeps } from '../../../ext-authz/src/pipeline/facts/gather';
import type { FactsDeps } from '../../../ext-authz/src/pipeline/facts/gather';
import { verifyToken } from '../../../ext-authz/src/pipeline/tokens/verify';
import type { RegistryConfig } from '../../../ext-authz/src/model/registry';
import { MemoryPinStore, MemoryReplayStore } from '../../../ext-authz/src/store/memory-store';

const REMOTE = 'https://remote-idp.example.com';
let server: http.Server;
let jwksUri = '';
let hits = 0;
let privateKey: CryptoKey;
let jwks: unknown;

beforeAll(async () => {
  const k = await generateKeyPair('ES256', { extractable: true });
  privateKey = k.privateKey;
  jwks = { keys: [{ ...(await exportJWK(k.publicKey)), kid: 'k1', alg: 'ES256' }] };
  server = http.createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(jwks));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** The demo registry plus one issuer with a remote JWKS (it belongs to the demo's new backend). */
function registry(edit: (r: RegistryConfig) => void = () => undefined): RegistryConfig {
  const r = createDemoRegistry();
  r.issuers.push({ issuer: REMOTE, backend: 'new', jwks_uri: jwksUri, algs: ['ES256'], audiences: ['c'], clock_skew_s: 60 });
  edit(r);
  return r;
}

const stores = { pinStore: new MemoryPinStore(), replayStore: new MemoryReplayStore() };

async function verifies(deps: FactsDeps): Promise<boolean> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = await new SignJWT({ iss: REMOTE, aud: 'c', sub: 'u', iat: now, exp: now + 60 }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(privateKey);
  const r = await verifyToken(jwt, 'id_token', { issuers: deps.issuers, maxTokenBytes: 16384, nowMs: Date.now(), audiences: new Map([[REMOTE, ['c']]]) });
  return r.verified;
}

test('an unchanged issuer keeps its JWKS cache across a reload; a changed one starts afresh', async () => {
  hits = 0;
  const first = createFactsDeps(registry(), stores);
  expect(await verifies(first)).toBe(true);
  expect(hits).toBe(1);

  // A reload that changes something else (the stage): the remote issuer's keys are not fetched again.
  const second = createFactsDeps(registry((r) => (r.connections[0].stage = 'cutover')), { ...stores, previous: first });
  expect(second.issuers.get(REMOTE)).toBe(first.issuers.get(REMOTE));
  expect(await verifies(second)).toBe(true);
  expect(hits).toBe(1);

  // The issuer's own entry changed (a new audience): a new verifier, which fetches its keys.
  const third = createFactsDeps(registry((r) => (r.issuers[r.issuers.length - 1].audiences = ['c', 'd'])), { ...stores, previous: second });
  expect(third.issuers.get(REMOTE)).not.toBe(second.issuers.get(REMOTE));
  expect(await verifies(third)).toBe(true);
  expect(hits).toBe(2);

  // Without the previous deps (a fresh start) nothing is shared.
  const fresh = createFactsDeps(registry(), stores);
  expect(fresh.issuers.get(REMOTE)).not.toBe(first.issuers.get(REMOTE));
});

test('an issuer that left the registry is not carried over', () => {
  const first = createFactsDeps(registry(), stores);
  const next = createFactsDeps(createDemoRegistry(), { ...stores, previous: first });
  expect(next.issuers.get(REMOTE)).toBeUndefined();
});
