// Store contracts for pins (docs/architecture.md, "Pins") and one-time markers (states, RelayStates, codes, jti,
// webhook ids). Keys are keyed hashes only; raw state/code never reach a store.
//
// One-time things are read during the facts phase (`peek`, never a write) and consumed only after a
// decision forwards the request, all of a request's markers in ONE all-or-nothing `commit`
// (docs/architecture.md, "A callback, step by step"). A refused request therefore writes nothing.
//
// Nothing is ever evicted early: each class has a budget (store/budgets.ts), and a full class refuses
// new entries instead. A store that loses its data says so through `epochStartMs` (docs/operations.md,
// "Redis"): one-time things issued before that instant are refused, since their markers may be gone.
import { CodedError } from '../model/errors';
import type { BudgetClass, StoreBudgets } from './budgets';

/** A flow's pin: which backend started the flow. Keyed by the flow key hash (state / RelayState). */
export interface PinRecord {
  flow_key_hash: string;
  backend: string;
  issuer: string;
  connection: string;
  response_mode: 'query' | 'form_post' | null;
  /** epoch ms */
  created_at: number;
  /** epoch ms */
  expires_at: number;
}

/**
 * What a pin registration did. A pin is owned by the (connection, backend) that registered it first:
 * the same registration again is idempotent (`unchanged`, the stored pin kept as it was), anything else
 * for the same flow key is a `conflict` and nothing is written.
 */
export type PutResult =
  | { status: 'created'; pin: PinRecord }
  | { status: 'unchanged'; pin: PinRecord }
  | { status: 'conflict'; owner: PinRecord }
  /** The pin budget is full (store/budgets.ts): nothing was written. */
  | { status: 'full' };

export interface PinStore {
  /** Registers a pin for ttlMs unless one exists for its hash (see PutResult). Atomic. */
  put(pin: PinRecord, ttlMs: number): Promise<PutResult>;
  /** Reads a pin; never writes (consumption is a marker in the ReplayStore). */
  get(hash: string): Promise<PinRecord | null>;
  /** The pin budget (registry `limits.max_pins`); applies to registrations from now on. */
  setBudgets(budgets: StoreBudgets): void;
  close(): Promise<void>;
}

export type ReplayNamespace = 'state' | 'code' | 'jti' | 'webhook' | 'relay';

/** A SAML RelayState is a flow key like an OAuth state: both count against the `state` budget. */
export function budgetClassOf(ns: ReplayNamespace): BudgetClass {
  return ns === 'relay' ? 'state' : ns;
}

export interface MarkerKey {
  namespace: ReplayNamespace;
  hash: string;
}

export interface Marker extends MarkerKey {
  /** How long the marker must outlive now: until the flow's / token's own expiry plus skew. */
  ttlMs: number;
}

/**
 * `taken` is the index (into the markers given) of one that was already set; `full` the class whose
 * budget has no room (null: the store itself is out of memory). Either way nothing was written.
 */
export type CommitResult = { ok: true } | { ok: false; taken: number } | { ok: false; full: BudgetClass | null };

export interface ReplayStore {
  /** Which of these markers are set, in order. Never writes. */
  peek(keys: readonly MarkerKey[]): Promise<boolean[]>;
  /**
   * Sets every marker, or none: if any is already set, nothing is written and its index is returned.
   * Atomic against concurrent commits (other requests, other replicas sharing the store).
   */
  commit(markers: readonly Marker[]): Promise<CommitResult>;
  /**
   * Since when (epoch ms) the store is known to hold every marker of this namespace written to it.
   * Before that instant it lost data (a Redis that restarted empty or rolled back, a memory store's
   * process restart), so a one-time thing issued earlier may have been used without a trace: it must be
   * refused. 0 = never lost.
   */
  epochStartMs(ns: ReplayNamespace): number;
  /** Per-class marker budgets (registry `limits`); apply to commits from now on. */
  setBudgets(budgets: StoreBudgets): void;
  close(): Promise<void>;
}

/** Same identity rules both stores apply: the fields a registration must repeat to be idempotent. */
export function samePinOwner(a: PinRecord, b: PinRecord): boolean {
  return a.connection === b.connection && a.backend === b.backend && a.issuer === b.issuer && a.response_mode === b.response_mode;
}

/** store_epoch_changed: the store lost its data since this replica last looked (docs/operations.md, "Redis"). */
export type StoreErrorCode = 'store_unavailable' | 'store_bad_record' | 'store_epoch_changed';

/** Store failures; the facts phase turns them into the `store_unavailable` reason (fail closed). */
export class StoreError extends CodedError<StoreErrorCode> {}
