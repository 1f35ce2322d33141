// Redis pin and replay stores (docs/architecture.md, "Pins": several replicas share pins). A pin registration and a
// marker commit are each one Lua script (store/redis-scripts.ts), so each is atomic on the server across
// replicas, checks the store's epoch and the class budget, and never evicts anything; peeks are one MGET
// that also reads the epoch. Nothing is read or written before the connection's epoch is verified
// (store/redis-link.ts). Failures surface as StoreError → fail closed.
import Redis from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { DEFAULT_BUDGETS } from './budgets';
import type { BudgetClass, StoreBudgets } from './budgets';
import { notify } from './observer';
import type { StoreObserver } from './observer';
import { RedisLink } from './redis-link';
import type { CommitResult, Marker, MarkerKey, PinRecord, PinStore, PutResult, ReplayNamespace, ReplayStore } from './types';
import { budgetClassOf, samePinOwner, StoreError } from './types';

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
  /** Epoch ms for TTL budgets and epochs (default Date.now). */
  clock?: () => number;
  /** Epoch / connection check period besides every reconnect (default 1000 ms). */
  checkIntervalMs?: number;
  /** State changes, losses, full budgets, risky settings. */
  observer?: StoreObserver;
  budgets?: Partial<StoreBudgets>;
  /** Read CONFIG once when first connected and warn about risky settings (default true). */
  checkSettings?: boolean;
}

function unavailable(): StoreError {
  // The Redis error text may name hosts; it stays out of the facts (only the code is used).
  return new StoreError('store_unavailable', 'redis pin store unavailable');
}

function epochChanged(): StoreError {
  return new StoreError('store_epoch_changed', 'redis lost its data since this replica last checked');
}

/** Redis refused a write over its maxmemory (`noeviction`): no room, reported like a full budget. */
function outOfMemory(e: unknown): boolean {
  return e instanceof Error && /\bOOM\b/.test(e.message);
}

export function createRedisClient(opts: RedisStoreOptions): Redis {
  const ro: RedisOptions = {
    lazyConnect: false,
    // Nothing waits for a connection and nothing is re-sent after one: a command either runs on the
    // connection whose epoch was verified, or fails now (store_unavailable).
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 1,
    commandTimeout: opts.commandTimeoutMs ?? 250,
    retryStrategy: (times) => Math.min(times * 100, 2000),
  };
  const client = new Redis(opts.url, ro);
  client.on('error', opts.onError ?? (() => undefined));
  return client;
}

/** Budget counter keys of a class: a hash (bucket → count, and `n`) and the set of its buckets. */
function budgetKeys(prefix: string, cls: BudgetClass): [string, string] {
  return [`${prefix}budget:${cls}`, `${prefix}budget:${cls}:buckets`];
}

class Shared {
  budgets: StoreBudgets;
  private closed = false;

  constructor(
    readonly link: RedisLink,
    readonly prefix: string,
    readonly clock: () => number,
    readonly observer: StoreObserver | undefined,
    budgets: StoreBudgets,
  ) {
    this.budgets = budgets;
  }

  /** Throws store_unavailable unless the connection is up with a verified epoch. */
  ready(): void {
    if (!this.link.usable) throw unavailable();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.link.stop();
    this.link.client.disconnect();
  }
}

export class RedisPinStore implements PinStore {
  constructor(private readonly s: Shared) {}

  private key(hash: string): string {
    return `${this.s.prefix}pin:${hash}`;
  }

  async put(pin: PinRecord, ttlMs: number): Promise<PutResult> {
    const s = this.s;
    s.ready();
    const [h, z] = budgetKeys(s.prefix, 'pin');
    let r: unknown;
    try {
      const ttl = String(Math.max(1, Math.ceil(ttlMs)));
      r = await s.link.script('cbpPut')(s.link.epochKey, this.key(pin.flow_key_hash), h, z, s.link.epochValue, JSON.stringify(pin), ttl, String(Math.floor(s.clock())), String(s.budgets.pin));
    } catch (e) {
      if (outOfMemory(e)) {
        notify(s.observer, 'budgetFull', null);
        return { status: 'full' };
      }
      s.link.recheck();
      throw unavailable();
    }
    if (!Array.isArray(r)) throw new StoreError('store_bad_record', 'unexpected put reply');
    switch (Number(r[0])) {
      case 0:
        return { status: 'created', pin };
      case 1: {
        const prev = parsePin(r[1]);
        return samePinOwner(prev, pin) ? { status: 'unchanged', pin: prev } : { status: 'conflict', owner: prev };
      }
      case 2:
        notify(s.observer, 'budgetFull', 'pin');
        return { status: 'full' };
      case -1:
        s.link.recheck();
        throw epochChanged();
      default:
        throw new StoreError('store_bad_record', 'unexpected put reply');
    }
  }

