// ONE strict application/x-www-form-urlencoded parser (WHATWG URL §5.1, docs/threat-model.md §7) used for both the
// query string and form bodies: names are case-sensitive, every occurrence is kept, no array syntax.
import type { ReasonCode } from '../../model/reasons';

export interface ParsedParams {
  /** name → every value in order (OPA-Envoy `parsed_query` shape). */
  values: Map<string, string[]>;
  /** Total occurrences (for the too_many_params limit). */
  count: number;
  /** A bad percent escape or invalid UTF-8: the whole input is refused. */
  malformed: boolean;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Strict percent-decoding: `+` is a space, `%XY` must be two hex digits, the bytes must be UTF-8. */
export function strictDecode(s: string): string | null {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  const ascii = asciiDecode(s);
  if (ascii !== undefined) return ascii;
  return decodeGeneral(s);
}

/** The general byte-wise path of strictDecode (exported so tests can hold the fast path against it). */
export function decodeGeneral(s: string): string | null {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2b) bytes.push(0x20);
    else if (c === 0x25) {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c < 0x80) bytes.push(c);
    else {
      // Raw non-ASCII in a query: encode it as UTF-8 (Envoy forwards what the client sent).
      for (const b of Buffer.from(s[i] + (c >= 0xd800 && c <= 0xdbff ? s[i + 1] ?? '' : ''), 'utf8')) bytes.push(b);
      if (c >= 0xd800 && c <= 0xdbff) i++;
    }
  }
  try {
    return UTF8.decode(Uint8Array.from(bytes));
  } catch {
    return null;
  }
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * The common case (`iss=https%3A%2F%2F…`): every character and every escape is ASCII, so each byte is
 * a whole UTF-8 character and no decoder is needed. `null` = a bad escape (as strictDecode), and
 * `undefined` = not all-ASCII: the general path decides.
 */
function asciiDecode(s: string): string | null | undefined {
  let out = '';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return undefined;
    if (c === 0x2b) {
      out += s.slice(from, i) + ' ';
      from = i + 1;
    } else if (c === 0x25) {
      const hi = i + 1 < s.length ? hexDigit(s.charCodeAt(i + 1)) : -1;
      const lo = i + 2 < s.length ? hexDigit(s.charCodeAt(i + 2)) : -1;
      if (hi < 0 || lo < 0) return null;
      const b = hi * 16 + lo;
      if (b >= 0x80) return undefined;
      out += s.slice(from, i) + String.fromCharCode(b);
      i += 2;
      from = i + 1;
    }
  }
  return out + s.slice(from);
}

/** Parses `a=1&b=2` strictly. Empty pairs (`&&`) are skipped like the WHATWG parser does. */
export function parseForm(input: string, maxPairs: number): ParsedParams {
  const values = new Map<string, string[]>();
  let count = 0;
  let malformed = false;
  if (input.length === 0) return { values, count, malformed };
  for (const pair of input.split('&')) {
    if (pair.length === 0) continue;
    count++;
    // Stop storing beyond a hard bound so a flood of pairs costs nothing more (the count still rises).
    if (count > maxPairs * 4) continue;
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    // Names are not percent-decoded (threat model T-Q5): `%73tate` is its own key, never `state`. No
    // protocol parameter name needs an escape, so an escaped name is a twin and ends up unexpected.
    const decodedName = strictDecode(rawName);
    const value = strictDecode(rawValue);
    if (decodedName === null || value === null) {
      malformed = true;
      continue;
    }
    const name = rawName.includes('%') ? rawName : decodedName;
    const list = values.get(name);
    if (list) list.push(value);
    else values.set(name, [value]);
  }
  return { values, count, malformed };
}

/** Converts to the plain-object shape the policy input uses (no prototype, so `__proto__` is a name). */
export function toRecord(p: Map<string, string[]>): Record<string, string[]> {
  const out: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const [k, v] of p) out[k] = v;
  return out;
}

/** Names that occur more than once within one location. */
export function duplicateNames(p: Map<string, string[]>): string[] {
  const out: string[] = [];
  for (const [k, v] of p) if (v.length > 1) out.push(k);
  return out;
}

/** Names present in both query and body (threat model T-C3/T-Q3). */
export function ambiguousNames(query: Map<string, string[]>, body: Map<string, string[]> | null): string[] {
  if (!body) return [];
  const out: string[] = [];
  for (const k of query.keys()) if (body.has(k)) out.push(k);
  return out;
}

/** Any origin: only used as the base to resolve relative return targets against. */
const RESOLVE_BASE = 'https://callback-proxy.invalid/';
const RESOLVE_HOST = 'callback-proxy.invalid';

/**
 * Open-redirect check for post-login return parameters (threat model T-R3): the target must be same-origin
 * over https. A relative target is resolved the way a browser resolves a Location (WHATWG URL: dot
 * segments and `%2e` removed) BEFORE it is checked, so `/.//evil.example` — whose path becomes
 * `//evil.example`, a protocol-relative redirect once a backend re-emits it — is refused like
 * `//evil.example`. Absolute targets must be `https:` on one of the connection's hosts (`http:` is a
 * downgrade of the own origin). `\`, tabs and newlines are refused (browsers treat `\` as `/` and drop
 * the others).
 */
export function isOpenRedirect(value: string, allowedHosts: ReadonlySet<string>): boolean {
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return true;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(value);
  if (m) {
    if (m[1].toLowerCase() !== 'https') return true;
    if (!value.slice(m[0].length).startsWith('//')) return true; // `https:evil.example`
    let u: URL;
    try {
      u = new URL(value);
    } catch {
      return true;
    }
    return !allowedHosts.has(u.host.toLowerCase()) || u.username !== '' || u.password !== '' || u.pathname.startsWith('//');
  }
  if (value.startsWith('//')) return true;
  let u: URL;
  try {
    u = new URL(value, RESOLVE_BASE);
  } catch {
    return true;
  }
  return u.host !== RESOLVE_HOST || u.pathname.startsWith('//');
}

/** RelayState must be an opaque handle (SAML bindings §3.4.3 allows 80 bytes; threat model T-R1/T-R2). */
export function relayStateViolations(value: string, maxBytes: number): ReasonCode[] {
  const out: ReasonCode[] = [];
  if (Buffer.byteLength(value, 'utf8') > maxBytes) out.push('relaystate_too_long');
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(value) || value.startsWith('//') || value.startsWith('/\\') || value.startsWith('\\')) {
    out.push('relaystate_not_opaque');
  }
  return out;
}
