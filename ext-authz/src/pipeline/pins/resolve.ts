// Pin resolution (docs/architecture.md, "Pins"): state / RelayState → PinFacts. Signed envelope first, else the
// store by keyed hash. Read only: whether the flow was used already is its one-time marker, which the
// one-time phase peeks and only the commit phase writes, after a decision forwarded the request
// (docs/architecture.md, "A callback, step by step").
import type { PinFacts } from '../../model/facts';
import type { Marker, PinRecord } from '../../store/types';
import type { FactsDeps, PreparedConnection } from '../facts/deps';
import { keyedHash } from '../facts/keyed-hash';
import { PIN_EXPIRED_GRACE_MS } from './mint';
import { verifyEnvelope } from './state-envelope';

export function emptyPin(): PinFacts {
  return {
    found: false, backend: null, issuer: null, connection: null, response_mode: null, age_s: null,
    expired: false, consumed_before: false, source: null, error: null, created_at_ms: null,
  };
}

/** How long a spent envelope is remembered past its expiry (clock skew between replicas). */
export const ENVELOPE_REPLAY_GRACE_MS = 5 * 60_000;

export interface ResolvedPin {
  pin: PinFacts;
  /**
   * The flow's one-time marker, only when the pin verified for THIS connection and is live: what the
   * commit phase sets when the callback is forwarded. Lives as long as the flow can still be presented.
   */
  marker: Marker | null;
  /** The flow's expiry (epoch ms) when `marker` is set: markers tied to the flow live at least as long. */
  expiresAtMs: number | null;
}

/**
 * The replay key of a verified envelope: a keyed hash of the fields its MAC covers (connection,
 * backend, expiry, nonce), never of the raw spelling. Two spellings that verify are the same envelope
 * and share one marker, so a re-encoded MAC cannot replay it (docs/threat-model.md T-S4).
 */
export function envelopeMarkerHash(hashKey: Buffer, connection: string, raw: string): string {
  const parts = raw.split('.');
  return keyedHash(hashKey, 'envelope', `${connection}\0${parts[1]}\0${parts[2]}\0${parts[3]}`);
}

/**
 * Resolves a flow key. `hash` is the keyed hash of the raw value (computed once by the caller);
 * `isState` enables envelopes (RelayState is limited to 80 bytes, too short for one).
 */
export async function resolvePin(raw: string, hash: string, isState: boolean, conn: PreparedConnection, deps: FactsDeps, nowMs: number): Promise<ResolvedPin> {
  if (isState) {
    const env = verifyEnvelope(raw, conn.stateKeys, conn.config.name, nowMs);
    if (env.kind === 'bad_mac') return { pin: { ...emptyPin(), source: 'envelope', error: env.reason }, marker: null, expiresAtMs: null };
    if (env.kind === 'ok') {
      const backend = conn.backends.get(env.envelope.backend);
      if (!backend) return { pin: { ...emptyPin(), source: 'envelope', error: 'state_bad_mac' }, marker: null, expiresAtMs: null };
      const expMs = env.envelope.exp * 1000;
      const created = expMs - conn.config.pin_ttl_s * 1000;
      const pin: PinFacts = {
        found: true, backend: backend.id, issuer: backend.issuer, connection: conn.config.name, response_mode: null,
        age_s: Math.max(0, Math.floor((nowMs - created) / 1000)), expired: env.expired, consumed_before: false,
        source: 'envelope', error: env.expired ? 'state_expired' : null, created_at_ms: created,
      };
      if (env.expired) return { pin, marker: null, expiresAtMs: null };
      const marker: Marker = { namespace: 'state', hash: envelopeMarkerHash(deps.keys.hash, conn.config.name, raw), ttlMs: expMs - nowMs + ENVELOPE_REPLAY_GRACE_MS };
      return { pin, marker, expiresAtMs: expMs };
    }
  }
  let rec: PinRecord | null;
  try {
    rec = await deps.pinStore.get(hash);
  } catch {
    return { pin: { ...emptyPin(), source: 'store', error: 'store_unavailable' }, marker: null, expiresAtMs: null };
  }
  if (!rec) return { pin: emptyPin(), marker: null, expiresAtMs: null };
  const expired = nowMs >= rec.expires_at;
  const pin: PinFacts = {
    found: true, backend: rec.backend, issuer: rec.issuer, connection: rec.connection, response_mode: rec.response_mode,
    age_s: Math.max(0, Math.floor((nowMs - rec.created_at) / 1000)), expired, consumed_before: false,
    source: 'store', error: expired ? 'state_expired' : null, created_at_ms: rec.created_at,
  };
  // A pin of another connection is reported (the policy denies tenant_mismatch) but never consumed here.
  if (expired || rec.connection !== conn.config.name) return { pin, marker: null, expiresAtMs: null };
  // The marker outlives the pin record itself (expiry + the grace it stays readable for).
  const marker: Marker = { namespace: isState ? 'state' : 'relay', hash, ttlMs: Math.max(1000, rec.expires_at + PIN_EXPIRED_GRACE_MS - nowMs) };
  return { pin, marker, expiresAtMs: rec.expires_at };
}
