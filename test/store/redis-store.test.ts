// Redis stores against a real redis-server started on a free port (docs/operations.md, "Redis"). Skips loudly when the
// binary is missing, except in CI where it must run. Also: a dead store fails closed (store_unavailable).
// Threat rows (docs/threat-model.md): T-S11.
import { gatherFacts } from '../../ext-authz/src/pipeline/facts/gather';
import { createFactsDeps } from '../../ext-authz/src/pipeline/facts/gather';
import { createPin } from '../../ext-authz/src/pipeline/pins/mint';
import { createRedisStores } from '../../ext-authz/src/store/redis-store';
import type { Marker, PinRecord } from '../../ext-authz/src/store/types';
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
    stores = await open();
  });

  /** Stores on the test server; usable once the first epoch check passed. */
  async function open(): Promise<ReturnType<typeof createRedisStores>> {
    // A generous command timeout: the machine running the suite may be loaded.
    const s = createRedisStores({ url: server.url, prefix, commandTimeoutMs: 5000, checkSettings: false });
    expect(await s.link.waitUsable(10_000)).toBe(true);
    return s;
  }

  afterAll(async () => {
    await stores?.pinStore.close();
    server?.stop();
  });

  const m = (namespace: Marker['namespace'], hash: string, ttlMs = 10_000): Marker => ({ namespace, hash, ttlMs });

  it('put/get: the first registration owns the pin, the same one again is idempotent, another is refused', async () => {
    expect(await stores.pinStore.put(pin('h1'), 10_000)).toEqual({ status: 'created', pin: pin('h1') });
    expect(await stores.pinStore.get('h1')).toEqual(pin('h1'));
    expect(await stores.pinStore.put({ ...pin('h1'), created_at: 7 }, 10_000)).toEqual({ status: 'unchanged', pin: pin('h1') });
    expect(await stores.pinStore.put({ ...pin('h1'), backend: 'legacy' }, 10_000)).toEqual({ status: 'conflict', owner: pin('h1') });
    expect(await stores.pinStore.put({ ...pin('h1'), connection: 'other' }, 10_000)).toEqual({ status: 'conflict', owner: pin('h1') });
    expect(await stores.pinStore.get('h1')).toEqual(pin('h1'));
    expect(await stores.pinStore.get('nope')).toBeNull();
  });

  it('concurrent registrations for two backends across clients: exactly one owns the pin', async () => {
    const other = await open();
    const r = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? other : stores).pinStore.put({ ...pin('h3'), backend: i % 3 ? 'new' : 'legacy' }, 10_000)));
    expect(r.filter((x) => x.status === 'created')).toHaveLength(1);
    await other.pinStore.close();
  });

  it('TTL expiry', async () => {
    await stores.pinStore.put(pin('h4'), 50);
    await new Promise((r) => setTimeout(r, 120));
    expect(await stores.pinStore.get('h4')).toBeNull();
  });

  it('markers: peek never writes; commit is all or nothing', async () => {
    expect(await stores.replayStore.peek([m('code', 'x'), m('state', 'x')])).toEqual([false, false]);
    expect(await stores.replayStore.peek([m('code', 'x')])).toEqual([false]);
    expect(await stores.replayStore.commit([m('code', 'x'), m('state', 'y')])).toEqual({ ok: true });
    expect(await stores.replayStore.peek([m('code', 'x'), m('state', 'y'), m('webhook', 'x')])).toEqual([true, true, false]);
    expect(await stores.replayStore.commit([m('jti', 'fresh'), m('state', 'y'), m('webhook', 'fresh')])).toEqual({ ok: false, taken: 1 });
    expect(await stores.replayStore.peek([m('jti', 'fresh'), m('webhook', 'fresh')])).toEqual([false, false]);
  });

  it('markers carry their TTL', async () => {
    expect(await stores.replayStore.commit([m('code', 'short', 50)])).toEqual({ ok: true });
    await new Promise((r) => setTimeout(r, 120));
    expect(await stores.replayStore.peek([m('code', 'short')])).toEqual([false]);
  });

  it('50 concurrent commits of one state across two clients: exactly one succeeds, losers write nothing', async () => {
    const other = await open();
    const r = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? other : stores).replayStore.commit([m('state', 'S50'), m('code', `c50-${i}`)])));
    expect(r.filter((x) => x.ok)).toHaveLength(1);
    const seen = await stores.replayStore.peek(Array.from({ length: 50 }, (_, i) => m('code', `c50-${i}`)));
    expect(seen.filter(Boolean)).toHaveLength(1);
    await other.pinStore.close();
  });

  it('pins shared between two facts instances (two replicas)', async () => {
    const setup = demoSetup();
    const a = createFactsDeps(setup.registry, { pinStore: stores.pinStore, replayStore: stores.replayStore });
    const b = createFactsDeps(setup.registry, { pinStore: stores.pinStore, replayStore: stores.replayStore });
    // The store's epoch began when the test started: flows must be issued after it.
    const now = Date.now();
    await createPin('demo', 'legacy', 'shared-state', null, a, now);
    const f = await gatherFacts(get('/oauth2/callback?code=c&state=shared-state'), b, now);
    expect(f.input.pin).toMatchObject({ found: true, backend: 'legacy', consumed_before: false });
    // Facts only read: B's commit (what the pipeline does when it forwards) is what A then sees.
    expect(await b.replayStore.commit(f.markers.filter((x) => x.commit))).toEqual({ ok: true });
    const g = await gatherFacts(get('/oauth2/callback?code=c2&state=shared-state'), a, now);
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
