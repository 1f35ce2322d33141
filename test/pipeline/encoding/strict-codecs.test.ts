// The strict decoders (pipeline/encoding/strict-codecs.ts): exactly one spelling per byte string. The
// oracle is Node's own encoder: a string is accepted iff encoding the bytes a lenient decoder reads
// from it gives the string back. Short strings are checked exhaustively, longer ones by property.
import fc from 'fast-check';
import { decodeBase64, decodeBase64Url, decodeHex, encodingReason, isRespelling } from '../../../ext-authz/src/pipeline/encoding/strict-codecs';
import type { Decoded, EncodingProblem } from '../../../ext-authz/src/pipeline/encoding/strict-codecs';

const URL_ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const STD_ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** Both alphabets, padding, whitespace and a few characters in no alphabet. */
const CHARS = [...new Set([...URL_ALPHA, ...STD_ALPHA, '=', ' ', '\t', '\n', '\r', '.', '!', '%', '\u00e9'])];

function oracle(s: string, enc: 'base64' | 'base64url'): boolean {
  return Buffer.from(s, enc).toString(enc) === s && s.length > 0;
}

function bytesOf(d: Decoded): string | null {
  return d.ok ? d.bytes.toString('hex') : null;
}

function* strings(alphabet: string[], len: number): Generator<string> {
  if (len === 0) {
    yield '';
    return;
  }
  for (const head of strings(alphabet, len - 1)) for (const c of alphabet) yield head + c;
}