  async get(hash: string): Promise<PinRecord | null> {
    this.s.ready();
    let p: string | null;
    try {
      p = await this.s.link.client.hget(this.key(hash), 'pin');
    } catch {
      this.s.link.recheck();
      throw unavailable();
    }
    return p === null ? null : parsePin(p);
  }

  setBudgets(budgets: StoreBudgets): void {
    this.s.budgets = budgets;
  }

  async close(): Promise<void> {
    this.s.close();
  }
}

export class RedisReplayStore implements ReplayStore {
  constructor(private readonly s: Shared) {}

  private key(namespace: ReplayNamespace, hash: string): string {
    return `${this.s.prefix}seen:${namespace}:${hash}`;
  }

  async peek(keys: readonly MarkerKey[]): Promise<boolean[]> {
    if (keys.length === 0) return [];
    const s = this.s;
    s.ready();
    const epoch = s.link.epochValue;
    let r: (string | null)[];
    try {
      r = await s.link.client.mget([s.link.epochKey, ...keys.map((k) => this.key(k.namespace, k.hash))]);
    } catch {
      s.link.recheck();
      throw unavailable();
    }
    if (!Array.isArray(r) || r.length !== keys.length + 1) throw new StoreError('store_bad_record', 'unexpected peek reply');
    if (r[0] !== epoch) {
      s.link.recheck();
      throw epochChanged();
    }
    return r.slice(1).map((v) => v !== null);
  }

  async commit(markers: readonly Marker[]): Promise<CommitResult> {
    if (markers.length === 0) return { ok: true };
    const s = this.s;
    s.ready();
    const classes: BudgetClass[] = [];
    const classNo: number[] = [];
    for (const m of markers) {
      const c = budgetClassOf(m.namespace);
      let k = classes.indexOf(c);
      if (k < 0) k = classes.push(c) - 1;
      classNo.push(k + 1);
    }
    const keys: string[] = [s.link.epochKey, s.link.seqKey];
    for (const m of markers) keys.push(this.key(m.namespace, m.hash));
    for (const c of classes) keys.push(...budgetKeys(s.prefix, c));
    const args: string[] = [s.link.epochValue, String(s.link.lastSeq), String(Math.floor(s.clock())), String(markers.length), String(classes.length)];
    for (const m of markers) args.push(String(Math.max(1, Math.ceil(m.ttlMs))));
    for (const k of classNo) args.push(String(k));
    for (const c of classes) args.push(String(s.budgets[c]));
    let r: unknown;
    try {
      r = await s.link.script('cbpCommit')(keys.length, ...keys, ...args);
    } catch (e) {
      if (outOfMemory(e)) {
        notify(s.observer, 'budgetFull', null);
        return { ok: false, full: null };
      }
      s.link.recheck();
      throw unavailable();
    }
    if (!Array.isArray(r) || r.length !== 2) throw new StoreError('store_bad_record', 'unexpected commit reply');
    const status = Number(r[0]);
    const n = Number(r[1]);
    if (status === 0) {
      s.link.noteSeq(n);
      return { ok: true };
    }
    if (status === 1 && Number.isInteger(n) && n >= 1 && n <= markers.length) return { ok: false, taken: n - 1 };
    if (status === 2 && Number.isInteger(n) && n >= 1 && n <= classes.length) {
      notify(s.observer, 'budgetFull', classes[n - 1]);
      return { ok: false, full: classes[n - 1] };
    }
    if (status === -1) {
      s.link.recheck();
      throw epochChanged();
    }
    throw new StoreError('store_bad_record', 'unexpected commit reply');
  }

  /** One epoch for every namespace: a Redis loses them together. */
  epochStartMs(): number {
    return this.s.link.epochStartMs;
  }

  setBudgets(budgets: StoreBudgets): void {
    this.s.budgets = budgets;
  }

  async close(): Promise<void> {
    this.s.close();
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

export interface RedisStores {
  pinStore: RedisPinStore;
  replayStore: RedisReplayStore;
  client: Redis;
  link: RedisLink;
  /** Stops the epoch checks and disconnects (what either store's close() does). Idempotent. */
  close(): Promise<void>;
}

/** Both stores over one connection, with its epoch / health link started. */
export function createRedisStores(opts: RedisStoreOptions): RedisStores {
  const client = createRedisClient(opts);
  const prefix = opts.prefix ?? 'cbp:';
  const clock = opts.clock ?? Date.now;
  const link = new RedisLink(client, { prefix, clock, checkIntervalMs: opts.checkIntervalMs, observer: opts.observer, checkSettings: opts.checkSettings });
  const shared = new Shared(link, prefix, clock, opts.observer, { ...DEFAULT_BUDGETS, ...(opts.budgets ?? {}) });
  link.start();
  return {
    pinStore: new RedisPinStore(shared),
    replayStore: new RedisReplayStore(shared),
    client,
    link,
    close: async () => shared.close(),
  };
}
