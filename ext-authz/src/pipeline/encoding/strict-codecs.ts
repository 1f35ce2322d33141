// Strict decoders for every encoded value the request path checks a MAC or signature over, or reads
// a token or assertion from: base64 (RFC 4648 §4), base64url (§5) and hex (§8). Each accepts exactly
// one spelling of a byte string — the one Node's Buffer writes for those bytes — because a lenient
// decoder maps several strings onto one value, and anything keyed on the string (a replay marker, a
// cache) can then be sidestepped by re-spelling it (docs/threat-model.md T-S4/T-S5). RFC 4648 §3.5
// allows a decoder to reject input whose pad bits are not zero; §3.3 to reject characters outside the
// alphabet. Nothing here throws; a refusal names its problem.
import type { ReasonCode } from '../../model/reasons';

export type EncodingProblem =
  /** no characters where at least one is needed */
  | 'empty'
  /** a character that is in no base64 alphabet (or not a hex digit) */
  | 'bad_character'
  /** a character of the other base64 alphabet (`+/` in base64url, `-_` in base64) or an upper-case hex digit */
  | 'other_alphabet'
  /** space, tab, CR or LF (line breaks only where a decoder is told to accept them) */
  | 'whitespace'
  /** `=` where none belongs, missing where it is required, or too many */
  | 'bad_padding'
  /** a length no encoding produces (base64url 4n+1 characters, odd hex) */
  | 'bad_length'
  /** the unused low bits of the last character are not zero */
  | 'nonzero_pad_bits'
  /** well formed, but not the number of bytes the caller expects (a MAC is 32) */
  | 'wrong_size';

export type Decoded = { ok: true; bytes: Buffer } | { ok: false; problem: EncodingProblem };

export interface DecodeOptions {
  /** The exact number of decoded bytes expected (e.g. 32 for an HMAC-SHA256). */
  bytes?: number;
  /** Refuse (as bad_length) input longer than this many characters before decoding anything. */
  maxChars?: number;
}

/**
 * Problems that mean "another spelling of well-formed bytes": a lenient decoder (Node's Buffer, most
 * libraries) would return the same bytes as for the canonical string. These deny with
 * `non_canonical_encoding`; everything else is plain garbage and keeps the caller's own reason code.
 */
const RESPELLINGS: ReadonlySet<EncodingProblem> = new Set<EncodingProblem>(['other_alphabet', 'whitespace', 'bad_padding', 'nonzero_pad_bits']);

export function isRespelling(problem: EncodingProblem): boolean {
  return RESPELLINGS.has(problem);
}

/** The reason a refused value denies with: `non_canonical_encoding` for a re-spelling, else `otherwise`. */
export function encodingReason(problem: EncodingProblem, otherwise: ReasonCode): ReasonCode {
  return RESPELLINGS.has(problem) ? 'non_canonical_encoding' : otherwise;
}

// Character classes by code unit: 0 = not in any alphabet, 1 = shared (A–Z a–z 0–9),
// 2 = base64 only (+ /), 3 = base64url only (- _), 4 = '=', 5 = whitespace.
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9]/.test(ch)) CLASS[c] = 1;
  else if (ch === '+' || ch === '/') CLASS[c] = 2;
  else if (ch === '-' || ch === '_') CLASS[c] = 3;
  else if (ch === '=') CLASS[c] = 4;
  else if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') CLASS[c] = 5;
}

/** The 6-bit value of a base64 / base64url character (the caller has checked the alphabet). */
function sextet(c: number): number {
  if (c >= 0x41 && c <= 0x5a) return c - 0x41;
  if (c >= 0x61 && c <= 0x7a) return c - 0x61 + 26;
  if (c >= 0x30 && c <= 0x39) return c - 0x30 + 52;
  return c === 0x2b || c === 0x2d ? 62 : 63;
}

/** Pad bits of the last data character: 4 bits when len ≡ 2 (mod 4), 2 bits when len ≡ 3. */
function padBitsZero(s: string, dataLen: number): boolean {
  const rem = dataLen % 4;
  if (rem === 0) return true;
  const v = sextet(s.charCodeAt(dataLen - 1));
  return rem === 2 ? (v & 0x0f) === 0 : (v & 0x03) === 0;
}