describe('base64url (unpadded, RFC 4648 §5)', () => {
  test('exhaustive up to 2 characters over both alphabets, padding, whitespace and garbage; 3–4 over a sample', () => {
    let accepted = 0;
    let checked = 0;
    const sample = ['A', 'B', 'E', 'Q', 'g', 'w', '-', '_', '+', '/', '=', ' ', '!'];
    const cases: string[] = [];
    for (const n of [1, 2]) cases.push(...strings(CHARS, n));
    for (const n of [3, 4]) cases.push(...strings(sample, n));
    const wrong: string[] = [];
    for (const s of cases) {
      const d = decodeBase64Url(s);
      checked++;
      if (d.ok !== oracle(s, 'base64url') || (d.ok && !d.bytes.equals(Buffer.from(s, 'base64url')))) wrong.push(s);
      if (d.ok) accepted++;
    }
    expect(wrong).toEqual([]);
    // 2 chars: 64 × 16 spellings carry a byte with zero pad bits; the rest of the 4,900 are refused.
    expect(accepted).toBeGreaterThan(256);
    expect(checked).toBe(CHARS.length + CHARS.length ** 2 + sample.length ** 3 + sample.length ** 4);
  });

  test('each refusal names its problem', () => {
    const mac = Buffer.alloc(32, 0xab).toString('base64url'); // 43 characters, 2 pad bits
    const cases: [string, EncodingProblem][] = [
      ['', 'empty'],
      [`${mac}=`, 'bad_padding'],
      [mac.replace(/-/g, '+').replace(/_/g, '/').replace(/.$/, '+'), 'other_alphabet'],
      [`${mac.slice(0, 10)} ${mac.slice(10)}`, 'whitespace'],
      [`${mac.slice(0, 10)}!${mac.slice(10)}`, 'bad_character'],
      ['QUJDR', 'bad_length'],
      [`${mac.slice(0, 42)}${URL_ALPHA[URL_ALPHA.indexOf(mac[42]) + 1]}`, 'nonzero_pad_bits'],
    ];
    for (const [s, problem] of cases) expect(decodeBase64Url(s)).toEqual({ ok: false, problem });
    expect(decodeBase64Url(mac, { bytes: 31 })).toEqual({ ok: false, problem: 'wrong_size' });
    expect(decodeBase64Url(mac, { maxChars: 42 })).toEqual({ ok: false, problem: 'bad_length' });
    expect(bytesOf(decodeBase64Url(mac, { bytes: 32 }))).toBe('ab'.repeat(32));
  });

  test('property: canonical encodings decode to their bytes; every lenient sibling is refused', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), (raw, pick) => {
        const bytes = Buffer.from(raw);
        const s = bytes.toString('base64url');
        expect(bytesOf(decodeBase64Url(s))).toBe(bytes.toString('hex'));
        // The siblings of the last character: same high bits, other pad bits.
        const last = URL_ALPHA.indexOf(s[s.length - 1]);
        const padBits = s.length % 4 === 2 ? 4 : s.length % 4 === 3 ? 2 : 0;
        for (let low = 1; low < 1 << padBits; low++) {
          const sib = s.slice(0, -1) + URL_ALPHA[last | low];
          expect(Buffer.from(sib, 'base64url').equals(bytes)).toBe(true); // the same bytes to a lenient decoder
          expect(decodeBase64Url(sib)).toEqual({ ok: false, problem: 'nonzero_pad_bits' });
        }
        // Padding, the standard alphabet, and whitespace: the same bytes to Node, refused here.
        const variants = [
          `${s}${'='.repeat((4 - (s.length % 4)) % 4 || 1)}`,
          s.replace(/-/g, '+').replace(/_/g, '/'),
          `${s.slice(0, pick % s.length)}\n${s.slice(pick % s.length)}`,
        ].filter((v) => v !== s);
        for (const v of variants) {
          expect(Buffer.from(v, 'base64url').equals(bytes)).toBe(true);
          const d = decodeBase64Url(v);
          expect(d.ok).toBe(false);
          if (!d.ok) expect(isRespelling(d.problem)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('base64 (padded, RFC 4648 §4)', () => {
  test('exhaustive up to 4 characters over a sample including both alphabets, padding and whitespace', () => {
    const sample = ['A', 'B', 'E', 'Q', 'g', 'w', '+', '/', '-', '_', '=', ' ', '!'];
    let accepted = 0;
    const wrong: string[] = [];
    for (const n of [1, 2, 3, 4]) {
      for (const s of strings(n <= 2 ? CHARS : sample, n)) {
        const d = decodeBase64(s);
        if (d.ok !== oracle(s, 'base64') || (d.ok && !d.bytes.equals(Buffer.from(s, 'base64')))) wrong.push(s);
        if (d.ok) accepted++;
      }
    }
    expect(wrong).toEqual([]);
    expect(accepted).toBeGreaterThan(50);
  });

  test('padding must be exactly the one that completes the quantum', () => {
    expect(bytesOf(decodeBase64('QQ=='))).toBe('41');
    expect(bytesOf(decodeBase64('QUI='))).toBe('4142');
    expect(bytesOf(decodeBase64('QUJD'))).toBe('414243');
    for (const [s, p] of [['QQ', 'bad_padding'], ['QQ=', 'bad_padding'], ['QQ===', 'bad_padding'], ['QUI', 'bad_padding'], ['QUI==', 'bad_padding'], ['Q=Q=', 'bad_padding'], ['QUJD====', 'bad_padding'], ['Q===', 'bad_length'], ['QR==', 'nonzero_pad_bits'], ['QUJ=', 'nonzero_pad_bits'], ['QU-=', 'other_alphabet'], ['QU I=', 'whitespace']] as const) {
      expect(decodeBase64(s)).toEqual({ ok: false, problem: p });
    }
  });

  test('line breaks only when asked for, and only whole ones (RFC 2045 §6.8)', () => {
    const body = Buffer.alloc(120, 7).toString('base64');
    const wrapped = body.replace(/(.{76})/g, '$1\r\n');
    expect(decodeBase64(wrapped)).toEqual({ ok: false, problem: 'whitespace' });
    expect(bytesOf(decodeBase64(wrapped, { lineBreaks: true }))).toBe(Buffer.alloc(120, 7).toString('hex'));
    expect(bytesOf(decodeBase64(body.replace(/(.{64})/g, '$1\n'), { lineBreaks: true }))).toBe(Buffer.alloc(120, 7).toString('hex'));
    expect(decodeBase64(body.replace(/(.{76})/g, '$1\r'), { lineBreaks: true })).toEqual({ ok: false, problem: 'whitespace' });
    expect(decodeBase64(body.replace(/(.{76})/g, '$1 '), { lineBreaks: true })).toEqual({ ok: false, problem: 'whitespace' });
  });

  test('property: every sibling spelling of a signature is refused', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 48 }), (raw) => {
        const bytes = Buffer.from(raw);
        const s = bytes.toString('base64');
        expect(bytesOf(decodeBase64(s))).toBe(bytes.toString('hex'));
        const eq = s.indexOf('=');
        const dataLen = eq < 0 ? s.length : eq;
        const last = STD_ALPHA.indexOf(s[dataLen - 1]);
        const padBits = dataLen % 4 === 2 ? 4 : dataLen % 4 === 3 ? 2 : 0;
        const variants: string[] = [s.replace(/=+$/, ''), s.replace(/\+/g, '-').replace(/\//g, '_'), `${s}==`.slice(0, s.length + (eq < 0 ? 4 : 1))];
        for (let low = 1; low < 1 << padBits; low++) variants.push(s.slice(0, dataLen - 1) + STD_ALPHA[last | low] + s.slice(dataLen));
        for (const v of variants.filter((x) => x !== s)) {
          expect(Buffer.from(v, 'base64').equals(bytes)).toBe(true);
          const d = decodeBase64(v);
          expect(d.ok).toBe(false);
          if (!d.ok) expect(encodingReason(d.problem, 'bad_signature')).toBe('non_canonical_encoding');
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('hex (lower case)', () => {
  test('exhaustive over every pair of ASCII characters', () => {
    let accepted = 0;
    const wrong: string[] = [];
    for (let a = 0; a < 128; a++) {
      for (let b = 0; b < 128; b++) {
        const s = String.fromCharCode(a, b);
        const d = decodeHex(s);
        const canonical = Buffer.from(s, 'hex').toString('hex') === s;
        if (d.ok !== canonical || (!d.ok && /^[0-9a-fA-F]{2}$/.test(s) && d.problem !== 'other_alphabet')) wrong.push(s);
        if (d.ok) accepted++;
      }
    }
    expect(wrong).toEqual([]);
    expect(accepted).toBe(256);
  });

  test('odd length, whitespace, garbage and size', () => {
    expect(decodeHex('abc')).toEqual({ ok: false, problem: 'bad_length' });
    expect(decodeHex('ab cd')).toEqual({ ok: false, problem: 'whitespace' });
    expect(decodeHex('zz')).toEqual({ ok: false, problem: 'bad_character' });
    expect(decodeHex('')).toEqual({ ok: false, problem: 'empty' });
    expect(decodeHex('abcd', { bytes: 32 })).toEqual({ ok: false, problem: 'wrong_size' });
    expect(encodingReason('other_alphabet', 'bad_signature')).toBe('non_canonical_encoding');
    expect(encodingReason('bad_character', 'bad_signature')).toBe('bad_signature');
  });
});
