// The manufactured-code flood (docs/threat-model.md T-C6, T-C7) against the real service over gRPC, with small
// budgets and rates so the test stays short: junk callbacks write nothing and are rate limited before
// the pin lookup; a used flow stays used; a fresh verified flow from another source still goes through;
// and when legitimate flows fill a budget, new flows wait (replay_budget_exhausted, 503) while used ones
// stay refused. Bounded: a few hundred requests.
import { createDemoSetup } from '../../ext-authz/src/config/default';
import type { MemoryPinStore, MemoryReplayStore } from '../../ext-authz/src/store/memory-store';
import type { Limits } from '../../ext-authz/src/model/registry';
import { askFrom, cb, ISS_LEGACY, ISS_NEW, startHarness } from '../support/app-harness';
import type { Harness } from '../support/app-harness';

jest.setTimeout(60_000);

const LEGIT = '198.51.100.10';
const ATTACKER = '203.0.113.66';

async function harness(limits: Partial<Limits>): Promise<Harness> {
  const demo = createDemoSetup();
  Object.assign(demo.registry.limits, limits);
  return startHarness({ demo });
}

const stores = (h: Harness) => {
  const s = h.app.current?.stores;
  return { replay: s?.replay as MemoryReplayStore, pins: s?.pins as MemoryPinStore };
};

let junk = 0;
const junkCallback = () => ({ path: cb({ code: `junk-code-${++junk}`, state: `junk-state-${junk}-${Math.random().toString(36).slice(2)}` }) });

