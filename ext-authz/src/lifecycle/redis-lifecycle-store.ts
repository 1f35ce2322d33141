// The lifecycle store on Redis (docs/stages.md, "One source of truth"): overrides and schedules in
// hashes, the audit chain in a list with its head, one Lua script that checks and writes a stage
// change and its audit record atomically, a revision counter to poll and a pub/sub channel to push.
// Traffic lives in per connection × hour (and × minute) hashes with a TTL, so keys stay bounded.
import type Redis from 'ioredis';
import type { AuditRecord, ChainHead } from './audit-chain';
import { EMPTY_HEAD } from './audit-chain';
import type { BucketUnit, CommitOp, CommitResult, LifecycleStore, Snapshot } from './lifecycle-store';
import { bucketStart, bucketStarts, HOUR_BUCKET_TTL_MS, MINUTE_BUCKET_TTL_MS } from './lifecycle-store';
import type { Bucket, TrafficDelta } from './traffic-stats';

// KEYS: 1 overrides, 2 scheduled, 3 revision, 4 audit list, 5 audit head. ARGV: 1..3 override CAS
// (connection, expected, next; connection '' = none), 4..6 schedule CAS, 7 expected head, 8 record,
// 9 new head, 10 channel. Returns {'ok'}, {'override'}, {'schedule'} or {'head', current head}.
const COMMIT = `
if ARGV[1] ~= '' and (redis.call('HGET', KEYS[1], ARGV[1]) or '') ~= ARGV[2] then return {'override'} end
if ARGV[4] ~= '' and (redis.call('HGET', KEYS[2], ARGV[4]) or '') ~= ARGV[5] then return {'schedule'} end
local head = redis.call('GET', KEYS[5]) or ''
if head ~= ARGV[7] then return {'head', head} end
if ARGV[1] ~= '' then
  if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
end
if ARGV[4] ~= '' then
  if ARGV[6] == '' then redis.call('HDEL', KEYS[2], ARGV[4]) else redis.call('HSET', KEYS[2], ARGV[4], ARGV[6]) end
end
redis.call('RPUSH', KEYS[4], ARGV[8])
redis.call('SET', KEYS[5], ARGV[9])
local rev = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[10], rev)
return {'ok'}
`;

// KEYS: 1 audit list, 2 audit head, 3 revision. ARGV: 1 head, 2.. records. Only into an empty chain.
const SEED = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
for i = 2, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
redis.call('SET', KEYS[2], ARGV[1])
redis.call('INCR', KEYS[3])
return 1
`;

// KEYS: 1 seen hash. ARGV: field, ms, field, ms, … — keeps the maximum.
const SEEN_MAX = `
for i = 1, #ARGV, 2 do
  local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  if tonumber(ARGV[i + 1]) > cur then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return 1
