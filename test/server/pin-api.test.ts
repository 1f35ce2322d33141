// The Pin API (proto/callbackproxy/v1/pins.proto) over gRPC and HTTP/JSON: CreatePin registers a
// backend's own state (hashed at once), MintState mints one; per-backend bearer tokens.
import * as grpc from '@grpc/grpc-js';
import { createDemoSetup } from '../../ext-authz/src/config/default';
import { startHarness, cb, httpRequest, ISS_LEGACY } from '../support/app-harness';
import type { Harness } from '../support/app-harness';

jest.setTimeout(60_000);

const LEGACY_TOKEN = 'legacy-token-for-test-0123456789';
const NEW_TOKEN = 'new-token-for-test-0123456789';
let h: Harness;

beforeAll(async () => {
  const demo = createDemoSetup();
  demo.registry.keys.pin_api_tokens = { legacy: LEGACY_TOKEN, new: NEW_TOKEN };
  h = await startHarness({ demo });
});
afterAll(async () => {
  await h.close();
});

function createPin(token: string | null, body: Record<string, unknown>): Promise<any> {
  const md = new grpc.Metadata();
  if (token !== null) md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve, reject) => h.pins.CreatePin(body, md, (e: Error | null, v: unknown) => (e ? reject(e) : resolve(v))));
}

test('CreatePin over gRPC: the registered state routes to its backend, once; nothing raw is logged', async () => {
  const state = 'legacy-generated-state-CANARYPINSTATE';
  const r = await createPin(LEGACY_TOKEN, { connection: 'demo', backend: 'legacy', state, responseMode: 'query' });
  expect(r.stateHash).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  expect(Number(r.expiresAtMs)).toBeGreaterThan(Date.now());
  expect(await h.ask('grpc', { path: cb({ code: 'pin-c1', state, iss: ISS_LEGACY }) })).toMatchObject({ allowed: true, backend: 'legacy' });
  expect(await h.ask('grpc', { path: cb({ code: 'pin-c2', state, iss: ISS_LEGACY }) })).toMatchObject({ allowed: false, reason: 'state_replayed' });
  await new Promise((res) => setTimeout(res, 30));
  expect(h.logs.join('') + h.decisionLines.join('')).not.toContain('CANARYPINSTATE');
});

test('gRPC: no token → UNAUTHENTICATED, another backend → PERMISSION_DENIED, bad input → INVALID_ARGUMENT', async () => {
  await expect(createPin(null, { connection: 'demo', backend: 'legacy', state: 's1' })).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
  await expect(createPin('wrong', { connection: 'demo', backend: 'legacy', state: 's1' })).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
  await expect(createPin(LEGACY_TOKEN, { connection: 'demo', backend: 'new', state: 's1' })).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
  await expect(createPin(LEGACY_TOKEN, { connection: 'demo', backend: 'legacy', state: '' })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  await expect(createPin(LEGACY_TOKEN, { connection: 'nope', backend: 'legacy', state: 's' })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  await expect(createPin(LEGACY_TOKEN, { connection: 'demo', backend: 'legacy', state: 's', responseMode: 'fragment' })).rejects.toMatchObject({
    code: grpc.status.INVALID_ARGUMENT,
  });
});

test('HTTP/JSON: POST /v1/pins and /v1/pins:mint with the same rules', async () => {
  const post = (p: string, token: string | null, body: unknown) =>
    httpRequest(h.httpPort, 'POST', p, { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, JSON.stringify(body));
  const ok = await post('/v1/pins', NEW_TOKEN, { connection: 'demo', backend: 'new', state: 'new-generated-state-1', response_mode: 'query' });
  expect(ok.status).toBe(200);
  expect(JSON.parse(ok.body)).toHaveProperty('stateHash');
  const none = await post('/v1/pins', null, { connection: 'demo', backend: 'new', state: 'x' });
  expect(none.status).toBe(401);
  expect(none.headers['www-authenticate']).toBe('Bearer');
  expect((await post('/v1/pins:mint', NEW_TOKEN, { connection: 'demo', backend: 'legacy' })).status).toBe(403);
  const minted = await post('/v1/pins:mint', NEW_TOKEN, { connection: 'demo', backend: 'new' });
  expect(minted.status).toBe(200);
  expect(typeof JSON.parse(minted.body).state).toBe('string');
  const bad = await httpRequest(h.httpPort, 'POST', '/v1/pins', { authorization: `Bearer ${NEW_TOKEN}` }, '{not json');
  expect(bad.status).toBe(400);
  expect((await httpRequest(h.httpPort, 'GET', '/v1/nothing', {})).status).toBe(404);
});

test('CreatePin with flow_key_type relay_state pins a SAML flow: the ACS POST routes to its backend, once', async () => {
  const relay = 'legacy-relay-CANARYRELAYPIN';
  const r = await createPin(LEGACY_TOKEN, { connection: 'demo', backend: 'legacy', state: relay, flowKeyType: 'relay_state' });
  expect(r.stateHash).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  const xml =
    '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" InResponseTo="_q1" Version="2.0">' +
    `<saml:Issuer>${ISS_LEGACY}</saml:Issuer></samlp:Response>`;
  const body = `SAMLResponse=${encodeURIComponent(Buffer.from(xml).toString('base64'))}&RelayState=${encodeURIComponent(relay)}`;
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  expect(await h.ask('grpc', { method: 'POST', path: '/saml/acs', headers, body })).toMatchObject({ allowed: true, backend: 'legacy' });
  expect(await h.ask('grpc', { method: 'POST', path: '/saml/acs', headers, body })).toMatchObject({ allowed: false, reason: 'state_replayed' });
  // Only "state" and "relay_state" name a flow key.
  await expect(createPin(LEGACY_TOKEN, { connection: 'demo', backend: 'legacy', state: relay, flowKeyType: 'saml' })).rejects.toMatchObject({
    code: grpc.status.INVALID_ARGUMENT,
  });
});
