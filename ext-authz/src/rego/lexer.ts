// Rego lexer (parse phase 1): turns module/query text into a token array in one linear pass.
// Token classes follow the Rego language reference; string escapes follow JSON (RFC 8259 §7).
import type { Loc } from './ast';
import { RegoError } from './errors';

/** Words that never lex as identifiers. `contains` is special-cased by the parser (a var outside heads). */
export const KEYWORDS: ReadonlySet<string> = new Set([
  'package', 'import', 'as', 'default', 'else', 'not', 'some', 'with',
  'null', 'true', 'false', 'in', 'every', 'contains', 'if',
]);

export type TokenKind =
  | 'ident'
  | 'keyword'
  | 'number'
  | 'string'
  | 'rawstring'
  | 'punct'
  | 'eof';

export interface Token {
  kind: TokenKind;
  /** Identifier/keyword/punctuation text, number literal text, or the decoded string value. */
  text: string;
  loc: Loc;
  /** Offset of the token's first character in the source. */
  offset: number;
  /** Whitespace or a comment precedes the token: refs and calls need adjacency (`a.b`, `f(x)`). */
  space: boolean;
  /** A newline precedes the token: it separates the literals of a body. */
  nl: boolean;
}

// Two-character operators are tried first, so `:=` wins over `:` and `==` over `=`.
const PUNCT2 = new Set([':=', '==', '!=', '<=', '>=']);
const PUNCT1 = new Set(['=', '<', '>', '+', '-', '*', '/', '%', '&', '|', '(', ')', '[', ']', '{', '}', ',', ';', ':', '.']);

function isIdentStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}
function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || isDigit(c);
}
function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t',
};

/** Tokenizes `src`; throws `rego_parse_error` on a character or literal no Rego token can start with. */
export function tokenize(src: string, file: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let row = 1;
  let lineStart = 0;
  const n = src.length;
  const locAt = (off: number): Loc => ({ file, row, col: off - lineStart + 1 });
  const fail = (msg: string, off: number): never => {
    throw new RegoError('rego_parse_error', msg, locAt(off));
  };

  let space = false;
  let nl = false;
  while (i < n) {
    const c = src.charCodeAt(i);
    if (c === 0x0a) {
      i++;
      row++;
      lineStart = i;
      space = true;
      nl = true;
      continue;
    }
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0xfeff) {
      i++;
      space = true;
      continue;
    }
    if (c === 0x23 /* # */) {
      while (i < n && src.charCodeAt(i) !== 0x0a) i++;
      space = true;
      continue;
    }
    const start = i;
    const loc = locAt(start);
    const push = (kind: TokenKind, text: string): void => {
      tokens.push({ kind, text, loc, offset: start, space, nl });
      space = false;
      nl = false;
    };

    if (isIdentStart(c)) {
      while (i < n && isIdentPart(src.charCodeAt(i))) i++;
      const word = src.slice(start, i);
      push(KEYWORDS.has(word) ? 'keyword' : 'ident', word);
      continue;
    }
    if (isDigit(c)) {
      i = scanNumber(src, i, fail);
      const text = src.slice(start, i);
      if (text.length > 1 && text.startsWith('00')) fail(`invalid number literal ${text}`, start);
      push('number', text);
      continue;
    }
    if (c === 0x22 /* " */) {
      const r = scanString(src, i + 1, fail);
      i = r.end;
      push('string', r.value);
      continue;
    }
    if (c === 0x60 /* ` */) {
      const close = src.indexOf('`', i + 1);
      if (close < 0) fail('non-terminated raw string', start);
      const value = src.slice(i + 1, close);
      // A raw string may span lines; keep row/col tracking right for what follows.
      for (let k = i + 1; k < close; k++) {
        if (src.charCodeAt(k) === 0x0a) {
          row++;
          lineStart = k + 1;
        }
      }
      i = close + 1;
      push('rawstring', value);
      continue;
    }
    const two = src.slice(i, i + 2);
    if (PUNCT2.has(two)) {
      i += 2;
      push('punct', two);
      continue;
    }
    const one = src[i];
    if (PUNCT1.has(one)) {
      i += 1;
      push('punct', one);
      continue;
    }
    fail(`illegal token ${JSON.stringify(String.fromCodePoint(src.codePointAt(i) ?? c))}`, start);
  }
  tokens.push({ kind: 'eof', text: '', loc: locAt(n), offset: n, space, nl });
  return tokens;
}

// number = int [ "." digits ] [ ("e"|"E") ["+"|"-"] digits ]; a "." not followed by a digit ends it
// (so `1.x` lexes as 1 . x and the parser rejects the ref).
function scanNumber(src: string, i: number, fail: (m: string, o: number) => never): number {
  const n = src.length;
  while (i < n && isDigit(src.charCodeAt(i))) i++;
  if (src[i] === '.' && isDigit(src.charCodeAt(i + 1))) {
    i++;
    while (i < n && isDigit(src.charCodeAt(i))) i++;
  }
  if (src[i] === 'e' || src[i] === 'E') {
    let j = i + 1;
    if (src[j] === '+' || src[j] === '-') j++;
    if (!isDigit(src.charCodeAt(j))) fail('invalid number literal: exponent without digits', i);
    while (j < n && isDigit(src.charCodeAt(j))) j++;
    i = j;
  }
  return i;
}

// Scans a double-quoted string body starting after the opening quote; returns the decoded value and
// the offset after the closing quote. Lone UTF-16 surrogates decode to U+FFFD, as JSON decoders do.
function scanString(
  src: string,
  i: number,
  fail: (m: string, o: number) => never,
): { value: string; end: number } {
  const n = src.length;
  const start = i - 1;
  let out = '';
  let chunk = i;
  for (;;) {
    if (i >= n) fail('non-terminated string', start);
    const c = src.charCodeAt(i);
    if (c === 0x22) {
      out += src.slice(chunk, i);
      return { value: out, end: i + 1 };
    }
    if (c === 0x0a) fail('non-terminated string', start);
    if (c !== 0x5c /* \ */) {
      i++;
      continue;
    }
    out += src.slice(chunk, i);
    const e = src[i + 1];
    if (e === undefined) fail('non-terminated string', start);
    if (e in SIMPLE_ESCAPES) {
      out += SIMPLE_ESCAPES[e];
      i += 2;
    } else if (e === 'u') {
      const unit = readHex4(src, i + 2);
      if (unit < 0) fail('illegal escape sequence \\u (expected 4 hex digits)', i);
      i += 6;
      if (unit >= 0xd800 && unit <= 0xdbff) {
        const low = src[i] === '\\' && src[i + 1] === 'u' ? readHex4(src, i + 2) : -1;
        if (low >= 0xdc00 && low <= 0xdfff) {
          out += String.fromCharCode(unit, low);
          i += 6;
        } else {
          out += '\ufffd';
        }
      } else if (unit >= 0xdc00 && unit <= 0xdfff) {
        out += '\ufffd';
      } else {
        out += String.fromCharCode(unit);
      }
    } else {
      fail(`illegal escape sequence \\${e}`, i);
    }
    chunk = i;
  }
}

function readHex4(src: string, i: number): number {
  if (i + 4 > src.length) return -1;
  for (let k = i; k < i + 4; k++) if (!isHex(src.charCodeAt(k))) return -1;
  return parseInt(src.slice(i, i + 4), 16);
}
