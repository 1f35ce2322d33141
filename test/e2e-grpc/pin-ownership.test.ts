// Pins are owned (docs/threat-model.md, pins): a state pinned to one backend can never be re-pinned to
// another through the Pin API — refused, logged and counted — while the same backend registering it
// again is idempotent. Pin API tokens are scoped by connection AND backend: a token of one connection
// never pins flows on another, even where backend ids repeat. Over gRPC and HTTP/JSON.
// Threat rows (docs/threat-model.md): T-S13, T-S14.
import * as grpc from '@grpc/grpc-js';
import { createDemoSetup } from '../../ext-authz/src/config/default';
import { startHarness, cb, httpRequest, ISS_LEGACY } from '../support/app-harness';
import type { Harness } from '../support/app-harness';
import { OTHER_HOST, storeReady, twoConnectionSetup } from './two-connections';
import { redisAvailability, startRedis, type RunningRedis } from '../support/redis-server';

jest.setTimeout(60_000);

const STORES = redisAvailability('pin ownership over Redis') ? (['memory', 'redis'] as const) : (['memory'] as const);

const LEGACY_TOKEN = 'legacy-token-for-test-0123456789';
const NEW_TOKEN = 'new-token-for-test-0123456789';

type Via = 'grpc' | 'http';

function createPin(h: Harness, via: Via, token: string, body: Record<string, unknown>): Promise<{ ok: boolean; code: number | string }> {
  if (via === 'http') {
    return httpRequest(h.httpPort, 'POST', '/v1/pins', { 'content-type': 'application/json', authorization: `Bearer ${token}` }, JSON.stringify(body)).then((r) => ({ ok: r.status === 200, code: r.status }));
  }
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) => h.pins.CreatePin(body, md, (e: (Error & { code?: number }) | null) => resolve({ ok: e === null, code: e?.code ?? 0 })));
}

