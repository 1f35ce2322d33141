// Where the lifecycle's shared state lives (docs/stages.md, "One source of truth"): stage overrides,
// scheduled changes, the audit chain and traffic buckets. One contract, two stores: memory (one
// replica) and Redis (redis-lifecycle-store.ts, several replicas). A stage change and its audit record
// are written in one atomic step, so no change exists without its record.
import type { AuditRecord, ChainHead } from './audit-chain';
import { EMPTY_HEAD } from './audit-chain';
import type { Bucket, TrafficDelta } from './traffic-stats';
import { HOUR_MS, MINUTE_MS } from './traffic-stats';

/** What the stores hold, as raw JSON per connection (compare-and-set compares these strings). */
export interface Snapshot {
  revision: string;
  overrides: Map<string, string>;
  scheduled: Map<string, string>;
}

/** A compare-and-set of one connection's entry: the raw value expected now ('' = none), the next ('' = drop). */
export interface Cas {
  connection: string;
  expect: string;
  next: string;
}

export interface CommitOp {
  override?: Cas;
  schedule?: Cas;
  /** Builds the audit record on the chain head it is given (called again when another writer won). */
  record: (head: ChainHead) => AuditRecord;
}

export type CommitResult = { ok: true; record: AuditRecord } | { ok: false; conflict: 'override' | 'schedule' };

export type BucketUnit = 'hour' | 'minute';

/** How long buckets are kept: the report looks back up to the unused-mapping period. */
export const HOUR_BUCKET_TTL_MS = 40 * 86_400_000;
export const MINUTE_BUCKET_TTL_MS = 2 * HOUR_MS;

export interface LifecycleStore {
  readonly kind: 'memory' | 'redis';
  /** A value that changes whenever overrides, schedules or the audit chain change (cheap to poll). */
  revision(): Promise<string>;
  snapshot(): Promise<Snapshot>;
  commit(op: CommitOp): Promise<CommitResult>;
  /** Puts records from a file into an empty chain (start-up); false when the store already has a chain. */
  seedAudit(records: readonly AuditRecord[]): Promise<boolean>;
  auditHead(): Promise<ChainHead>;
  /** Records with seq ≥ fromSeq, ascending, at most `limit`. */
  auditRange(fromSeq: number, limit: number): Promise<AuditRecord[]>;
  flushTraffic(delta: TrafficDelta): Promise<void>;
  readBuckets(connection: string, unit: BucketUnit, from: number, to: number): Promise<Bucket[]>;
  /** `b:<backend>`, `r:<route>`, `any` → last seen (ms). */
  readSeen(connection: string): Promise<Record<string, number>>;
  /** When this store started counting traffic (ms), or null. */
  trackingSince(): Promise<number | null>;
  /** Best-effort push when another replica changed something; polling covers lost messages. */
  subscribe(onChange: () => void): void;
  close(): Promise<void>;
}

export const bucketStart = (unit: BucketUnit, t: number): number => {
  const w = unit === 'hour' ? HOUR_MS : MINUTE_MS;
  return Math.floor(t / w) * w;
};

/** Bucket starts from `from` to `to` inclusive. */
export function bucketStarts(unit: BucketUnit, from: number, to: number): number[] {
  const w = unit === 'hour' ? HOUR_MS : MINUTE_MS;
  const out: number[] = [];
  for (let t = bucketStart(unit, from); t <= to; t += w) out.push(t);
  return out;
}

/** One replica: everything in this process (still atomic: JS runs one commit at a time). */
export class MemoryLifecycleStore implements LifecycleStore {
  readonly kind = 'memory' as const;
  private rev = 0;
  private readonly overrides = new Map<string, string>();
  private readonly scheduled = new Map<string, string>();
  private readonly audit: AuditRecord[] = [];
  private readonly buckets = new Map<string, Map<string, number>>();
  private readonly seen = new Map<string, Map<string, number>>();
  private readonly since: number;

  constructor(private readonly clock: () => number = Date.now) {
    this.since = clock();
  }

  async revision(): Promise<string> {
    return String(this.rev);
  }

  async snapshot(): Promise<Snapshot> {
    return { revision: String(this.rev), overrides: new Map(this.overrides), scheduled: new Map(this.scheduled) };
  }

  async commit(op: CommitOp): Promise<CommitResult> {
    if (op.override && (this.overrides.get(op.override.connection) ?? '') !== op.override.expect) return { ok: false, conflict: 'override' };
    if (op.schedule && (this.scheduled.get(op.schedule.connection) ?? '') !== op.schedule.expect) return { ok: false, conflict: 'schedule' };
    const record = op.record(this.head());
    for (const [cas, map] of [[op.override, this.overrides], [op.schedule, this.scheduled]] as const) {
      if (!cas) continue;
      if (cas.next === '') map.delete(cas.connection);
      else map.set(cas.connection, cas.next);
    }
    this.audit.push(record);
    this.rev++;
    return { ok: true, record };
  }

  async seedAudit(records: readonly AuditRecord[]): Promise<boolean> {
    if (this.audit.length > 0) return false;
    this.audit.push(...records);
    this.rev++;
    return true;
  }

  private head(): ChainHead {
    const last = this.audit[this.audit.length - 1];
    return last ? { seq: last.seq, hash: last.hash } : EMPTY_HEAD;
  }

  async auditHead(): Promise<ChainHead> {
    return this.head();
  }

  async auditRange(fromSeq: number, limit: number): Promise<AuditRecord[]> {
    const from = Math.max(0, fromSeq - 1);
    return this.audit.slice(from, from + Math.max(0, limit));
  }

  async flushTraffic(delta: TrafficDelta): Promise<void> {
    if (delta.connections.length === 0) return;
    for (const d of delta.connections) {
      for (const unit of ['hour', 'minute'] as const) {
        const key = `${d.connection}|${unit}|${bucketStart(unit, delta.at)}`;
        let b = this.buckets.get(key);
        if (!b) this.buckets.set(key, (b = new Map()));
        const counts = b;
        if (unit === 'hour') for (const [k, n] of Object.entries(d.backends)) counts.set(`b:${k}`, (counts.get(`b:${k}`) ?? 0) + n);
        for (const [k, n] of Object.entries(d.categories)) counts.set(`c:${k}`, (counts.get(`c:${k}`) ?? 0) + (n ?? 0));
      }
      let s = this.seen.get(d.connection);
      if (!s) this.seen.set(d.connection, (s = new Map()));
      for (const [k, t] of Object.entries(d.seen)) if (t > (s.get(k) ?? 0)) s.set(k, t);
    }
    this.prune();
  }

  private prune(): void {
    const now = this.clock();
    for (const key of this.buckets.keys()) {
      const [, unit, start] = key.split('|');
      const ttl = unit === 'hour' ? HOUR_BUCKET_TTL_MS : MINUTE_BUCKET_TTL_MS;
      if (Number(start) + ttl < now) this.buckets.delete(key);
    }
  }

  async readBuckets(connection: string, unit: BucketUnit, from: number, to: number): Promise<Bucket[]> {
    return bucketStarts(unit, from, to).map((start) => ({ start, counts: Object.fromEntries(this.buckets.get(`${connection}|${unit}|${start}`) ?? []) }));
  }

  async readSeen(connection: string): Promise<Record<string, number>> {
    return Object.fromEntries(this.seen.get(connection) ?? []);
  }

  async trackingSince(): Promise<number | null> {
    return this.since;
  }

  subscribe(): void {
    // one replica: nobody else changes anything
  }

  async close(): Promise<void> {
    // nothing to release
  }
}
