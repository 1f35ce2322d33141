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

  /** Unconsumed pins, for the removal report (docs/stages.md): connection, backend and expiry only. */
  *outstanding(): Generator<{ connection: string; backend: string; expires_at: number }> {
    for (const e of this.cache.values()) if (!e.consumed) yield { connection: e.pin.connection, backend: e.pin.backend, expires_at: e.pin.expires_at };
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

  /** Live markers by namespace with the latest expiry (ms), for the removal report (docs/stages.md). */
  outstanding(now: number): Map<string, { count: number; latest_expiry: number }> {
    const out = new Map<string, { count: number; latest_expiry: number }>();
    for (const key of this.cache.keys()) {
      const ns = key.slice(0, key.indexOf(':'));
      const e = out.get(ns) ?? { count: 0, latest_expiry: 0 };
      e.count++;
      e.latest_expiry = Math.max(e.latest_expiry, now + this.cache.getRemainingTTL(key));
      out.set(ns, e);
    }
    return out;
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
