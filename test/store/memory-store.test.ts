// In-memory stores: one-time consumption, TTL, bounded size (DESIGN §2 "Pins").
import { MemoryPinStore, MemoryReplayStore } from '../../ext-authz/src/store/memory-store';
import type { PinRecord } from '../../ext-authz/src/store/types';

const pin = (hash: string): PinRecord => ({ flow_key_hash: hash, backend: 'new', issuer: 'https://i', connection: 'c', response_mode: null, created_at: 1, expires_at: 2 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('MemoryPinStore', () => {
  it('consumes once', async () => {
    const s = new MemoryPinStore();
    await s.put(pin('h'), 10_000);
    expect(await s.consume('h')).toEqual({ pin: pin('h'), consumedBefore: false });
    expect(await s.consume('h')).toEqual({ pin: pin('h'), consumedBefore: true });
    expect(await s.consume('other')).toEqual({ pin: null, consumedBefore: false });
  });

  it('a re-put does not revive a consumed pin', async () => {
    const s = new MemoryPinStore();
    await s.put(pin('h'), 10_000);
    await s.consume('h');
    await s.put(pin('h'), 10_000);
    expect((await s.consume('h')).consumedBefore).toBe(true);
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

  it('concurrent consumes: exactly one first use', async () => {
    const s = new MemoryPinStore();
    await s.put(pin('h'), 10_000);
    const r = await Promise.all(Array.from({ length: 20 }, () => s.consume('h')));
    expect(r.filter((x) => !x.consumedBefore)).toHaveLength(1);
  });
});

describe('MemoryReplayStore', () => {
  it('first sighting only, per namespace, with TTL', async () => {
    const s = new MemoryReplayStore();
    expect(await s.firstSeen('code', 'x', 40)).toBe(true);
    expect(await s.firstSeen('code', 'x', 40)).toBe(false);
    expect(await s.firstSeen('jti', 'x', 40)).toBe(true);
    await sleep(80);
    expect(await s.firstSeen('code', 'x', 40)).toBe(true);
  });
});
