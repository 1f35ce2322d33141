// Redis pin and replay stores (DESIGN §2: several replicas share pins). Consume is one Lua script
// (atomic on the server); replay markers are SET NX PX. Failures surface as StoreError → fail closed.
import Redis from 'ioredis';
import type { RedisOptions } from 'ioredis';
import type { ConsumeResult, PinRecord, PinStore, ReplayNamespace, ReplayStore } from './types';
import { StoreError } from './types';

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

// KEYS[1] = pin key. Marks consumed and returns {pin json, consume count}; nil when absent.
const CONSUME = `
local p = redis.call('HGET', KEYS[1], 'pin')
if not p then return nil end
local c = redis.call('HINCRBY', KEYS[1], 'consumed', 1)
return {p, c}
`;
// KEYS[1] = pin key, ARGV[1] = pin json, ARGV[2] = ttl ms. A consumed count survives a re-put.
const PUT = `
redis.call('HSET', KEYS[1], 'pin', ARGV[1])
redis.call('HSETNX', KEYS[1], 'consumed', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
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

  async put(pin: PinRecord, ttlMs: number): Promise<void> {
    try {
      await this.redis.eval(PUT, 1, this.key(pin.flow_key_hash), JSON.stringify(pin), String(Math.max(1, Math.ceil(ttlMs))));
    } catch {
      throw unavailable();
    }
  }

  async consume(hash: string): Promise<ConsumeResult> {
    let r: unknown;
    try {
      r = await this.redis.eval(CONSUME, 1, this.key(hash));
    } catch {
      throw unavailable();
    }
    if (r === null) return { pin: null, consumedBefore: false };
    if (!Array.isArray(r) || r.length !== 2) throw new StoreError('store_bad_record', 'unexpected consume reply');
    return { pin: parsePin(r[0]), consumedBefore: Number(r[1]) > 1 };
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

  async firstSeen(namespace: ReplayNamespace, hash: string, ttlMs: number): Promise<boolean> {
    try {
      const r = await this.redis.set(`${this.prefix}seen:${namespace}:${hash}`, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
      return r === 'OK';
    } catch {
      throw unavailable();
    }
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
