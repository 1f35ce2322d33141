// Store contracts for pins (DESIGN §2 "Pins") and one-time markers (state envelopes, codes, jti,
// webhook ids). Keys are keyed hashes only; raw state/code never reach a store.
import { CodedError } from '../model/errors';

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

export interface ConsumeResult {
  /** The pin, when one exists (consumed now or before). */
  pin: PinRecord | null;
  /** True when the pin had already been consumed by an earlier request (replay). */
  consumedBefore: boolean;
}

export interface PinStore {
  /** Writes a pin; it disappears after ttlMs. Overwrites an unconsumed pin with the same hash. */
  put(pin: PinRecord, ttlMs: number): Promise<void>;
  /** Atomically marks the pin consumed and returns it with whether an earlier call consumed it. */
  consume(hash: string): Promise<ConsumeResult>;
  /** Reads without consuming (admin/inspection). */
  get(hash: string): Promise<PinRecord | null>;
  close(): Promise<void>;
}

export type ReplayNamespace = 'state' | 'code' | 'jti' | 'webhook' | 'relay';

export interface ReplayStore {
  /** Atomically records (namespace, hash) for ttlMs; true when this is the first sighting. */
  firstSeen(namespace: ReplayNamespace, hash: string, ttlMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export type StoreErrorCode = 'store_unavailable' | 'store_bad_record';

/** Store failures; the facts phase turns them into the `store_unavailable` reason (fail closed). */
export class StoreError extends CodedError<StoreErrorCode> {}
