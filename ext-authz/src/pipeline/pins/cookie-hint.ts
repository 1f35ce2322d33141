// Pins, way 4 (docs/architecture.md, "Pins"): the `__Host-cbp_hint` cookie, MAC'd under keys.cookie_key. A hint
// only: SameSite=None is required for form_post/SAML POST (RFC 6265bis §5.4.7), and it never pins alone.
import { createHmac } from 'node:crypto';
import { macEqual } from '../facts/keyed-hash';
import { decodeBase64Url } from '../encoding/strict-codecs';

export const HINT_COOKIE = '__Host-cbp_hint';
const ID = /^[A-Za-z0-9_-]{1,64}$/;

function mac(key: Buffer, connection: string, backend: string, exp: string): Buffer {
  return createHmac('sha256', key).update(`cbp-hint\0v1\0${connection}\0${backend}\0${exp}`).digest();
}

/** The cookie value `v1.<backend>.<exp>.<mac>` (the connection is bound by the MAC, not shown). */
export function signHint(key: Buffer, connection: string, backend: string, nowMs: number, ttlS: number): string {
  const exp = String(Math.floor(nowMs / 1000) + ttlS);
  return `v1.${backend}.${exp}.${mac(key, connection, backend, exp).toString('base64url')}`;
}

/** Set-Cookie for the login-start response (`__Host-`: Secure, Path=/, no Domain — RFC 6265bis §4.1.3.2). */
export function hintSetCookie(key: Buffer, connection: string, backend: string, nowMs: number, ttlS: number): string {
  return `${HINT_COOKIE}=${signHint(key, connection, backend, nowMs, ttlS)}; Path=/; Secure; HttpOnly; SameSite=None; Max-Age=${ttlS}`;
}

/** Reads our cookie from a Cookie header; duplicates make it unusable (cookie tossing). */
export function readHintCookie(cookieHeader: string | undefined): string | null {
  // Most requests carry no hint: skip splitting a long Cookie header (same result: nothing found).
  if (!cookieHeader || !cookieHeader.includes(HINT_COOKIE)) return null;
  let found: string | null = null;
  for (const part of cookieHeader.split(/;\s*|,\s*/)) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== HINT_COOKIE) continue;
    if (found !== null) return null;
    found = part.slice(eq + 1).trim();
  }
  return found;
}

/**
 * The hinted backend when the MAC verifies for this connection and the hint is not expired. The MAC
 * is decoded strictly: only the spelling we minted verifies (a lenient decoder reads the genuine MAC
 * out of four different last characters, which made forged-looking cookies verify).
 */
export function verifyHint(key: Buffer, connection: string, value: string | null, nowMs: number): string | null {
  if (value === null) return null;
  const parts = value.split('.');
  if (parts.length !== 4 || parts[0] !== 'v1') return null;
  const [, backend, exp, sig] = parts;
  if (!ID.test(backend) || !/^\d{1,12}$/.test(exp)) return null;
  const got = decodeBase64Url(sig, { bytes: 32, maxChars: 64 });
  if (!got.ok) return null;
  const want = mac(key, connection, backend, exp);
  if (!macEqual(got.bytes, want)) return null;
  return nowMs < Number(exp) * 1000 ? backend : null;
}