describe.each(STORES)('one connection, a token per backend, %s store', (store) => {
  let h: Harness;
  let redis: RunningRedis | null = null;
  beforeAll(async () => {
    const demo = createDemoSetup();
    demo.registry.keys.pin_api_tokens = { legacy: LEGACY_TOKEN, new: NEW_TOKEN };
    if (store === 'redis') redis = await startRedis();
    h = await startHarness({ demo, redisUrl: redis ? `${redis.url}/0` : undefined });
    await storeReady(h);
  });
  afterAll(async () => {
    await h?.close();
    redis?.stop();
  });

  describe.each(['grpc', 'http'] as Via[])('over %s', (via) => {
    test('a state pinned to legacy cannot be re-pinned to new: refused (409 / ALREADY_EXISTS), logged, counted; the flow still routes to legacy', async () => {
      const state = `takeover-${via}-CANARYTAKEOVER`;
      expect(await createPin(h, via, LEGACY_TOKEN, { connection: 'demo', backend: 'legacy', state, responseMode: 'query' })).toMatchObject({ ok: true });
      const before = h.app.metrics.pinApiCalls.get({ method: 'CreatePin', result: 'already_exists' });
      const takeover = await createPin(h, via, NEW_TOKEN, { connection: 'demo', backend: 'new', state, responseMode: 'query' });
      expect(takeover).toEqual({ ok: false, code: via === 'http' ? 409 : grpc.status.ALREADY_EXISTS });
      expect(h.app.metrics.pinApiCalls.get({ method: 'CreatePin', result: 'already_exists' })).toBe(before + 1);
      await new Promise((r) => setTimeout(r, 30));
      const line = h.logs.join('').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.event === 'pin_takeover_refused' && l.backend === 'new');
      expect(line).toMatchObject({ connection: 'demo', backend: 'new' });
      expect(typeof line?.state_hash).toBe('string');
      expect(h.logs.join('')).not.toContain('CANARYTAKEOVER');
      // The callback goes to the backend that started the flow.
      expect(await h.ask('grpc', { path: cb({ code: `own-${via}`, state, iss: ISS_LEGACY }) })).toMatchObject({ allowed: true, backend: 'legacy' });
    });

    test('the same backend registering its state again is idempotent', async () => {
      const state = `again-${via}`;
      for (let i = 0; i < 3; i++) expect(await createPin(h, via, LEGACY_TOKEN, { connection: 'demo', backend: 'legacy', state, responseMode: 'query' })).toMatchObject({ ok: true });
      // A different registration by the same backend (another response mode) is not the same pin.
      expect(await createPin(h, via, LEGACY_TOKEN, { connection: 'demo', backend: 'legacy', state, responseMode: 'form_post' })).toMatchObject({ ok: false });
      expect(await h.ask('grpc', { path: cb({ code: `again-${via}`, state, iss: ISS_LEGACY }) })).toMatchObject({ allowed: true, backend: 'legacy' });
    });

    test('a re-pin after the flow was used is refused as well (a spent state never changes owner)', async () => {
      const state = `spent-${via}`;
      await createPin(h, via, LEGACY_TOKEN, { connection: 'demo', backend: 'legacy', state, responseMode: 'query' });
      expect(await h.ask('grpc', { path: cb({ code: `spent-${via}`, state, iss: ISS_LEGACY }) })).toMatchObject({ allowed: true });
      expect(await createPin(h, via, NEW_TOKEN, { connection: 'demo', backend: 'new', state, responseMode: 'query' })).toMatchObject({ ok: false });
      expect(await h.ask('grpc', { path: cb({ code: `spent2-${via}`, state, iss: 'https://new-idp.example.com' }) })).toMatchObject({ allowed: false });
    });
  });

  test('concurrent registrations of one state by both backends: exactly one owns it', async () => {
    const state = 'raced-state';
    const r = await Promise.all(Array.from({ length: 20 }, (_, i) => createPin(h, i % 2 ? 'grpc' : 'http', i % 2 ? NEW_TOKEN : LEGACY_TOKEN, { connection: 'demo', backend: i % 2 ? 'new' : 'legacy', state, responseMode: 'query' })));
    const owners = r.filter((x) => x.ok).length;
    expect(owners).toBe(10); // the winner's ten registrations (idempotent), none of the loser's
  });
});

describe('two connections sharing backend ids, tokens scoped by connection and backend', () => {
  let h: Harness;
  const A = 'demo-legacy-token-0123456789';
  const B = 'other-legacy-token-0123456789';
  beforeAll(async () => {
    const setup = twoConnectionSetup();
    setup.registry.keys.pin_api_tokens = { 'demo/legacy': A, 'other/legacy': B };
    h = await startHarness({ demo: setup });
  });
  afterAll(async () => {
    await h?.close();
  });

  test.each(['grpc', 'http'] as Via[])('over %s: each token pins its own connection only', async (via) => {
    expect(await createPin(h, via, A, { connection: 'demo', backend: 'legacy', state: `a-${via}`, responseMode: 'query' })).toMatchObject({ ok: true });
    expect(await createPin(h, via, B, { connection: 'other', backend: 'legacy', state: `b-${via}`, responseMode: 'query' })).toMatchObject({ ok: true });
    const cross = await createPin(h, via, A, { connection: 'other', backend: 'legacy', state: `c-${via}`, responseMode: 'query' });
    expect(cross).toEqual({ ok: false, code: via === 'http' ? 403 : grpc.status.PERMISSION_DENIED });
    expect(await h.ask('grpc', { host: OTHER_HOST, path: cb({ code: `b-${via}`, state: `b-${via}`, iss: ISS_LEGACY }) })).toMatchObject({ allowed: true, backend: 'legacy' });
    expect(await h.ask('grpc', { host: OTHER_HOST, path: cb({ code: `c-${via}`, state: `c-${via}`, iss: ISS_LEGACY }) })).toMatchObject({ allowed: false, reason: 'state_unknown' });
  });
});
