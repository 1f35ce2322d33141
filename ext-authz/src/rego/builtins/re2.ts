// Go RE2 syntax (the regexp/syntax Perl flavour OPA uses) translated to a JavaScript `u` RegExp, with
// Go's parse errors ("error parsing regexp: missing closing ]: `[a-`"). Compiled patterns are cached.
import { BuiltinError } from '../errors';
import { PERL, POSIX, GENERAL_CATEGORIES, MAX_RUNE, complement, type Range } from './re2-classes';

export interface CompiledRe {
  /** Global (`g`) so callers can run Go's match loops with lastIndex; always reset it before use. */
  re: RegExp;
  /** Named groups (?P<name>...) -> group number, for `$name` in regex.replace. */
  names: Map<string, number>;
  groups: number;
}

const hex = (cp: number): string => `\\u{${cp.toString(16)}}`;
const renderRanges = (rs: Range[]): string => rs.map(([lo, hi]) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`)).join('');
const isWordChar = (c: string): boolean => /^[0-9A-Za-z_]$/.test(c);

/** Case variants of one code point (simple folding, as both engines use). */
function variants(cp: number): number[] {
  const ch = String.fromCodePoint(cp);
  const set = new Set([cp]);
  for (const m of [ch.toLowerCase(), ch.toUpperCase()]) if ([...m].length === 1) set.add(m.codePointAt(0)!);
  return [...set];
}

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  U: boolean;
}

class ParseError extends Error {}

function fail(code: string, expr: string): never {
  throw new ParseError(`error parsing regexp: ${code}: \`${expr}\``);
}

/** One pass of the translator; `fold` expands case-insensitive parts by hand (mixed (?i) use). */
class Translator {
  pos = 0;
  groups = 0;
  names = new Map<string, number>();
  sawFold = false;
  sawExact = false;

  constructor(private readonly src: string, private readonly fold: boolean) {}

  translate(): string {
    const out = this.seq({ i: false, m: false, s: false, U: false }, 0);
    if (this.pos < this.src.length) fail('unexpected )', this.src);
    return out;
  }

  private seq(flags: Flags, depth: number): string {
    const src = this.src;
    let out = '';
    let atom: { start: number; assertion: boolean } | undefined;
    let lastRepeat = -1;
    while (this.pos < src.length) {
      const c = src[this.pos];
      const start = out.length;
      if (c === '|') {
        out += '|';
        this.pos++;
        atom = undefined;
        lastRepeat = -1;
        continue;
      }
      if (c === ')') {
        if (depth === 0) fail('unexpected )', src);
        return out;
      }
      const rep = this.readRepeat();
      if (rep) {
        const [opStart, text, lazy] = rep;
        if (lastRepeat >= 0) fail('invalid nested repetition operator', src.slice(lastRepeat, this.pos));
        if (!atom) fail('missing argument to repetition operator', src.slice(opStart, this.pos));
        if (atom.assertion) out = out.slice(0, atom.start) + '(?:' + out.slice(atom.start) + ')';
        out += text + (lazy !== flags.U ? '?' : '');
        lastRepeat = opStart;
        continue;
      }
      lastRepeat = -1;
      let assertion = false;
      if (c === '(') {
        const piece = this.group(flags, depth);
        if (piece === undefined) {
          atom = undefined;
          continue;
        }
        out += piece;
      } else if (c === '[') {
        out += this.charClass(flags);
      } else if (c === '.') {
        this.pos++;
        out += flags.s ? '[^]' : '[^\\n]';
      } else if (c === '^' || c === '$') {
        this.pos++;
        assertion = true;
        // Without (?m), ^ and $ are \A and \z; JavaScript's are too, as we never set its `m` flag.
        out += flags.m ? (c === '^' ? '(?<![^\\n])' : '(?![^\\n])') : c;
      } else if (c === '\\') {
        const e = this.escape(flags, false);
        out += e.text;
        assertion = e.assertion;
      } else {
        const cp = src.codePointAt(this.pos)!;
        this.pos += cp > 0xffff ? 2 : 1;
        out += this.literal(cp, flags);
      }
      atom = { start, assertion };
    }
    if (depth > 0) fail('missing closing )', src);
    return out;
  }

