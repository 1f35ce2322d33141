// In-memory stores: pins owned by their first registration, markers peeked without writing and committed
// all-or-nothing, expiry on an injected clock (no wall-clock sleeps), and budgets that refuse instead of
// evicting (docs/operations.md, "Store budgets").
// Threat rows (docs/threat-model.md): T-S11, T-C7.
import { MemoryPinStore, MemoryReplayStore } from '../../ext-authz/src/store/memory-store';
import type { BudgetClass } from '../../ext-authz/src/store/budgets';
import type { Marker, PinRecord } from '../../ext-authz/src/store/types';

const pin = (hash: string, backend = 'new', connection = 'c'): PinRecord => ({ flow_key_hash: hash, backend, issuer: 'https://i', connection, response_mode: null, created_at: 1, expires_at: 2 });
const m = (namespace: Marker['namespace'], hash: string, ttlMs = 10_000): Marker => ({ namespace, hash, ttlMs });
/** A clock the test moves by hand. */
const manual = (start = 1_800_000_000_000) => {
  const c = { now: start, fn: () => c.now };
  return c;
};

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

  it('expires after its TTL on the injected clock, never before', async () => {
    const clock = manual();
    const s = new MemoryPinStore({ clock: clock.fn });
    await s.put(pin('h'), 30_000);
    clock.now += 29_999;
    expect(await s.get('h')).toEqual(pin('h'));
    clock.now += 1_001; // past the TTL and its tick
    expect(await s.get('h')).toBeNull();
    expect(s.size).toBe(0);
  });

  it('a full pin budget refuses new pins and keeps every pin it holds', async () => {
    const clock = manual();
    const s = new MemoryPinStore({ clock: clock.fn, budgets: { pin: 10 } });
    for (let i = 0; i < 10; i++) expect((await s.put(pin(`h${i}`), 60_000)).status).toBe('created');
    for (let i = 10; i < 50; i++) expect(await s.put(pin(`h${i}`), 60_000)).toEqual({ status: 'full' });
    for (let i = 0; i < 10; i++) expect(await s.get(`h${i}`)).not.toBeNull();
    // Re-registering a held pin is still idempotent while full.
    expect((await s.put(pin('h3'), 60_000)).status).toBe('unchanged');
    // Room comes back only as held pins expire.
    clock.now += 61_000;
    expect((await s.put(pin('late'), 60_000)).status).toBe('created');
    expect(s.size).toBe(1);
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

  it('markers expire after their TTL on the injected clock, per namespace, never before', async () => {
    // The clock is the test's: a paused or loaded machine cannot make this flaky (it once slept 40 ms).
    const clock = manual();
    const s = new MemoryReplayStore({ clock: clock.fn });
    await s.commit([m('code', 'x', 500), m('state', 'long', 60_000)]);
    expect(await s.peek([m('code', 'x'), m('jti', 'x')])).toEqual([true, false]);
    clock.now += 499;
    expect(await s.peek([m('code', 'x')])).toEqual([true]);
    clock.now += 1_001; // past the TTL and its one-second tick
    expect(await s.peek([m('code', 'x'), m('state', 'long')])).toEqual([false, true]);
    // An expired marker can be written again (the flow it belonged to has expired too).
    expect(await s.commit([m('code', 'x', 500)])).toEqual({ ok: true });
  });

  it('50 concurrent commits of the same marker: exactly one succeeds', async () => {
    const s = new MemoryReplayStore();
    const r = await Promise.all(Array.from({ length: 50 }, (_, i) => s.commit([m('state', 'S'), m('code', `c${i}`)])));
    expect(r.filter((x) => x.ok)).toHaveLength(1);
    // The losers' codes were never written.
    const seen = await s.peek(Array.from({ length: 50 }, (_, i) => m('code', `c${i}`)));
    expect(seen.filter(Boolean)).toHaveLength(1);
  });

  // Issue #7 hole 2 (regression): the replay markers shared one LRU of 200,000 entries, so 200,001 later
  // markers pushed out a used flow's marker and the flow was accepted again. Markers are never evicted
  // now, whatever the budget: a later commit is refused instead.
  it('hole 2: a used marker is never evicted by later commits (default store, 200,001 more markers)', async () => {
    const s = new MemoryReplayStore();
    expect(await s.commit([m('state', 'used-flow', 600_000), m('code', 'used-code', 600_000)])).toEqual({ ok: true });
    let refused = 0;
    for (let i = 0; i < 200_001; i++) {
      const r = await s.commit([m('code', `later-${i}`, 600_000)]);
      if (!r.ok) refused++;
    }
    expect(await s.peek([m('state', 'used-flow'), m('code', 'used-code')])).toEqual([true, true]);
    expect(await s.commit([m('state', 'used-flow'), m('code', 'another')])).toEqual({ ok: false, taken: 0 });
    expect(refused).toBe(0); // the default code budget (250,000) holds them all
  });

  it.each(['state', 'code', 'jti', 'webhook'] as const)('each class has its own budget: a full %s budget refuses that class only, evicting nothing', async (cls: Exclude<BudgetClass, 'pin'>) => {
    const full: string[] = [];
    const s = new MemoryReplayStore({ budgets: { [cls]: 3 }, observer: { budgetFull: (c) => full.push(String(c)) } });
    for (let i = 0; i < 3; i++) expect(await s.commit([m(cls, `k${i}`)])).toEqual({ ok: true });
    expect(await s.commit([m(cls, 'k3')])).toEqual({ ok: false, full: cls });
    expect(full).toEqual([cls]);
    expect(await s.peek([m(cls, 'k0'), m(cls, 'k1'), m(cls, 'k2'), m(cls, 'k3')])).toEqual([true, true, true, false]);
    // Other classes still have room; a commit mixing a full class writes nothing at all.
    const other = cls === 'code' ? 'jti' : 'code';
    expect(await s.commit([m(other, 'free'), m(cls, 'k4')])).toEqual({ ok: false, full: cls });
    expect(await s.peek([m(other, 'free')])).toEqual([false]);
    expect(await s.commit([m(other, 'free')])).toEqual({ ok: true });
    // A replay still says replay, not "full".
    expect(await s.commit([m(cls, 'k1')])).toEqual({ ok: false, taken: 0 });
  });

  it('RelayStates count against the state budget', async () => {
    const s = new MemoryReplayStore({ budgets: { state: 2 } });
    expect(await s.commit([m('state', 'a')])).toEqual({ ok: true });
    expect(await s.commit([m('relay', 'b')])).toEqual({ ok: true });
    expect(await s.commit([m('relay', 'c')])).toEqual({ ok: false, full: 'state' });
    expect(s.counts().state).toBe(2);
  });

  it('room returns as markers expire, and budgets can change on a registry reload', async () => {
    const clock = manual();
    const s = new MemoryReplayStore({ clock: clock.fn, budgets: { code: 2 } });
    await s.commit([m('code', 'a', 5_000)]);
    await s.commit([m('code', 'b', 50_000)]);
    expect(await s.commit([m('code', 'c')])).toEqual({ ok: false, full: 'code' });
    clock.now += 6_000;
    expect(await s.commit([m('code', 'c')])).toEqual({ ok: true });
    s.setBudgets({ state: 1, code: 5, jti: 1, webhook: 1, pin: 1 });
    expect(await s.commit([m('code', 'd')])).toEqual({ ok: true });
    expect(s.counts().code).toBe(3);
  });

  it('reports the epoch it was given, for the namespaces it was given (a process restart loses every marker)', () => {
    expect(new MemoryReplayStore().epochStartMs('state')).toBe(0);
    expect(new MemoryReplayStore({ epochStartMs: 1234 }).epochStartMs('jti')).toBe(1234);
    const flowsOnly = new MemoryReplayStore({ epochStartMs: 1234, epochNamespaces: ['state', 'relay', 'code'] });
    expect(['state', 'relay', 'code', 'jti', 'webhook'].map((ns) => flowsOnly.epochStartMs(ns as 'state'))).toEqual([1234, 1234, 1234, 0, 0]);
  });
});