function finish(bytes: Buffer, s: string, canonical: string, opts: DecodeOptions): Decoded {
  // Belt and braces: the checks above define canonical; the round trip proves it for these bytes.
  if (canonical !== s) return { ok: false, problem: 'nonzero_pad_bits' };
  if (opts.bytes !== undefined && bytes.length !== opts.bytes) return { ok: false, problem: 'wrong_size' };
  return { ok: true, bytes };
}

function classify(s: string, own: number, other: number): EncodingProblem | null {
  let problem: EncodingProblem | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const k = c < 128 ? CLASS[c] : 0;
    if (k === 1 || k === own || k === 4) continue;
    // The most telling problem wins: garbage over whitespace over the other alphabet.
    if (k === 0) return 'bad_character';
    if (k === 5) problem = 'whitespace';
    else if (k === other && problem === null) problem = 'other_alphabet';
  }
  return problem;
}

/** base64url without padding (RFC 4648 §5; JWS, RFC 7515 §2): what our MACs and nonces are minted in. */
export function decodeBase64Url(s: string, opts: DecodeOptions = {}): Decoded {
  if (opts.maxChars !== undefined && s.length > opts.maxChars) return { ok: false, problem: 'bad_length' };
  if (s.length === 0) return { ok: false, problem: 'empty' };
  const p = classify(s, 3, 2);
  if (p !== null) return { ok: false, problem: p };
  if (s.includes('=')) return { ok: false, problem: 'bad_padding' };
  if (s.length % 4 === 1) return { ok: false, problem: 'bad_length' };
  if (!padBitsZero(s, s.length)) return { ok: false, problem: 'nonzero_pad_bits' };
  const bytes = Buffer.from(s, 'base64url');
  return finish(bytes, s, bytes.toString('base64url'), opts);
}

export interface Base64Options extends DecodeOptions {
  /**
   * Accept CR LF / LF line breaks between characters and ignore them (RFC 2045 §6.8, which SAML's
   * HTTP-POST binding refers to). Spaces and tabs are still refused.
   */
  lineBreaks?: boolean;
}

/** base64 with its padding (RFC 4648 §4): Standard Webhooks signatures, SAML responses. */
export function decodeBase64(input: string, opts: Base64Options = {}): Decoded {
  if (opts.maxChars !== undefined && input.length > opts.maxChars) return { ok: false, problem: 'bad_length' };
  let s = input;
  if (opts.lineBreaks && (s.includes('\n') || s.includes('\r'))) {
    // Only whole line breaks: a lone CR is not one.
    if (/\r(?!\n)/.test(s)) return { ok: false, problem: 'whitespace' };
    s = s.replace(/\r?\n/g, '');
  }
  if (s.length === 0) return { ok: false, problem: 'empty' };
  const p = classify(s, 2, 3);
  if (p !== null) return { ok: false, problem: p };
  const eq = s.indexOf('=');
  const dataLen = eq < 0 ? s.length : eq;
  if (eq >= 0) {
    for (let i = eq; i < s.length; i++) if (s.charCodeAt(i) !== 0x3d) return { ok: false, problem: 'bad_padding' };
  }
  if (dataLen % 4 === 1) return { ok: false, problem: 'bad_length' };
  // Exactly the padding that completes the last quantum: none, `==` or `=`.
  if (s.length % 4 !== 0 || s.length - dataLen !== (4 - (dataLen % 4)) % 4) return { ok: false, problem: 'bad_padding' };
  if (!padBitsZero(s, dataLen)) return { ok: false, problem: 'nonzero_pad_bits' };
  const bytes = Buffer.from(s, 'base64');
  return finish(bytes, s, bytes.toString('base64'), opts);
}

/** Lower-case hex (RFC 4648 §8 spelled as Node and GitHub's `X-Hub-Signature-256` write it). */
export function decodeHex(s: string, opts: DecodeOptions = {}): Decoded {
  if (opts.maxChars !== undefined && s.length > opts.maxChars) return { ok: false, problem: 'bad_length' };
  if (s.length === 0) return { ok: false, problem: 'empty' };
  let upper = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)) continue;
    if (c >= 0x41 && c <= 0x46) upper = true;
    else return { ok: false, problem: c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d ? 'whitespace' : 'bad_character' };
  }
  if (upper) return { ok: false, problem: 'other_alphabet' };
  if (s.length % 2 !== 0) return { ok: false, problem: 'bad_length' };
  const bytes = Buffer.from(s, 'hex');
  return finish(bytes, s, bytes.toString('hex'), opts);
}
