// Pins, way 1 (docs/architecture.md, "Pins"): stateless signed state envelopes
// `v1.<backend>.<exp>.<nonce>.<mac>`, HMAC-SHA256 under the backend's state key, bound to the connection.
import { createHmac, randomBytes } from 'node:crypto';
import { macEqual } from '../facts/keyed-hash';
import { decodeBase64Url, isRespelling } from '../encoding/strict-codecs';

export const ENVELOPE_PREFIX = 'v1.';
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const NONCE = /^[A-Za-z0-9_-]{16,64}$/;

export interface Envelope {
  backend: string;
  /** expiry, epoch seconds */
  exp: number;
}

export type EnvelopeCheck =
  | { kind: 'not_envelope' }
  /** `reason`: state_bad_mac, or non_canonical_encoding for a re-spelt MAC (T-S4/T-S5). */
  | { kind: 'bad_mac'; reason: 'state_bad_mac' | 'non_canonical_encoding' }
  | { kind: 'ok'; envelope: Envelope; expired: boolean };

const BAD_MAC: EnvelopeCheck = Object.freeze({ kind: 'bad_mac', reason: 'state_bad_mac' });
const RESPELT: EnvelopeCheck = Object.freeze({ kind: 'bad_mac', reason: 'non_canonical_encoding' });

/** MAC input names the connection too, so an envelope never crosses tenants (threat model T-T1). */
function mac(key: Buffer, connection: string, backend: string, exp: string, nonce: string): Buffer {
  return createHmac('sha256', key).update(`cbp-state\0v1\0${connection}\0${backend}\0${exp}\0${nonce}`).digest();
}

export function isEnvelope(state: string): boolean {
  return state.startsWith(ENVELOPE_PREFIX);
}

/** Signs a fresh envelope for `backend`, valid for ttlS seconds. */
export function signEnvelope(key: Buffer, connection: string, backend: string, nowMs: number, ttlS: number): string {
  const exp = String(Math.floor(nowMs / 1000) + ttlS);
  const nonce = randomBytes(18).toString('base64url');
  return `v1.${backend}.${exp}.${nonce}.${mac(key, connection, backend, exp, nonce).toString('base64url')}`;
}

/**
 * Verifies an envelope. Anything that starts with `v1.` is an envelope claim: a wrong shape, an
 * unknown backend key or a bad MAC is `bad_mac` (T-S5), never a fall-through to the store.
 *
 * Exactly one string verifies per envelope. Backend, exp and nonce are MAC'd as the characters sent,
 * so any other spelling of them fails the MAC; the MAC itself is decoded strictly (no padding, no
 * `+/`, zero pad bits), because a lenient decoder reads four different last characters as the same
 * bytes and each spelling would be a fresh, unspent state to anything keyed on the string (T-S4).
 * The encoding is checked before the key is used: the answer never depends on the key.
 */
export function verifyEnvelope(state: string, keys: ReadonlyMap<string, Buffer>, connection: string, nowMs: number): EnvelopeCheck {
  if (!isEnvelope(state)) return { kind: 'not_envelope' };
  const parts = state.split('.');
  if (parts.length !== 5) return BAD_MAC;
  const [, backend, exp, nonce, sig] = parts;
  if (!ID.test(backend) || !/^\d{1,12}$/.test(exp) || !NONCE.test(nonce)) return BAD_MAC;
  const decoded = decodeBase64Url(sig, { bytes: 32, maxChars: 64 });
  if (!decoded.ok) return isRespelling(decoded.problem) ? RESPELT : BAD_MAC;
  const key = keys.get(backend);
  if (!key) return BAD_MAC;
  const want = mac(key, connection, backend, exp, nonce);
  if (!macEqual(decoded.bytes, want)) return BAD_MAC;
  const expS = Number(exp);
  return { kind: 'ok', envelope: { backend, exp: expS }, expired: nowMs >= expS * 1000 };
}
