// Keyed hashes for secrets on the request path (docs/architecture.md, "Pins", docs/threat-model.md §10): HMAC-SHA256 under
// keys.hash_key, domain-separated by purpose so a state hash can never be confused with a code hash.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** `envelope`: the replay marker of a signed state envelope, over its verified fields (pins/resolve.ts). */
export type HashPurpose = 'state' | 'code' | 'relay' | 'cohort' | 'jti' | 'webhook' | 'envelope';

/** base64url(HMAC-SHA256(key, purpose || 0x00 || value)). The raw value is never kept. */
export function keyedHash(key: Buffer, purpose: HashPurpose, value: string): string {
  // One update of the joined UTF-8 string: the same bytes as three updates, one native call.
  return createHmac('sha256', key).update(`${purpose}\0${value}`).digest('base64url');
}

/** The same HMAC as raw bytes (cohort buckets read the first bytes as an integer). */
export function keyedHashBytes(key: Buffer, purpose: HashPurpose, value: string): Buffer {
  return createHmac('sha256', key).update(`${purpose}\0${value}`).digest();
}

/**
 * Constant-time comparison of two MACs. Lengths are compared first (a length is not secret here):
 * timingSafeEqual throws on unequal lengths, which must never escape the request path.
 */
export function macEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Decodes a base64url key from the registry; the registry schema has already checked the shape. */
export function keyBytes(b64url: string): Buffer {
  return Buffer.from(b64url, 'base64url');
}
