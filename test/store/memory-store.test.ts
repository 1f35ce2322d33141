// In-memory stores: pins owned by their first registration, markers peeked without writing and committed
// all-or-nothing, TTL, bounded size (DESIGN §2 "Pins").
// Threat rows (docs/threat-model.md): T-S11.
import { MemoryPinStore, MemoryReplayStore } from '../../ext-authz/src/store/memory-store';
import type { Marker, PinRecord } from '../../ext-authz/src/store/types';

const pin = (hash: string, backend = 'new', connection = 'c'): PinRecord => ({ flow_key_hash: hash, backend, issuer: 'https://i', connection, response_mode: null, created_at: 1, expires_at: 2 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const m = (namespace: Marker['namespace'], hash: string, ttlMs = 10_000): Marker => ({ namespace, hash, ttlMs });

describe('MemoryPinStore', () => {
  it('the first registration owns the pin; the same one again is idempotent; another backend or connection is refused', async () => {
    const s = new MemoryPinStore();
    expect(await s.put(pin('h'), 10_000)).toEqual({ status: 'created', pin: pin('h') });
    expect(await s.put({ ...pin('h'), created_at: 5, expires_at: 9 }, 10_000)).toEqual({ status: 'unchanged', pin: pin('h') });
    expect(await s.put(pin('h', 'legacy'), 10_000)).toEqual({ status: 'conflict', owner: pin('h') });
    expect(await s.put(pin('h', 'new', 'other'), 10_000)).toEqual({ status: 'conflict', owner: pin('h') });
    expect(await s.get('h')).toEqual(pin('h'));
    expect(await s.get('other')).toBeNull();
  });

  it('expires after its TTL', async () => {
    const s = new MemoryPinStore();
    await s.put(pin('h'), 30);
    await sleep(60);
    expect(await s.get('h')).toBeNull();
  });

  it('is bounded', async () => {
    const s = new MemoryPinStore({ max: 10 });
    for (let i = 0; i < 50; i++) await s.put(pin(`h${i}`), 10_000);
    expect(s.size).toBe(10);
  });

  it('concurrent registrations for two backends: exactly one owns the pin', async () => {
    const s = new MemoryPinStore();
    const r = await Promise.all(Array.from({ length: 20 }, (_, i) => s.put(pin('h', i % 2 ? 'legacy' : 'new'), 10_000)));
    expect(r.filter((x) => x.status === 'created')).toHaveLength(1);
    const owner = (await s.get('h'))?.backend;
    expect(r.filter((x) => x.status === 'conflict')).toHaveLength(10);
    expect(r.every((x) => x.status !== 'unchanged' || x.pin.backend === owner)).toBe(true);
  });
});

describe('MemoryReplayStore', () => {
  it('peek never writes; commit sets every marker; a second commit of any of them is refused', async () => {
    const s = new MemoryReplayStore();
    expect(await s.peek([m('code', 'x'), m('state', 'x')])).toEqual([false, false]);
    expect(await s.peek([m('code', 'x')])).toEqual([false]);
    expect(await s.commit([m('code', 'x'), m('state', 'y')])).toEqual({ ok: true });
    expect(await s.peek([m('code', 'x'), m('state', 'y'), m('jti', 'x')])).toEqual([true, true, false]);
    expect(await s.commit([m('jti', 'x'), m('state', 'y')])).toEqual({ ok: false, taken: 1 });
  });

  it('all or nothing: a refused commit writes none of its markers', async () => {
    const s = new MemoryReplayStore();
    await s.commit([m('state', 's')]);
    expect(await s.commit([m('code', 'fresh'), m('state', 's'), m('jti', 'fresh')])).toEqual({ ok: false, taken: 1 });
    expect(await s.peek([m('code', 'fresh'), m('jti', 'fresh')])).toEqual([false, false]);
  });

  it('markers expire after their TTL, per namespace', async () => {
    // The TTL runs on the wall clock: 40 ms (as it once was) failed when a loaded machine paused the test
    // for longer between commit and the first peek. 500 ms leaves room for that pause.
    const s = new MemoryReplayStore();
    await s.commit([m('code', 'x', 500)]);
    expect(await s.peek([m('code', 'x'), m('jti', 'x')])).toEqual([true, false]);
    await sleep(600);
    expect(await s.peek([m('code', 'x')])).toEqual([false]);
  });

  it('50 concurrent commits of the same marker: exactly one succeeds', async () => {
    const s = new MemoryReplayStore();
    const r = await Promise.all(Array.from({ length: 50 }, (_, i) => s.commit([m('state', 'S'), m('code', `c${i}`)])));
    expect(r.filter((x) => x.ok)).toHaveLength(1);
    // The losers' codes were never written.
    const seen = await s.peek(Array.from({ length: 50 }, (_, i) => m('code', `c${i}`)));
    expect(seen.filter(Boolean)).toHaveLength(1);
  });
});