describe('flood of unknown-state callbacks', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness({ unknown_states_per_source_per_min: 20, unknown_states_per_connection_per_min: 100, max_state_markers: 50, max_code_markers: 50 });
  });
  afterAll(async () => h?.close());

  test('junk writes nothing, is rate limited before the lookup, and cannot reopen a used flow or block another source', async () => {
    // A legitimate store-backed flow, used once.
    const used = await h.mint('legacy');
    expect(await askFrom(h, LEGIT, { path: cb({ code: 'legit-code-1', state: used, iss: ISS_LEGACY }) })).toMatchObject({ allowed: true, backend: 'legacy' });
    const before = { markers: stores(h).replay.counts(), pins: stores(h).pins.size };

    // One source floods: its first 20 unknown states are looked up (state_unknown), the rest refused early.
    // (20 a minute refill one token every 3 s: a slow run may see one more lookup per 3 s it took.)
    const reasons: Record<string, number> = {};
    const t0 = Date.now();
    for (let i = 0; i < 300; i++) {
      const a = await askFrom(h, ATTACKER, junkCallback());
      expect(a.allowed).toBe(false);
      reasons[a.reason as string] = (reasons[a.reason as string] ?? 0) + 1;
      if (a.reason === 'rate_limited') expect(a.status).toBe(429);
    }
    const refills = Math.floor((Date.now() - t0) / 3000);
    expect(Object.keys(reasons).sort()).toEqual(['rate_limited', 'state_unknown']);
    expect(reasons.state_unknown).toBeGreaterThanOrEqual(20);
    expect(reasons.state_unknown).toBeLessThanOrEqual(20 + refills);
    const limited = reasons.rate_limited;
    // Nothing was written by the flood: not a marker, not a pin.
    expect(stores(h).replay.counts()).toEqual(before.markers);
    expect(stores(h).pins.size).toBe(before.pins);

    // The used flow is still used, from any source and with any code.
    expect(await askFrom(h, LEGIT, { path: cb({ code: 'legit-code-2', state: used, iss: ISS_LEGACY }) })).toMatchObject({ allowed: false, reason: 'state_replayed' });
    expect(await askFrom(h, ATTACKER, { path: cb({ code: 'legit-code-1', state: used, iss: ISS_LEGACY }) })).toMatchObject({ allowed: false, reason: 'rate_limited' });
    // A fresh verified flow from another source goes through, store-backed or signed.
    const fresh = await h.mint('legacy');
    expect(await askFrom(h, LEGIT, { path: cb({ code: 'legit-code-3', state: fresh, iss: ISS_LEGACY }) })).toMatchObject({ allowed: true, backend: 'legacy' });
    const signed = await h.mint('new');
    expect(await askFrom(h, LEGIT, { path: cb({ code: 'legit-code-4', state: signed, iss: ISS_NEW }) })).toMatchObject({ allowed: true, backend: 'new' });
    // Even the flooding source keeps its signed flows (checked by MAC, no lookup to protect).
    const own = await h.mint('new');
    expect(await askFrom(h, ATTACKER, { path: cb({ code: 'own-code', state: own, iss: ISS_NEW }) })).toMatchObject({ allowed: true, backend: 'new' });
    // Every refusal counted: the flood's, and the attacker's try at the used flow above.
    expect(h.app.metrics.unknownStateLimited.get(['source', 'demo'])).toBe(limited + 1);
  });

  test('a flood spread over many sources closes store-backed lookups for the connection; signed flows and used-flow refusals are unaffected', async () => {
    // About 80 tokens remain in the connection's bucket (100 - the 20 above, plus what refilled since);
    // 10 sources × 20 exceed it. Which request exactly finds the bucket empty depends on the refill
    // (100 a minute), so this counts; the exact rule is asserted on a fixed clock in the facts tests.
    let limitedByConnection = 0;
    for (let s = 0; s < 10; s++) {
      for (let i = 0; i < 20; i++) {
        const a = await askFrom(h, `192.0.2.${100 + s}`, junkCallback());
        expect(a.allowed).toBe(false);
        if (a.reason === 'rate_limited') limitedByConnection++;
      }
    }
    expect(limitedByConnection).toBeGreaterThanOrEqual(50);
    expect(h.app.metrics.unknownStateLimited.get(['connection', 'demo'])).toBe(limitedByConnection);
    const signed = await h.mint('new');
    expect(await askFrom(h, '192.0.2.250', { path: cb({ code: 'legit-code-6', state: signed, iss: ISS_NEW }) })).toMatchObject({ allowed: true, backend: 'new' });
    expect(await askFrom(h, '192.0.2.250', { path: cb({ code: 'legit-code-7', state: signed, iss: ISS_NEW }) })).toMatchObject({ allowed: false, reason: 'state_replayed' });
  });
});

describe('legitimate flows fill a budget', () => {
  test('new flows wait with replay_budget_exhausted (503); used flows stay refused; one log line per quiet period', async () => {
    const h = await harness({ max_state_markers: 3, max_code_markers: 100 });
    try {
      const used: string[] = [];
      for (let i = 0; i < 3; i++) {
        const s = await h.mint('new');
        expect(await askFrom(h, LEGIT, { path: cb({ code: `fill-${i}`, state: s, iss: ISS_NEW }) })).toMatchObject({ allowed: true });
        used.push(s);
      }
      for (let i = 0; i < 5; i++) {
        const s = await h.mint('new');
        expect(await askFrom(h, LEGIT, { path: cb({ code: `wait-${i}`, state: s, iss: ISS_NEW }) })).toMatchObject({ allowed: false, reason: 'replay_budget_exhausted', status: 503 });
      }
      for (const s of used) expect(await askFrom(h, LEGIT, { path: cb({ code: 'again', state: s, iss: ISS_NEW }) })).toMatchObject({ allowed: false, reason: 'state_replayed' });
      expect(stores(h).replay.counts().state).toBe(3);
      expect(h.app.metrics.storeBudgetExhausted.get(['state'])).toBe(5);
      const lines = h.logs.join('').split('\n').filter((l) => l.includes('"event":"replay_budget_exhausted"'));
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0])).toMatchObject({ level: 'warn', class: 'state', store: 'memory' });
    } finally {
      await h.close();
    }
  });
});
