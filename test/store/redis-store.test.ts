// Redis stores against a real redis-server started on a free port (DESIGN §6). Skips loudly when the
// binary is missing, except in CI where it must run. Also: a dead store fails closed (store_unavailable).
import { gatherFacts } from '../../ext-authz/src/pipeline/facts/gather';
import { createFactsDeps } from '../../ext-authz/src/pipeline/facts/gather';
import { createPin } from '../../ext-authz/src/pipeline/pins/mint';
import { createRedisStores } from '../../ext-authz/src/store/redis-store';
import type { PinRecord } from '../../ext-authz/src/store/types';
import { demoSetup, get, NOW } from '../pipeline/facts/fixtures';
import { redisAvailability, startRedis, type RunningRedis } from '../support/redis-server';
import { freePort } from '../../demo/ports';

const maybe = redisAvailability('redis store tests') ? describe : describe.skip;

const pin = (hash: string): PinRecord => ({ flow_key_hash: hash, backend: 'new', issuer: 'https://i', connection: 'demo', response_mode: 'query', created_at: 1, expires_at: 2 });

maybe('Redis stores', () => {
  let server: RunningRedis;
  let stores: ReturnType<typeof createRedisStores>;
  const prefix = `t${Date.now()}:`;

  beforeAll(async () => {
    server = await startRedis();
    stores = createRedisStores({ url: server.url, prefix });
  });

  afterAll(async () => {
    await stores?.pinStore.close();
    server?.stop();
  });

  it('put/get/consume once', async () => {
    await stores.pinStore.put(pin('h1'), 10_000);
    expect(await stores.pinStore.get('h1')).toEqual(pin('h1'));
    expect(await stores.pinStore.consume('h1')).toEqual({ pin: pin('h1'), consumedBefore: false });
    expect(await stores.pinStore.consume('h1')).toEqual({ pin: pin('h1'), consumedBefore: true });
    expect(await stores.pinStore.consume('nope')).toEqual({ pin: null, consumedBefore: false });
  });

  it('a re-put keeps the consumed count', async () => {
    await stores.pinStore.put(pin('h2'), 10_000);
    await stores.pinStore.consume('h2');
    await stores.pinStore.put(pin('h2'), 10_000);
    expect((await stores.pinStore.consume('h2')).consumedBefore).toBe(true);
  });

  it('concurrent consumes across clients: exactly one first use', async () => {
    const other = createRedisStores({ url: server.url, prefix });
    await stores.pinStore.put(pin('h3'), 10_000);
    const r = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? other : stores).pinStore.consume('h3')));
    expect(r.filter((x) => !x.consumedBefore)).toHaveLength(1);
    await other.pinStore.close();
  });

  it('TTL expiry', async () => {
    await stores.pinStore.put(pin('h4'), 50);
    await new Promise((r) => setTimeout(r, 120));
    expect(await stores.pinStore.get('h4')).toBeNull();
  });

  it('replay markers: SET NX PX', async () => {
    expect(await stores.replayStore.firstSeen('code', 'x', 10_000)).toBe(true);
    expect(await stores.replayStore.firstSeen('code', 'x', 10_000)).toBe(false);
    expect(await stores.replayStore.firstSeen('webhook', 'x', 10_000)).toBe(true);
  });

  it('pins shared between two facts instances (two replicas)', async () => {
    const setup = demoSetup();
    const a = createFactsDeps(setup.registry, { pinStore: stores.pinStore, replayStore: stores.replayStore });
    const b = createFactsDeps(setup.registry, { pinStore: stores.pinStore, replayStore: stores.replayStore });
    await createPin('demo', 'legacy', 'shared-state', null, a, NOW);
    const f = await gatherFacts(get('/oauth2/callback?code=c&state=shared-state'), b, NOW);
    expect(f.input.pin).toMatchObject({ found: true, backend: 'legacy', consumed_before: false });
    const g = await gatherFacts(get('/oauth2/callback?code=c2&state=shared-state'), a, NOW);
    expect(g.input.pin.consumed_before).toBe(true);
  });
});

describe('store failure fails closed', () => {
  it('an unreachable Redis → store_unavailable in the facts, never a throw', async () => {
    const port = await freePort(); // nothing listens there
    const dead = createRedisStores({ url: `redis://127.0.0.1:${port}`, commandTimeoutMs: 200 });
    dead.client.on('error', () => undefined);
    try {
      const deps = createFactsDeps(demoSetup().registry, { pinStore: dead.pinStore, replayStore: dead.replayStore });
      const f = await gatherFacts(get('/oauth2/callback?code=c&state=some-state'), deps, NOW);
      expect(f.input.pin.error).toBe('store_unavailable');
      expect(f.input.callback.violations).toContain('store_unavailable');
    } finally {
      await dead.pinStore.close();
    }
  });
});
