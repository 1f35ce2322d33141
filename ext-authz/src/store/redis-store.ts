// Redis pin and replay stores (DESIGN §2: several replicas share pins). A pin registration and a
// marker commit are each one Lua script, so each is atomic on the server across replicas; peeks are
// one MGET. Failures surface as StoreError → fail closed.
import Redis from 'ioredis';
import type { RedisOptions } from 'ioredis';
import type { CommitResult, Marker, MarkerKey, PinRecord, PinStore, PutResult, ReplayNamespace, ReplayStore } from './types';
import { samePinOwner, StoreError } from './types';

export interface RedisStoreOptions {
  /** redis://host:port/db */
  url: string;
  /** Key prefix so several deployments can share one Redis. */
  prefix?: string;
  /** Per-command timeout; a slow store must not hold a callback (default 250 ms). */
  commandTimeoutMs?: number;
  /**
   * Connection errors (reconnects are automatic). Always attached: without a listener ioredis prints
   * to stderr, around our redacting logger.
   */
  onError?: (err: Error) => void;
}

// KEYS[1] = pin key, ARGV[1] = pin json, ARGV[2] = ttl ms. Writes only when no pin exists for the
// key (the first registration owns the flow) and returns nil; otherwise returns the stored pin json,
// unchanged. The hash layout (field `pin`) is the one earlier releases wrote.
const PUT = `
if redis.call('HSETNX', KEYS[1], 'pin', ARGV[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return false
end
return redis.call('HGET', KEYS[1], 'pin')
`;
// KEYS = marker keys, ARGV = their ttl ms in the same order. Checks every key first and returns the
// 1-based index of one already set (writing nothing); else sets them all and returns 0.
const COMMIT = `
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then return i end
end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], '1', 'PX', ARGV[i])
end
return 0
`;

function unavailable(): StoreError {
  // The Redis error text may name hosts; it stays out of the facts (only the code is used).
  return new StoreError('store_unavailable', 'redis pin store unavailable');
}

export function createRedisClient(opts: RedisStoreOptions): Redis {
  const ro: RedisOptions = {
    lazyConnect: false,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 1,
    commandTimeout: opts.commandTimeoutMs ?? 250,
    retryStrategy: (times) => Math.min(times * 100, 2000),
  };
  const client = new Redis(opts.url, ro);
  client.on('error', opts.onError ?? (() => undefined));
  return client;
}

export class RedisPinStore implements PinStore {
  private readonly prefix: string;

  constructor(private readonly redis: Redis, prefix = 'cbp:') {
    this.prefix = prefix;
  }

  private key(hash: string): string {
    return `${this.prefix}pin:${hash}`;
  }

  async put(pin: PinRecord, ttlMs: number): Promise<PutResult> {
    let r: unknown;
    try {
      r = await this.redis.eval(PUT, 1, this.key(pin.flow_key_hash), JSON.stringify(pin), String(Math.max(1, Math.ceil(ttlMs))));
    } catch {
      throw unavailable();
    }
    if (r === null) return { status: 'created', pin };
    const prev = parsePin(r);
    return samePinOwner(prev, pin) ? { status: 'unchanged', pin: prev } : { status: 'conflict', owner: prev };
  }

  async get(hash: string): Promise<PinRecord | null> {
    let p: string | null;
    try {
      p = await this.redis.hget(this.key(hash), 'pin');
    } catch {
      throw unavailable();
    }
    return p === null ? null : parsePin(p);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

export class RedisReplayStore implements ReplayStore {
  constructor(private readonly redis: Redis, private readonly prefix = 'cbp:') {}

  private key(namespace: ReplayNamespace, hash: string): string {
    return `${this.prefix}seen:${namespace}:${hash}`;
  }

  async peek(keys: readonly MarkerKey[]): Promise<boolean[]> {
    if (keys.length === 0) return [];
    let r: (string | null)[];
    try {
      r = await this.redis.mget(keys.map((k) => this.key(k.namespace, k.hash)));
    } catch {
      throw unavailable();
    }
    if (!Array.isArray(r) || r.length !== keys.length) throw new StoreError('store_bad_record', 'unexpected peek reply');
    return r.map((v) => v !== null);
  }

  async commit(markers: readonly Marker[]): Promise<CommitResult> {
    if (markers.length === 0) return { ok: true };
    const args: string[] = [];
    for (const m of markers) args.push(this.key(m.namespace, m.hash));
    for (const m of markers) args.push(String(Math.max(1, Math.ceil(m.ttlMs))));
    let r: unknown;
    try {
      r = await this.redis.eval(COMMIT, markers.length, ...args);
    } catch {
      throw unavailable();
    }
    const n = Number(r);
    if (!Number.isInteger(n) || n < 0 || n > markers.length) throw new StoreError('store_bad_record', 'unexpected commit reply');
    return n === 0 ? { ok: true } : { ok: false, taken: n - 1 };
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

function parsePin(raw: unknown): PinRecord {
  try {
    const p = JSON.parse(String(raw)) as PinRecord;
    if (typeof p.backend !== 'string' || typeof p.expires_at !== 'number') throw new Error('shape');
    return p;
  } catch {
    throw new StoreError('store_bad_record', 'pin record unreadable');
  }
}

/** Both stores over one connection. */
export function createRedisStores(opts: RedisStoreOptions): { pinStore: RedisPinStore; replayStore: RedisReplayStore; client: Redis } {
  const client = createRedisClient(opts);
  const prefix = opts.prefix ?? 'cbp:';
  return { pinStore: new RedisPinStore(client, prefix), replayStore: new RedisReplayStore(client, prefix), client };
}
