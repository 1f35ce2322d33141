// In-memory pin and replay stores (DESIGN §2: the default for one replica): lru-cache with per-entry
// TTL and a bounded size. Single-threaded JS makes each put and each commit atomic: every check and
// every write of one call happen in the same synchronous run, with no await in between.
import { LRUCache } from 'lru-cache';
import type { CommitResult, Marker, MarkerKey, PinRecord, PinStore, PutResult, ReplayNamespace, ReplayStore } from './types';
import { samePinOwner } from './types';

export interface MemoryStoreOptions {
  /** Maximum entries before the least recently used are evicted. */
  max?: number;
}

export class MemoryPinStore implements PinStore {
  private readonly cache: LRUCache<string, PinRecord>;

  constructor(opts: MemoryStoreOptions = {}) {
    this.cache = new LRUCache<string, PinRecord>({ max: opts.max ?? 100_000, ttlAutopurge: false, allowStale: false });
  }

  async put(pin: PinRecord, ttlMs: number): Promise<PutResult> {
    const prev = this.cache.get(pin.flow_key_hash);
    if (prev !== undefined) return samePinOwner(prev, pin) ? { status: 'unchanged', pin: prev } : { status: 'conflict', owner: prev };
    this.cache.set(pin.flow_key_hash, pin, { ttl: Math.max(1, ttlMs) });
    return { status: 'created', pin };
  }

  async get(hash: string): Promise<PinRecord | null> {
    return this.cache.get(hash) ?? null;
  }

  get size(): number {
    return this.cache.size;
  }

  /**
   * Pins not used yet, for the removal report (docs/stages.md): connection, backend and expiry only. A
   * pin is used once its flow's one-time marker is committed, so the caller says which hashes are.
   */
  *outstanding(used: (flowKeyHash: string) => boolean): Generator<{ connection: string; backend: string; expires_at: number }> {
    for (const p of this.cache.values()) if (!used(p.flow_key_hash)) yield { connection: p.connection, backend: p.backend, expires_at: p.expires_at };
  }

  async close(): Promise<void> {
    this.cache.clear();
  }
}

const markerKey = (namespace: ReplayNamespace, hash: string): string => `${namespace}:${hash}`;

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

  /** Whether a marker is live (synchronous: the removal report's census, never the request path). */
  has(namespace: ReplayNamespace, hash: string): boolean {
    return this.cache.has(markerKey(namespace, hash));
  }

  async peek(keys: readonly MarkerKey[]): Promise<boolean[]> {
    const out = new Array<boolean>(keys.length);
    for (let i = 0; i < keys.length; i++) out[i] = this.cache.has(markerKey(keys[i].namespace, keys[i].hash));
    return out;
  }

  async commit(markers: readonly Marker[]): Promise<CommitResult> {
    // Check all, then set all, in one synchronous run: no other commit can interleave.
    for (let i = 0; i < markers.length; i++) {
      if (this.cache.has(markerKey(markers[i].namespace, markers[i].hash))) return { ok: false, taken: i };
    }
    for (const m of markers) this.cache.set(markerKey(m.namespace, m.hash), true, { ttl: Math.max(1, Math.ceil(m.ttlMs)) });
    return { ok: true };
  }

  async close(): Promise<void> {
    this.cache.clear();
  }
}
