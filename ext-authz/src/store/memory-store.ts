// In-memory pin and replay stores (DESIGN §2: the default for one replica): lru-cache with per-entry
// TTL and a bounded size. Single-threaded JS makes each consume/firstSeen atomic.
import { LRUCache } from 'lru-cache';
import type { ConsumeResult, PinRecord, PinStore, ReplayNamespace, ReplayStore } from './types';

export interface MemoryStoreOptions {
  /** Maximum entries before the least recently used are evicted. */
  max?: number;
}

interface Entry {
  pin: PinRecord;
  consumed: boolean;
}

export class MemoryPinStore implements PinStore {
  private readonly cache: LRUCache<string, Entry>;

  constructor(opts: MemoryStoreOptions = {}) {
    this.cache = new LRUCache<string, Entry>({ max: opts.max ?? 100_000, ttlAutopurge: false, allowStale: false });
  }

  async put(pin: PinRecord, ttlMs: number): Promise<void> {
    const prev = this.cache.get(pin.flow_key_hash);
    // A consumed pin stays consumed: re-announcing a spent state must not make it usable again.
    this.cache.set(pin.flow_key_hash, { pin, consumed: prev?.consumed ?? false }, { ttl: Math.max(1, ttlMs) });
  }

  async consume(hash: string): Promise<ConsumeResult> {
    const e = this.cache.get(hash);
    if (!e) return { pin: null, consumedBefore: false };
    if (e.consumed) return { pin: e.pin, consumedBefore: true };
    e.consumed = true;
    return { pin: e.pin, consumedBefore: false };
  }

  async get(hash: string): Promise<PinRecord | null> {
    return this.cache.get(hash)?.pin ?? null;
  }

  get size(): number {
    return this.cache.size;
  }

  async close(): Promise<void> {
    this.cache.clear();
  }
}

export class MemoryReplayStore implements ReplayStore {
  private readonly cache: LRUCache<string, true>;

  constructor(opts: MemoryStoreOptions = {}) {
    this.cache = new LRUCache<string, true>({ max: opts.max ?? 200_000, ttlAutopurge: false, allowStale: false });
  }

  async firstSeen(namespace: ReplayNamespace, hash: string, ttlMs: number): Promise<boolean> {
    const key = `${namespace}:${hash}`;
    if (this.cache.has(key)) return false;
    this.cache.set(key, true, { ttl: Math.max(1, ttlMs) });
    return true;
  }

  async close(): Promise<void> {
    this.cache.clear();
  }
}
