// The audit trail's record and its hash chain (docs/stages.md, "The audit trail"): every record carries
// the previous record's hash and its own, over a canonical JSON form, so an edited line breaks its own
// hash and a removed line breaks the next record's `prev` and `seq`.
import { createHash } from 'node:crypto';
import type { AdminRole, Stage } from '../model/registry';

export type AuditAction =
  | 'stage_set' // an operator changed the stage (now)
  | 'stage_reset' // an operator dropped the override: the file's value is in effect again
  | 'stage_scheduled' // an operator scheduled a change for later
  | 'schedule_applied' // the scheduler put a scheduled change in effect
  | 'auto_rollback'; // the SLO guard rolled back

export type AuditOutcome = 'applied' | 'scheduled' | 'refused';

/** Stage values as they appear in records (instants as RFC 3339). */
export interface AuditStage {
  stage: Stage;
  canary_percent: number;
  drain_until: string | null;
}

export interface AuditRecord {
  /** 1-based position in the chain. */
  seq: number;
  time: string;
  action: AuditAction;
  outcome: AuditOutcome;
  /** The admin token's name, or `slo-guard` / `scheduler` for automatic actions. */
  actor: string;
  role: AdminRole | 'system';
  connection: string;
  from: AuditStage | null;
  to: AuditStage | null;
  reason: string;
  ticket: string | null;
  /** Refusals: the error code. */
  error: string | null;
  /** Scheduled changes: when they take effect. */
  at: string | null;
  /** Automatic actions: what triggered them (counts, window, reasons). */
  evidence: Record<string, unknown> | null;
  policy_revision: string;
  registry_revision: string;
  /** Which replica wrote it. */
  replica: string;
  /** The previous record's hash ('' for the first). */
  prev: string;
  hash: string;
}

export type UnsealedRecord = Omit<AuditRecord, 'seq' | 'prev' | 'hash'>;

/** JSON with object keys sorted at every level: the form that is hashed. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

export function recordHash(r: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(canonicalJson(r)).digest('hex');
}

export interface ChainHead {
  seq: number;
  hash: string;
}

export const EMPTY_HEAD: ChainHead = { seq: 0, hash: '' };

/** Links a record to the chain after `head`. */
export function seal(r: UnsealedRecord, head: ChainHead): AuditRecord {
  const linked = { ...r, seq: head.seq + 1, prev: head.hash };
  return { ...linked, hash: recordHash(linked) };
}

export type VerifyResult =
  | { ok: true; records: number; head: ChainHead }
  | { ok: false; records: number; line: number; problem: string };

/**
 * Checks a JSON-lines chain: each line parses, its hash matches its content, its `prev` is the previous
 * line's hash and its `seq` the next number. Blank lines are not allowed (an emptied line is an edit).
 * A truncated tail cannot be seen from the file alone: compare the head with the service's
 * (`GET /v1/audit`), which `callback-proxy audit verify --server` does.
 */
export function verifyChain(text: string): VerifyResult {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  let head: ChainHead = EMPTY_HEAD;
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    let r: AuditRecord;
    try {
      r = JSON.parse(lines[i]) as AuditRecord;
    } catch {
      return { ok: false, records: i, line, problem: 'not JSON' };
    }
    if (typeof r !== 'object' || r === null || typeof r.hash !== 'string' || typeof r.prev !== 'string' || typeof r.seq !== 'number') {
      return { ok: false, records: i, line, problem: 'not an audit record (seq, prev, hash)' };
    }
    if (r.prev !== head.hash) return { ok: false, records: i, line, problem: `prev does not match the hash of record ${head.seq} (a record was removed or reordered)` };
    if (r.seq !== head.seq + 1) return { ok: false, records: i, line, problem: `seq ${r.seq} where ${head.seq + 1} was expected` };
    const { hash, ...rest } = r;
    if (recordHash(rest) !== hash) return { ok: false, records: i, line, problem: 'hash does not match the record (the line was edited)' };
    head = { seq: r.seq, hash };
  }
  return { ok: true, records: lines.length, head };
}
