// Pin creation for the Pin API and `pins mint` (docs/architecture.md, "Pins" way 2): a backend (or an operator)
// announces a flow; the pin is stored by keyed hash only, or the state is a signed envelope. A stored
// pin is owned by the (connection, backend) that registered it first: the same registration again is
// idempotent, and a registration for another backend or connection is refused (already_pinned).
import { CodedError } from '../../model/errors';
import { randomBytes } from 'node:crypto';
import type { PinRecord, PutResult } from '../../store/types';
import type { FactsDeps, PreparedConnection } from '../facts/deps';
import { keyedHash } from '../facts/keyed-hash';
import { signEnvelope } from './state-envelope';

/** Pins stay readable this long past expiry so a late callback reads state_expired, not state_unknown. */
export const PIN_EXPIRED_GRACE_MS = 10 * 60_000;

/** budget_exhausted: the store holds `limits.max_pins` pins; nothing is evicted to make room. */
export type MintErrorCode = 'unknown_connection' | 'unknown_backend' | 'bad_state' | 'store_unavailable' | 'already_pinned' | 'budget_exhausted';

export class MintError extends CodedError<MintErrorCode> {
  /** For already_pinned: the keyed hash of the flow key (loggable; never the raw state). */
  flowKeyHash?: string;
}

/**
 * The pin's issuer is what the callback will name: the SAML entityID for RelayState pins. The names
 * returned are the registry's own strings, so every pin held shares them instead of keeping a copy
 * of the caller's.
 */
function lookup(deps: FactsDeps, connection: string, backend: string, purpose: 'state' | 'relay' = 'state'): { conn: PreparedConnection; issuer: string; connection: string; backend: string } {
  const conn = deps.connections.get(connection);
  if (!conn) throw new MintError('unknown_connection', `unknown connection ${JSON.stringify(connection)}`);
  const b = conn.backends.get(backend);
  if (!b) throw new MintError('unknown_backend', `connection ${connection} has no backend ${JSON.stringify(backend)}`);
  return { conn, issuer: purpose === 'relay' ? b.saml_entity_id ?? b.issuer : b.issuer, connection: conn.config.name, backend: b.id };
}

/** Stores a pin for a state/RelayState the caller generated. Only its keyed hash is kept. */
export async function createPin(
  connection: string,
  backend: string,
  rawState: string,
  responseMode: 'query' | 'form_post' | null,
  deps: FactsDeps,
  nowMs: number,
  purpose: 'state' | 'relay' = 'state',
): Promise<PinRecord> {
  const { conn, issuer, connection: connName, backend: backendId } = lookup(deps, connection, backend, purpose);
  const max = purpose === 'state' ? deps.limits.max_state_bytes : deps.limits.max_relay_state_bytes;
  if (rawState.length === 0 || Buffer.byteLength(rawState) > max) throw new MintError('bad_state', `${purpose} must be 1..${max} bytes`);
  const ttlMs = conn.config.pin_ttl_s * 1000;
  const pin: PinRecord = {
    flow_key_hash: keyedHash(deps.keys.hash, purpose, rawState),
    backend: backendId,
    issuer,
    connection: connName,
    response_mode: responseMode,
    created_at: nowMs,
    expires_at: nowMs + ttlMs,
  };
  let put: PutResult;
  try {
    put = await deps.pinStore.put(pin, ttlMs + PIN_EXPIRED_GRACE_MS);
  } catch {
    throw new MintError('store_unavailable', 'the pin store could not be reached');
  }
  if (put.status === 'full') throw new MintError('budget_exhausted', 'the pin store holds as many pins as limits.max_pins allows');
  if (put.status === 'conflict') {
    // Never re-pinned: one backend must not steer another's flow (docs/threat-model.md, pins).
    const e = new MintError('already_pinned', 'this flow key is already pinned (to another backend, connection or response mode)');
    e.flowKeyHash = pin.flow_key_hash;
    throw e;
  }
  return put.pin;
}

/**
 * An envelope's issue time is read back as its whole-second expiry minus the pin TTL, so one signed in
 * the second the replay store's epoch began would read as issued before it and be refused
 * (store_data_lost). Such a mint waits for the next whole second (at most one second, and only right
 * after an epoch began) and signs as of then. It never signs as of a time that has not come yet: an
 * envelope must not look newer than it is, or a loss right after it could go unnoticed.
 */
async function afterEpochSecond(deps: FactsDeps, nowMs: number): Promise<number> {
  let at = nowMs;
  for (let i = 0; i < 3; i++) {
    const epoch = deps.replayStore.epochStartMs('state');
    const boundary = Math.ceil(epoch / 1000) * 1000;
    if (at < epoch || at >= boundary) return at;
    await new Promise((r) => setTimeout(r, boundary - at + 1));
    at = boundary;
  }
  return at;
}

/**
 * Mints a fresh state pinned to `backend`: a signed envelope when the backend has a state key
 * (stateless), else an opaque random state whose pin goes to the store.
 */
export async function mintState(
  connection: string,
  backend: string,
  deps: FactsDeps,
  nowMs: number,
  responseMode: 'query' | 'form_post' | null = null,
): Promise<{ state: string; pin: PinRecord }> {
  const { conn, issuer } = lookup(deps, connection, backend);
  const key = conn.stateKeys.get(backend);
  if (key && responseMode === null) {
    const signAt = await afterEpochSecond(deps, nowMs);
    const state = signEnvelope(key, connection, backend, signAt, conn.config.pin_ttl_s);
    const pin: PinRecord = {
      flow_key_hash: keyedHash(deps.keys.hash, 'state', state),
      backend, issuer, connection, response_mode: null, created_at: signAt, expires_at: signAt + conn.config.pin_ttl_s * 1000,
    };
    return { state, pin };
  }
  const state = randomBytes(24).toString('base64url');
  return { state, pin: await createPin(connection, backend, state, responseMode, deps, nowMs) };
}