  /** Reads `*`, `+`, `?` or a valid `{n,m}` (with an optional lazy `?`) at pos, if there is one. */
  private readRepeat(): [number, string, boolean] | undefined {
    const src = this.src;
    const opStart = this.pos;
    let text: string;
    const c = src[this.pos];
    if (c === '*' || c === '+' || c === '?') {
      text = c;
      this.pos++;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(this.pos));
      if (!m) return undefined;
      const lo = Number(m[1]);
      const hi = m[2] === undefined ? lo : m[3] === '' ? -1 : Number(m[3]);
      if (lo > 1000 || hi > 1000 || (hi >= 0 && hi < lo)) fail('invalid repeat count', m[0]);
      text = m[0];
      this.pos += m[0].length;
    } else return undefined;
    const lazy = src[this.pos] === '?';
    if (lazy) this.pos++;
    return [opStart, text, lazy];
  }

  /** A group at pos; returns undefined for a bare flag group like (?i), which changes `flags`. */
  private group(flags: Flags, depth: number): string | undefined {
    const src = this.src;
    const open = this.pos;
    this.pos++;
    let inner = flags;
    let head = '(';
    if (src[this.pos] === '?') {
      if (src.startsWith('?P<', this.pos)) {
        const end = src.indexOf('>', this.pos);
        const name = end < 0 ? '' : src.slice(this.pos + 3, end);
        if (end < 0 || !/^[A-Za-z0-9_]+$/.test(name) || this.names.has(name)) {
          fail('invalid named capture', src.slice(open, end < 0 ? src.length : end + 1));
        }
        this.names.set(name, ++this.groups);
        this.pos = end + 1;
      } else {
        const m = /^\?([imsU]*)(?:-([imsU]*))?([:)])/.exec(src.slice(this.pos));
        if (!m || (m[2] !== undefined && m[2] === '') || (m[1] === '' && m[2] === undefined && m[3] === ')')) {
          const bad = /^\?[imsU-]*/.exec(src.slice(this.pos))![0];
          fail('invalid or unsupported Perl syntax', src.slice(open, Math.min(src.length, this.pos + bad.length + 1)));
        }
        const next: Flags = { ...flags };
        for (const f of m[1]) next[f as keyof Flags] = true;
        for (const f of m[2] ?? '') next[f as keyof Flags] = false;
        this.pos += m[0].length;
        if (m[3] === ')') {
          Object.assign(flags, next);
          return undefined;
        }
        inner = next;
        head = '(?:';
      }
    } else {
      this.groups++;
    }
    const body = this.seq({ ...inner }, depth + 1);
    this.pos++; // the ')' (seq only returns at depth > 0 when it sees one)
    return head + body + ')';
  }

  private literal(cp: number, flags: Flags): string {
    const vs = variants(cp);
    if (vs.length > 1) {
      if (flags.i) this.sawFold = true;
      else this.sawExact = true;
      if (flags.i && this.fold) return '[' + vs.map(hex).join('') + ']';
    }
    const ch = String.fromCodePoint(cp);
    return isWordChar(ch) ? ch : hex(cp);
  }

  private charClass(flags: Flags): string {
    const src = this.src;
    const open = this.pos;
    this.pos++;
    const negate = src[this.pos] === '^';
    if (negate) this.pos++;
    let parts = '';
    const ranges: Range[] = [];
    let first = true;
    for (;;) {
      if (this.pos >= src.length) fail('missing closing ]', src.slice(open));
      const c = src[this.pos];
      if (c === ']' && !first) break;
      first = false;
      if (src.startsWith('[:', this.pos)) {
        const end = src.indexOf(':]', this.pos + 2);
        if (end >= 0) {
          const raw = src.slice(this.pos, end + 2);
          let name = src.slice(this.pos + 2, end);
          const neg = name.startsWith('^');
          if (neg) name = name.slice(1);
          const rs = POSIX[name];
          if (!rs) fail('invalid character class range', raw);
          ranges.push(...(neg ? complement(rs) : rs));
          this.pos = end + 2;
          continue;
        }
      }
      let lo: number;
      if (c === '\\') {
        const e = this.escape(flags, true);
        if (e.cp === undefined) {
          parts += e.text;
          continue;
        }
        lo = e.cp;
      } else {
        lo = src.codePointAt(this.pos)!;
        this.pos += lo > 0xffff ? 2 : 1;
      }
      let hi = lo;
      if (src[this.pos] === '-' && this.pos + 1 < src.length && src[this.pos + 1] !== ']') {
        const dash = this.pos;
        this.pos++;
        if (src[this.pos] === '\\') {
          const e = this.escape(flags, true);
          if (e.cp === undefined) fail('invalid character class range', src.slice(dash - 1, this.pos));
          hi = e.cp;
        } else {
          hi = src.codePointAt(this.pos)!;
          this.pos += hi > 0xffff ? 2 : 1;
        }
        if (hi < lo) fail('invalid character class range', src.slice(dash - 1, this.pos));
      }
      ranges.push([lo, hi]);
    }
    this.pos++;
    if (flags.i) {
      this.sawFold = true;
      if (this.fold) {
        // Hand folding: add the case variants of small ranges (large ones are kept as written).
        for (const [lo, hi] of [...ranges]) {
          if (hi - lo > 512) continue;
          for (let cp = lo; cp <= hi; cp++) for (const v of variants(cp)) if (v !== cp) ranges.push([v, v]);
        }
      }
    } else if (ranges.some(([lo, hi]) => hi - lo > 0 || variants(lo).length > 1)) this.sawExact = true;
    return '[' + (negate ? '^' : '') + renderRanges(ranges) + parts + ']';
  }

  /** An escape at pos: outside classes it may be an assertion; `cp` is set for a single character. */
  private escape(flags: Flags, inClass: boolean): { text: string; cp?: number; assertion: boolean } {
    const src = this.src;
    const start = this.pos;
    this.pos++;
    if (this.pos >= src.length) fail('trailing backslash at end of expression', '');
    const c = src[this.pos++];
    const single = (cp: number) => ({ text: inClass ? hex(cp) : this.literal(cp, flags), cp, assertion: false });
    const cls = (rs: Range[]) => ({ text: inClass ? renderRanges(rs) : '[' + renderRanges(rs) + ']', assertion: false });
    switch (c) {
      case 'd': case 's': case 'w':
        return cls(PERL[c]);
      case 'D': case 'S': case 'W':
        return cls(complement(PERL[c.toLowerCase()]));
      case 'p': case 'P': {
        let name: string;
        if (src[this.pos] === '{') {
          const end = src.indexOf('}', this.pos);
          if (end < 0) fail('invalid character class range', src.slice(start));
          name = src.slice(this.pos + 1, end);
          this.pos = end + 1;
        } else {
          if (this.pos >= src.length) fail('invalid character class range', src.slice(start));
          name = src[this.pos++];
        }
        let neg = c === 'P';
        if (name.startsWith('^')) {
          neg = !neg;
          name = name.slice(1);
        }
        const prop = name === 'Any' ? 'Any' : GENERAL_CATEGORIES.has(name) ? name : `Script=${name}`;
        const text = `\\${neg ? 'P' : 'p'}{${prop}}`;
        try {
          new RegExp(text, 'u');
        } catch {
          fail('invalid character class range', src.slice(start, this.pos));
        }
        return { text, assertion: false };
      }
      case 'a': return single(7);
      case 'f': return single(12);
      case 't': return single(9);
      case 'n': return single(10);
      case 'r': return single(13);
      case 'v': return single(11);
      case 'x': {
        const m = /^\{([0-9A-Fa-f]+)\}|^[0-9A-Fa-f]{2}/.exec(src.slice(this.pos));
        const cp = m ? parseInt(m[1] ?? m[0], 16) : NaN;
        if (!m || cp > MAX_RUNE) fail('invalid escape sequence', src.slice(start, this.pos + (m ? m[0].length : 0)));
        this.pos += m[0].length;
        return single(cp);
      }
      case 'Q': {
        const end = src.indexOf('\\E', this.pos);
        const lit = src.slice(this.pos, end < 0 ? src.length : end);
        this.pos = end < 0 ? src.length : end + 2;
        if (inClass) fail('invalid escape sequence', '\\Q');
        return { text: [...lit].map((ch) => this.literal(ch.codePointAt(0)!, flags)).join(''), assertion: false };
      }
    }
    if (!inClass) {
      if (c === 'A') return { text: '^', assertion: true };
      if (c === 'z') return { text: '$', assertion: true };
      if (c === 'b' || c === 'B') return { text: '\\' + c, assertion: true };
      if (c === 'C') return { text: '[^]', assertion: false };
    }
    if (c >= '0' && c <= '7') {
      // \1-\7 alone would be a backreference, which RE2 does not support; \0, \12, \123 are octal.
      const m = /^[0-7]{0,2}/.exec(src.slice(this.pos))![0];
      if (c !== '0' && m === '') fail('invalid escape sequence', src.slice(start, this.pos));
      this.pos += m.length;
      return single(parseInt(c + m, 8));
    }
    const cp = c.codePointAt(0)!;
    if (cp < 0x80 && !/[0-9A-Za-z]/.test(c)) return single(cp);
    fail('invalid escape sequence', src.slice(start, this.pos));
  }
}

const cache = new Map<string, CompiledRe | string>();
const CACHE_LIMIT = 500;

/** Compiles an RE2 pattern; throws the Go parse message (without builtin name) as a ParseError. */
function compileUncached(pattern: string): CompiledRe {
  let t = new Translator(pattern, false);
  let body = t.translate();
  let flags = 'gu';
  if (t.sawFold && t.sawExact) {
    t = new Translator(pattern, true);
    body = t.translate();
  } else if (t.sawFold) flags += 'i';
  let re: RegExp;
  try {
    re = new RegExp(body, flags);
  } catch {
    fail('invalid or unsupported Perl syntax', pattern);
  }
  return { re, names: t.names, groups: t.groups };
}

/** A cached compiled pattern, or a BuiltinError "<builtin>: error parsing regexp: ...". */
export function compileRe2(builtin: string, pattern: string): CompiledRe {
  let hit = cache.get(pattern);
  if (hit === undefined) {
    try {
      hit = compileUncached(pattern);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      hit = e.message;
    }
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(pattern, hit);
  }
  if (typeof hit === 'string') throw new BuiltinError(`${builtin}: ${hit}`);
  return hit;
}

/** regexp.QuoteMeta: escapes every RE2 metacharacter. */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}
