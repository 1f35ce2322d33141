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
  const n = src.length;
  let i = 0;
  let row = 1;
  let lineStart = 0;
  let space = false;
  let nl = false;
  // No closures are created per token: tsx's keepNames wrapping makes that measurably slow.
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
    const loc: Loc = { file, row, col: start - lineStart + 1 };
    let kind: TokenKind;
    let text: string;
    if (isIdentStart(c)) {
      i++;
      while (i < n && isIdentPart(src.charCodeAt(i))) i++;
      text = src.slice(start, i);
      kind = KEYWORDS.has(text) ? 'keyword' : 'ident';
    } else if (isDigit(c)) {
      i = scanNumber(src, i, loc);
      text = src.slice(start, i);
      if (text.length > 1 && text.startsWith('00')) lexError(`invalid number literal ${text}`, loc);
      kind = 'number';
    } else if (c === 0x22 /* " */) {
      const r = scanString(src, i + 1, loc);
      i = r.end;
      text = r.value;
      kind = 'string';
    } else if (c === 0x60 /* ` */) {
      const close = src.indexOf('`', i + 1);
      if (close < 0) lexError('non-terminated raw string', loc);
      text = src.slice(i + 1, close);
      // A raw string may span lines; keep row/col tracking right for what follows.
      for (let k = i + 1; k < close; k++) {
        if (src.charCodeAt(k) === 0x0a) {
          row++;
          lineStart = k + 1;
        }
      }
      i = close + 1;
      kind = 'rawstring';
    } else {
      const two = src.slice(i, i + 2);
      if (PUNCT2.has(two)) {
        text = two;
      } else if (PUNCT1.has(src[i])) {
        text = src[i];
      } else {
        const ch = String.fromCodePoint(src.codePointAt(i) ?? c);
        return lexError(`illegal token ${JSON.stringify(ch)}`, loc);
      }
      i += text.length;
      kind = 'punct';
    }
    tokens.push({ kind, text, loc, offset: start, space, nl });
    space = false;
    nl = false;
  }
  tokens.push({ kind: 'eof', text: '', loc: { file, row, col: n - lineStart + 1 }, offset: n, space, nl });
  return tokens;
}

function lexError(message: string, loc: Loc): never {
  throw new RegoError('rego_parse_error', message, loc);
}

/** Location `delta` characters after `loc` on the same line (for errors inside a literal). */
function shift(loc: Loc, delta: number): Loc {
  return { file: loc.file, row: loc.row, col: loc.col + delta };
}

// number = int [ "." digits ] [ ("e"|"E") ["+"|"-"] digits ]; a "." not followed by a digit ends it
// (so `1.x` lexes as 1 . x and the parser rejects the ref).
function scanNumber(src: string, i: number, loc: Loc): number {
  const n = src.length;
  const from = i;
  while (i < n && isDigit(src.charCodeAt(i))) i++;
  if (src[i] === '.' && isDigit(src.charCodeAt(i + 1))) {
    i++;
    while (i < n && isDigit(src.charCodeAt(i))) i++;
  }
  if (src[i] === 'e' || src[i] === 'E') {
    let j = i + 1;
    if (src[j] === '+' || src[j] === '-') j++;
    if (!isDigit(src.charCodeAt(j))) lexError('invalid number literal: exponent without digits', shift(loc, i - from));
    while (j < n && isDigit(src.charCodeAt(j))) j++;
    i = j;
  }
  return i;
}

// Scans a double-quoted string body starting after the opening quote; returns the decoded value and
// the offset after the closing quote. Lone UTF-16 surrogates decode to U+FFFD, as JSON decoders do.
function scanString(src: string, i: number, loc: Loc): { value: string; end: number } {
  const n = src.length;
  const from = i - 1;
  let out = '';
  let chunk = i;
  for (;;) {
    if (i >= n) lexError('non-terminated string', loc);
    const c = src.charCodeAt(i);
    if (c === 0x22) {
      out += src.slice(chunk, i);
      return { value: out, end: i + 1 };
    }
    if (c === 0x0a) lexError('non-terminated string', loc);
    if (c !== 0x5c /* \ */) {
      i++;
      continue;
    }
    out += src.slice(chunk, i);
    const e = src[i + 1];
    if (e === undefined) lexError('non-terminated string', loc);
    if (Object.hasOwn(SIMPLE_ESCAPES, e)) {
      out += SIMPLE_ESCAPES[e];
      i += 2;
    } else if (e === 'u') {
      const unit = readHex4(src, i + 2);
      if (unit < 0) lexError('illegal escape sequence \\u (expected 4 hex digits)', shift(loc, i - from));
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
      lexError(`illegal escape sequence \\${e}`, shift(loc, i - from));
    }
    chunk = i;
  }
}

function readHex4(src: string, i: number): number {
  if (i + 4 > src.length) return -1;
  for (let k = i; k < i + 4; k++) if (!isHex(src.charCodeAt(k))) return -1;
  return parseInt(src.slice(i, i + 4), 16);
}