`;

const headString = (h: ChainHead): string => (h.seq === 0 ? '' : `${h.seq} ${h.hash}`);

function parseHead(s: string | null): ChainHead {
  if (!s) return EMPTY_HEAD;
  const sp = s.indexOf(' ');
  return { seq: Number(s.slice(0, sp)), hash: s.slice(sp + 1) };
}

export interface RedisLifecycleStoreOptions {
  /** The command connection (shared with the pin stores). */
  client: Redis;
  /** Key prefix (the pin stores' prefix, default `cbp:`). */
  prefix?: string;
  clock?: () => number;
}

export class RedisLifecycleStore implements LifecycleStore {
  readonly kind = 'redis' as const;
  private readonly redis: Redis;
  private readonly p: string;
  private readonly clock: () => number;
  private sub: Redis | null = null;
  private sinceMarked = false;

  constructor(opts: RedisLifecycleStoreOptions) {
    this.redis = opts.client;
    this.p = `${opts.prefix ?? 'cbp:'}life:`;
    this.clock = opts.clock ?? Date.now;
  }

  private get keys(): string[] {
    return [`${this.p}overrides`, `${this.p}scheduled`, `${this.p}rev`, `${this.p}audit`, `${this.p}audit:head`];
  }

  async revision(): Promise<string> {
    return (await this.redis.get(`${this.p}rev`)) ?? '0';
  }

  async snapshot(): Promise<Snapshot> {
    const r = await this.redis.multi().get(`${this.p}rev`).hgetall(`${this.p}overrides`).hgetall(`${this.p}scheduled`).exec();
    if (!r || r.some(([e]) => e)) throw new Error('lifecycle snapshot failed');
    return {
      revision: (r[0][1] as string | null) ?? '0',
      overrides: new Map(Object.entries(r[1][1] as Record<string, string>)),
      scheduled: new Map(Object.entries(r[2][1] as Record<string, string>)),
    };
  }

  async commit(op: CommitOp): Promise<CommitResult> {
    let head = await this.auditHead();
    // Another replica may append between our read of the head and the script: rebuild and retry.
    for (let attempt = 0; attempt < 20; attempt++) {
      const record = op.record(head);
      const args = [
        op.override?.connection ?? '', op.override?.expect ?? '', op.override?.next ?? '',
        op.schedule?.connection ?? '', op.schedule?.expect ?? '', op.schedule?.next ?? '',
        headString(head), JSON.stringify(record), headString({ seq: record.seq, hash: record.hash }), `${this.p}changed`,
      ];
      const r = (await this.redis.eval(COMMIT, 5, ...this.keys, ...args)) as string[];
      if (r[0] === 'ok') return { ok: true, record };
      if (r[0] === 'override' || r[0] === 'schedule') return { ok: false, conflict: r[0] };
      head = parseHead(r[1]);
    }
    throw new Error('audit chain head kept moving');
  }

  async seedAudit(records: readonly AuditRecord[]): Promise<boolean> {
    if (records.length === 0) return false;
    const last = records[records.length - 1];
    const r = await this.redis.eval(SEED, 3, `${this.p}audit`, `${this.p}audit:head`, `${this.p}rev`, headString(last), ...records.map((x) => JSON.stringify(x)));
    return r === 1;
  }

  async auditHead(): Promise<ChainHead> {
    return parseHead(await this.redis.get(`${this.p}audit:head`));
  }

  async auditRange(fromSeq: number, limit: number): Promise<AuditRecord[]> {
    if (limit <= 0) return [];
    const from = Math.max(0, fromSeq - 1);
    const raw = await this.redis.lrange(`${this.p}audit`, from, from + limit - 1);
    return raw.map((s) => JSON.parse(s) as AuditRecord);
  }

  private bucketKey(connection: string, unit: BucketUnit, start: number): string {
    return `${this.p}t:${connection}:${unit === 'hour' ? 'h' : 'm'}:${start}`;
  }

  async flushTraffic(delta: TrafficDelta): Promise<void> {
    const m = this.redis.pipeline();
    if (!this.sinceMarked) m.set(`${this.p}since`, String(this.clock()), 'NX');
    for (const d of delta.connections) {
      for (const unit of ['hour', 'minute'] as const) {
        const key = this.bucketKey(d.connection, unit, bucketStart(unit, delta.at));
        if (unit === 'hour') for (const [b, n] of Object.entries(d.backends)) m.hincrby(key, `b:${b}`, n);
        for (const [c, n] of Object.entries(d.categories)) m.hincrby(key, `c:${c}`, n ?? 0);
        m.pexpire(key, unit === 'hour' ? HOUR_BUCKET_TTL_MS : MINUTE_BUCKET_TTL_MS);
      }
      const seen = Object.entries(d.seen).flatMap(([k, t]) => [k, String(t)]);
      if (seen.length > 0) m.eval(SEEN_MAX, 1, `${this.p}seen:${d.connection}`, ...seen);
    }
    const r = await m.exec();
    if (!r || r.some(([e]) => e)) throw new Error('traffic flush failed');
    this.sinceMarked = true;
  }

  async readBuckets(connection: string, unit: BucketUnit, from: number, to: number): Promise<Bucket[]> {
    const starts = bucketStarts(unit, from, to);
    const m = this.redis.pipeline();
    for (const s of starts) m.hgetall(this.bucketKey(connection, unit, s));
    const r = await m.exec();
    if (!r || r.some(([e]) => e)) throw new Error('traffic read failed');
    return starts.map((start, i) => {
      const counts: Record<string, number> = {};
      for (const [k, v] of Object.entries(r[i][1] as Record<string, string>)) counts[k] = Number(v);
      return { start, counts };
    });
  }

  async readSeen(connection: string): Promise<Record<string, number>> {
    const raw = await this.redis.hgetall(`${this.p}seen:${connection}`);
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
  }

  async trackingSince(): Promise<number | null> {
    const v = await this.redis.get(`${this.p}since`);
    return v === null ? null : Number(v);
  }

  subscribe(onChange: () => void): void {
    if (this.sub) return;
    // A subscribed connection can run no other command: a second connection for the channel.
    const sub = this.redis.duplicate();
    this.sub = sub;
    sub.on('error', () => undefined);
    sub.on('message', () => onChange());
    sub.subscribe(`${this.p}changed`).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.sub?.disconnect();
    this.sub = null;
  }
}
