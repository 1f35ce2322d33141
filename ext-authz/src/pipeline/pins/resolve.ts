// Pin resolution (DESIGN §2 "Pins"): state / RelayState → PinFacts. Signed envelope first, else the
// store by keyed hash. Both are one-time: the first use is recorded atomically, a second is a replay.
import type { PinFacts } from '../../model/facts';
import type { PinRecord } from '../../store/types';
import type { FactsDeps, PreparedConnection } from '../facts/deps';
import { verifyEnvelope } from './state-envelope';

export function emptyPin(): PinFacts {
  return {
    found: false, backend: null, issuer: null, connection: null, response_mode: null, age_s: null,
    expired: false, consumed_before: false, source: null, error: null, created_at_ms: null,
  };
}

/** How long a spent envelope is remembered past its expiry (clock skew between replicas). */
const ENVELOPE_REPLAY_GRACE_MS = 5 * 60_000;

/**
 * Resolves a flow key. `hash` is the keyed hash of the raw value (computed once by the caller);
 * `isState` enables envelopes (RelayState is limited to 80 bytes, too short for one).
 */
export async function resolvePin(raw: string, hash: string, isState: boolean, conn: PreparedConnection, deps: FactsDeps, nowMs: number): Promise<PinFacts> {
  const pin = emptyPin();
  if (isState) {
    const env = verifyEnvelope(raw, deps.keys.state, conn.config.name, nowMs);
    if (env.kind === 'bad_mac') return { ...pin, source: 'envelope', error: env.reason };
    if (env.kind === 'ok') {
      const backend = conn.backends.get(env.envelope.backend);
      if (!backend) return { ...pin, source: 'envelope', error: 'state_bad_mac' };
      const expMs = env.envelope.exp * 1000;
      const created = expMs - conn.config.pin_ttl_s * 1000;
      const facts: PinFacts = {
        found: true, backend: backend.id, issuer: backend.issuer, connection: conn.config.name, response_mode: null,
        age_s: Math.max(0, Math.floor((nowMs - created) / 1000)), expired: env.expired, consumed_before: false,
        source: 'envelope', error: env.expired ? 'state_expired' : null, created_at_ms: created,
      };
      if (env.expired) return facts;
      try {
        const first = await deps.replayStore.firstSeen('state', hash, expMs - nowMs + ENVELOPE_REPLAY_GRACE_MS);
        facts.consumed_before = !first; // `facts` is ours and fresh: set in place rather than spread-copy
        return facts;
      } catch {
        facts.error = 'store_unavailable';
        return facts;
      }
    }
  }
  let consumed: { pin: PinRecord | null; consumedBefore: boolean };
  try {
    consumed = await deps.pinStore.consume(hash);
  } catch {
    return { ...pin, source: 'store', error: 'store_unavailable' };
  }
  const rec = consumed.pin;
  if (!rec) return pin;
  const expired = nowMs >= rec.expires_at;
  return {
    found: true, backend: rec.backend, issuer: rec.issuer, connection: rec.connection, response_mode: rec.response_mode,
    age_s: Math.max(0, Math.floor((nowMs - rec.created_at) / 1000)), expired, consumed_before: consumed.consumedBefore,
    source: 'store', error: expired ? 'state_expired' : null, created_at_ms: rec.created_at,
  };
}
