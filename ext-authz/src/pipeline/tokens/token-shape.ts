// Structure checks before any crypto (RFC 8725 §2.8/§3.1, threat model T-J1/J4/J12): size, three
// base64url parts, JSON object header and payload, bounded nesting, no self-named key sources.
import type { ReasonCode } from '../../model/reasons';
import { decodeBase64Url, isRespelling } from '../encoding/strict-codecs';

export interface TokenShape {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

const MAX_DEPTH = 8;
const MAX_HEADER_BYTES = 2048;
/** Headers that name their own key: never fetched, never trusted (T-J4). */
const KEY_SOURCES = ['jku', 'x5u', 'jwk', 'x5c'];

/** JSON nesting depth by a string-aware bracket scan (cheap, and bounded before JSON.parse runs). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inStr = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inStr) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inStr = false;
    } else if (c === 0x22) inStr = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) max = depth;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** A JSON object from one strictly decoded base64url part; a re-spelt part is its own reason. */
function decodeObject(part: string, maxBytes: number): Record<string, unknown> | 'non_canonical_encoding' | null {
  const d = decodeBase64Url(part, { maxChars: Math.ceil((maxBytes * 4) / 3) });
  if (!d.ok) return isRespelling(d.problem) ? 'non_canonical_encoding' : null;
  const text = d.bytes.toString('utf8');
  if (jsonDepth(text) > MAX_DEPTH) return null;
  try {
    const v: unknown = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
    return v as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** Returns the decoded (unverified) shape or the reason the token is refused before crypto. */
export function checkTokenShape(raw: string, maxBytes: number): TokenShape | ReasonCode {
  if (raw.length > maxBytes) return 'token_malformed';
  const parts = raw.split('.');
  if (parts.length !== 3) return 'token_malformed';
  const header = decodeObject(parts[0], MAX_HEADER_BYTES);
  const payload = decodeObject(parts[1], maxBytes);
  if (header === 'non_canonical_encoding' || payload === 'non_canonical_encoding') return 'non_canonical_encoding';
  if (!header || !payload) return 'token_malformed';
  // crit (RFC 7515 §4.1.11): we understand no extension, so any crit is a refusal; a huge one too.
  if (header.crit !== undefined) return 'token_malformed';
  const alg = header.alg;
  if (typeof alg !== 'string' || alg.toLowerCase() === 'none' || parts[2].length === 0) return 'alg_not_allowed';
  for (const k of KEY_SOURCES) if (header[k] !== undefined) return 'key_source_not_allowed';
  // The signature in its one spelling too (RFC 7515 §2: base64url, no padding): a lenient decoder
  // would verify four spellings of the same signature.
  const sig = decodeBase64Url(parts[2]);
  if (!sig.ok) return isRespelling(sig.problem) ? 'non_canonical_encoding' : 'token_malformed';
  return { header, payload };
}
