// The Redis connection as the stores see it (docs/operations.md, "Redis"): is it usable, and since
// when does it hold every marker (its epoch)?
//
// Epoch: a key written when this service finds Redis without one (first start, or Redis restarted
// empty / was flushed) holding a random id and the time it was written (the Redis server's clock;
// replicas and Redis are assumed to keep time with NTP). Every replica checks it on each
// (re)connect and every `checkIntervalMs`; PUT and COMMIT check it atomically with their writes, and a
// peek reads it with the markers. A different or missing epoch means Redis lost data: this replica
// adopts the new epoch, and everything issued before its start is refused from then on (store_data_lost;
// users restart the login). A restart from an older snapshot keeps the epoch key but rolls back the
// commit sequence: a replica that saw a higher sequence starts a new epoch too.
//
// State: `up` only after the epoch check succeeded on the current connection. Until then, and while
// the connection is down or not answering, every store operation fails at once (store_unavailable):
// nothing is ever read from or written to a Redis whose epoch is not verified. Each change of state is
// reported once (observer.stateChanged), never per request.
import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import { notify } from './observer';
import type { EpochEvent, StoreObserver, StoreState } from './observer';
import { checkRedisSettings } from './redis-settings';
import { COMMIT_SCRIPT, EPOCH_SCRIPT, PUT_SCRIPT } from './redis-scripts';

export interface RedisLinkOptions {
  /** Key prefix shared with the stores. */
  prefix: string;
  /** Epoch ms (default Date.now): only for an epoch value that cannot be read. */
  clock?: () => number;
  /** How often the epoch and the connection are checked besides on every reconnect (default 1000 ms). */
  checkIntervalMs?: number;
  observer?: StoreObserver;
  /** Read CONFIG once when first up and report risky settings (default true). */
  checkSettings?: boolean;
}

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

export class RedisLink {
  readonly epochKey: string;
  readonly seqKey: string;
  private readonly clock: () => number;
  private state: StoreState = 'starting';
  private epoch: string | null = null;
  private epochStart = 0;
  private seq = 0;
  private checking: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private settingsChecked: boolean;
  private stopped = false;
  private readonly listeners: [string, (...a: unknown[]) => void][] = [];

  constructor(
    readonly client: Redis,
    private readonly opts: RedisLinkOptions,
  ) {
    this.epochKey = `${opts.prefix}epoch`;
    this.seqKey = `${opts.prefix}seq`;
    this.clock = opts.clock ?? Date.now;
    this.settingsChecked = opts.checkSettings === false;
    client.defineCommand('cbpEpoch', { lua: EPOCH_SCRIPT, numberOfKeys: 2 });
    client.defineCommand('cbpPut', { lua: PUT_SCRIPT, numberOfKeys: 4 });
    client.defineCommand('cbpCommit', { lua: COMMIT_SCRIPT });
  }

  /** A script defined on the client (EVALSHA, reloaded by ioredis after a Redis restart). */
  script(name: 'cbpEpoch' | 'cbpPut' | 'cbpCommit'): ScriptFn {
    const c = this.client as unknown as Record<string, ScriptFn>;
    return c[name].bind(this.client);
  }

  start(): void {
    const on = (ev: string, f: (...a: unknown[]) => void): void => {
      this.client.on(ev, f);
      this.listeners.push([ev, f]);
    };
    on('ready', () => void this.check());
    on('close', () => this.connectionLost());
    on('end', () => this.connectionLost());
    on('reconnecting', () => {
      if (this.state !== 'reconnecting') this.setState('reconnecting', 'reconnecting to redis');
    });
    this.timer = setInterval(() => void this.check(), this.opts.checkIntervalMs ?? 1000);
    this.timer.unref();
    if (this.client.status === 'ready') void this.check();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const [ev, f] of this.listeners) this.client.off(ev, f);
    this.listeners.length = 0;
  }

  get status(): StoreState {
    return this.state;
  }

  /** Usable: connected and the epoch verified on this connection. */
  get usable(): boolean {
    return this.state === 'up' && this.epoch !== null;
  }

  /** The epoch value PUT / COMMIT / peek compare with ('' before the first check). */
  get epochValue(): string {
    return this.epoch ?? '';
  }

  get epochStartMs(): number {
    return this.epochStart;
  }

  get lastSeq(): number {
    return this.seq;
  }

  /**
   * Resolves true once usable, or false after `timeoutMs` (never rejects). Start-up waits on it briefly
   * so the first requests find the epoch verified; a Redis that stays down keeps readiness false.
   */
  async waitUsable(timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!this.usable && !this.stopped && Date.now() < end) {
      await this.check();
      if (this.usable) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    return this.usable;
  }

  /** A commit advanced the sequence to `seq`. */
  noteSeq(seq: number): void {
    if (seq > this.seq) this.seq = seq;
  }

  /** A store operation failed or found another epoch: check now (one check at a time). */
  recheck(): void {
    void this.check();
  }

  private connectionLost(): void {
    if (this.stopped) return;
    if (this.state === 'up' || this.state === 'starting') this.setState('down', 'redis connection lost');
  }

  private setState(s: StoreState, detail: string): void {
    if (s === this.state) return;
    this.state = s;
    notify(this.opts.observer, 'stateChanged', s, detail);
  }

  /** Checks the epoch (and so the connection); resolves when done, never rejects. */
  check(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.checking === null) {
      this.checking = this.runCheck().finally(() => {
        this.checking = null;
      });
    }
    return this.checking;
  }

  private async runCheck(): Promise<void> {
    // Only on a live connection: a check queued or re-sent across a reconnect could run against the
    // new Redis long after it was meant (the client keeps no offline queue and re-sends nothing).
    if (this.client.status !== 'ready') {
      // Still connecting at start stays `starting`; a failed connect reports itself (close → down).
      if (this.state === 'up') this.setState('down', 'redis not connected');
      return;
    }
    const candidate = randomBytes(12).toString('base64url');
    let reply: unknown;
    try {
      reply = await this.script('cbpEpoch')(this.epochKey, this.seqKey, this.epoch ?? '', String(this.seq), candidate);
    } catch {
      if (this.stopped) return;
      if (this.state === 'up' || this.state === 'starting') this.setState('down', 'redis not answering');
      return;
    }
    if (this.stopped) return;
    if (!Array.isArray(reply) || reply.length !== 3) {
      this.setState('down', 'unexpected epoch reply');
      return;
    }
    const value = String(reply[0]);
    const seq = Number(reply[1]);
    const how = String(reply[2]);
    if (this.epoch === null) {
      this.adopt(value, seq, how === 'created' ? 'started' : 'joined');
    } else if (value !== this.epoch) {
      this.adopt(value, seq, how === 'created' ? 'empty' : how === 'rollback' ? 'rollback' : 'replaced');
    } else {
      this.noteSeq(seq);
    }
    this.setState('up', '');
    if (!this.settingsChecked) {
      this.settingsChecked = true;
      void checkRedisSettings(this.client).then((ws) => {
        for (const w of ws) notify(this.opts.observer, 'settingsWarning', w.code, w.message);
      });
    }
  }

  private adopt(value: string, seq: number, event: EpochEvent): void {
    this.epoch = value;
    this.seq = Number.isFinite(seq) ? seq : 0;
    const since = Number(value.slice(value.lastIndexOf('.') + 1));
    // An epoch value we cannot read (written by hand?) starts now: refuse everything issued earlier.
    this.epochStart = Number.isSafeInteger(since) && since > 0 ? since : Math.floor(this.clock());
    notify(this.opts.observer, 'epochStarted', this.epochStart, event);
  }
}
