// Go `fmt` formatting as OPA's sprintf exposes it: Rego numbers become Go int / *big.Int / float64,
// strings stay strings, every other value becomes its Rego text (so `%t` of true is `%!t(string=true)`).
import { goQuote, regoText } from './go-text';
import type { Value } from '../value';

/** A Rego operand as the Go value OPA hands to fmt.Sprintf. */
type GoArg =
  | { kind: 'int'; v: bigint }
  | { kind: 'bigint'; v: bigint }
  | { kind: 'float64'; v: number }
  | { kind: 'string'; v: string };

const INT64_LIMIT = 2n ** 63n;

function toGoArg(v: Value): GoArg {
  if (typeof v === 'number') {
    // Integers OPA would hold as int64 or big.Int; huge ones (1e300) only exist as floats there.
    if (Number.isInteger(v) && Math.abs(v) < 1e21) {
      const b = BigInt(v);
      return b < INT64_LIMIT && b >= -INT64_LIMIT ? { kind: 'int', v: b } : { kind: 'bigint', v: b };
    }
    return { kind: 'float64', v };
  }
  if (typeof v === 'string') return { kind: 'string', v };
  return { kind: 'string', v: regoText(v) };
}

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width: number | undefined;
  prec: number | undefined;
}

/** fmt.Sprintf(format, args...) for the verbs OPA policies use. */
export function goSprintf(format: string, values: readonly Value[]): string {
  const args = values.map(toGoArg);
  let out = '';
  let argi = 0;
  let reordered = false;
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const spec: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false, width: undefined, prec: undefined };
    for (; i < format.length; i++) {
      const c = format[i];
      if (c === '-') spec.minus = true;
      else if (c === '+') spec.plus = true;
      else if (c === '#') spec.sharp = true;
      else if (c === ' ') spec.space = true;
      else if (c === '0') spec.zero = true;
      else break;
    }
    // Explicit argument index (%[2]s): later verbs continue from there; EXTRA is then not reported.
    const idx = /^\[(\d+)\]/.exec(format.slice(i, i + 12));
    if (idx) {
      reordered = true;
      i += idx[0].length;
      const n = Number(idx[1]);
      if (n < 1 || n > args.length) {
        const v = format.codePointAt(i);
        i += v === undefined ? 0 : v > 0xffff ? 2 : 1;
        out += `%!${v === undefined ? '' : String.fromCodePoint(v)}(BADINDEX)`;
        continue;
      }
      argi = n - 1;
    }
    [spec.width, i] = readNum(format, i);
    if (format[i] === '.') {
      [spec.prec, i] = readNum(format, i + 1);
      spec.prec ??= 0;
    }
    if (i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += formatArg(args[argi++], verb, spec);
  }
  if (!reordered && argi < args.length) {
    out += '%!(EXTRA ' + args.slice(argi).map((a) => `${goType(a)}=${plainV(a)}`).join(', ') + ')';
  }
  return out;
}

function readNum(s: string, i: number): [number | undefined, number] {
  let j = i;
  while (j < s.length && s[j] >= '0' && s[j] <= '9') j++;
  return j === i ? [undefined, i] : [Number(s.slice(i, j)), j];
}

function goType(a: GoArg): string {
  return a.kind === 'bigint' ? '*big.Int' : a.kind;
}

/** The `%v` text of an operand, as used inside `%!verb(type=value)`. */
function plainV(a: GoArg): string {
  switch (a.kind) {
    case 'int':
    case 'bigint':
      return a.v.toString();
    case 'float64':
      return formatFloat(a.v, 'g', undefined);
    case 'string':
      return a.v;
  }
}

function badVerb(a: GoArg, verb: string): string {
  if (a.kind === 'bigint') return `%!${verb}(big.Int=${a.v.toString()})`;
  return `%!${verb}(${goType(a)}=${plainV(a)})`;
}

function formatArg(a: GoArg, verb: string, spec: Spec): string {
  if (verb === 'T') return pad('', goType(a), spec, false);
  switch (a.kind) {
    case 'int':
    case 'bigint':
      return formatInt(a, verb, spec);
    case 'float64':
      return formatFloatVerb(a.v, verb, spec) ?? badVerb(a, verb);
    case 'string':
      return formatString(a, verb, spec);
  }
}

/** Pads `body` (whose sign, if any, is `sign`) to the width; zero padding goes after the sign. */
function pad(sign: string, body: string, spec: Spec, allowZero = true): string {
  const len = [...sign].length + [...body].length;
  const w = spec.width ?? 0;
  if (len >= w) return sign + body;
  const fill = w - len;
  if (spec.minus) return sign + body + ' '.repeat(fill);
  if (spec.zero && allowZero) return sign + '0'.repeat(fill) + body;
  return ' '.repeat(fill) + sign + body;
}

function signOf(neg: boolean, spec: Spec): string {
  return neg ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
}

function formatInt(a: GoArg & { v: bigint }, verb: string, spec: Spec): string {
  const neg = a.v < 0n;
  const abs = neg ? -a.v : a.v;
  let digits: string;
  let prefix = '';
  switch (verb) {
    case 'v':
    case 'd':
      digits = abs.toString(10);
      break;
    case 's':
      if (a.kind !== 'bigint') return badVerb(a, verb);
      digits = abs.toString(10);
      break;
    case 'b':
      digits = abs.toString(2);
      if (spec.sharp) prefix = '0b';
      break;
    case 'o':
      digits = abs.toString(8);
      if (spec.sharp) prefix = '0';
      break;
    case 'O':
      digits = abs.toString(8);
      prefix = '0o';
      break;
    case 'x':
      digits = abs.toString(16);
      if (spec.sharp) prefix = '0x';
      break;
    case 'X':
      digits = abs.toString(16).toUpperCase();
      if (spec.sharp) prefix = '0X';
      break;
    case 'c':
      return a.kind === 'int' ? pad('', safeChar(a.v), spec, false) : badVerb(a, verb);
    case 'q':
      return a.kind === 'int' ? pad('', "'" + goQuote(safeChar(a.v)).slice(1, -1).replace(/'/g, "\\'") + "'", spec, false) : badVerb(a, verb);
    case 'U':
      if (a.kind !== 'int') return badVerb(a, verb);
      return pad(neg ? '-' : '', 'U+' + abs.toString(16).toUpperCase().padStart(4, '0'), spec, false);
    default:
      return badVerb(a, verb);
  }
  if (spec.prec !== undefined) {
    // An explicit precision is the minimum number of digits; `%.0d` of 0 prints nothing.
    if (spec.prec === 0 && abs === 0n) digits = '';
    digits = digits.padStart(spec.prec, '0');
    return pad(signOf(neg, spec) + prefix, digits, spec, false);
  }
  return pad(signOf(neg, spec) + prefix, digits, spec);
}

function safeChar(cp: bigint): string {
  const n = Number(cp);
  return n >= 0 && n <= 0x10ffff && !(n >= 0xd800 && n <= 0xdfff) ? String.fromCodePoint(n) : '\ufffd';
}

function formatFloatVerb(x: number, verb: string, spec: Spec): string | undefined {
  let body: string;
  switch (verb) {
    case 'v':
    case 'g':
    case 'G':
    case 'e':
    case 'E':
    case 'f':
    case 'F': {
      const base = verb === 'v' ? 'g' : (verb.toLowerCase() as 'g' | 'e' | 'f');
      // Go: %e and %f default to precision 6; %g and %v use the shortest exact representation.
      body = formatFloat(Math.abs(x), base, spec.prec ?? (base === 'g' ? undefined : 6));
      if (verb === 'G' || verb === 'E') body = body.toUpperCase();
      break;
    }
    default:
      return undefined;
  }
  return pad(signOf(x < 0 || Object.is(x, -0), spec), body, spec);
}

/** strconv.FormatFloat(x, fmt, prec) for x >= 0 (prec undefined = shortest round-trip digits). */
export function formatFloat(x: number, fmt: 'e' | 'f' | 'g', prec: number | undefined): string {
  if (fmt === 'g') {
    let d: Decimal;
    let p: number;
    if (prec === undefined) {
      d = shortestDecimal(x);
      p = d.digits.length;
    } else {
      p = prec === 0 ? 1 : prec;
      d = roundDecimal(exactDecimal(x), p);
    }
    const nd = d.digits.length;
    // Go: %e is used when the exponent is < -4 or >= the precision (6 when shortest).
    let eprec = p;
    if (eprec > nd && nd >= d.dp) eprec = nd;
    if (prec === undefined) eprec = 6;
    const exp = d.dp - 1;
    if (exp < -4 || exp >= eprec) return fmtE(d, Math.min(p, nd) - 1);
    return fmtF(d, Math.max((p > d.dp ? nd : p) - d.dp, 0));
  }
  if (prec === undefined) {
    const d = shortestDecimal(x);
    return fmt === 'e' ? fmtE(d, Math.max(d.digits.length - 1, 0)) : fmtF(d, Math.max(d.digits.length - d.dp, 0));
  }
  const ex = exactDecimal(x);
  if (fmt === 'e') return fmtE(roundDecimal(ex, prec + 1), prec);
  return fmtF(roundDecimal(ex, ex.dp + prec), prec);
}

/** Digits d1 d2 ... with the decimal point after `dp` digits; no leading or trailing zeros. */
interface Decimal {
  digits: string;
  dp: number;
}

function trimZeros(digits: string, dp: number): Decimal {
  let end = digits.length;
  while (end > 0 && digits[end - 1] === '0') end--;
  let start = 0;
  while (start < end && digits[start] === '0') start++;
  if (start === end) return { digits: '', dp: 0 };
  return { digits: digits.slice(start, end), dp: dp - start };
}

function shortestDecimal(x: number): Decimal {
  if (x === 0) return { digits: '', dp: 0 };
  const [m, e] = x.toExponential().split('e');
  return trimZeros(m.replace('.', ''), Number(e) + 1);
}

/** The exact decimal expansion of a finite double (every binary fraction has one). */
function exactDecimal(x: number): Decimal {
  if (x === 0) return { digits: '', dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const bexp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (bexp === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = bexp - 1075;
  }
  if (e >= 0) {
    const s = (mant << BigInt(e)).toString();
    return trimZeros(s, s.length);
  }
  const s = (mant * 5n ** BigInt(-e)).toString();
  return trimZeros(s, s.length + e);
}

/** Rounds to `n` significant digits, half to even (as strconv does on exact decimals). */
function roundDecimal(d: Decimal, n: number): Decimal {
  if (n >= d.digits.length) return d;
  if (n < 0) return { digits: '', dp: 0 };
  const next = d.digits.charCodeAt(n) - 48;
  const rest = d.digits.slice(n + 1);
  let up = next > 5 || (next === 5 && /[1-9]/.test(rest));
  if (next === 5 && !/[1-9]/.test(rest)) up = n > 0 && (d.digits.charCodeAt(n - 1) - 48) % 2 === 1;
  let kept = d.digits.slice(0, n);
  if (!up) return trimZeros(kept, d.dp);
  let j = kept.length - 1;
  while (j >= 0 && kept[j] === '9') j--;
  if (j < 0) return { digits: '1', dp: d.dp + 1 };
  kept = kept.slice(0, j) + String.fromCharCode(kept.charCodeAt(j) + 1);
  return trimZeros(kept, d.dp);
}

function fmtE(d: Decimal, prec: number): string {
  let s = d.digits.length > 0 ? d.digits[0] : '0';
  if (prec > 0) s += '.' + d.digits.slice(1, prec + 1).padEnd(prec, '0');
  const exp = d.digits.length === 0 ? 0 : d.dp - 1;
  const ae = Math.abs(exp);
  return s + 'e' + (exp < 0 ? '-' : '+') + (ae < 10 ? '0' + ae : String(ae));
}

function fmtF(d: Decimal, prec: number): string {
  let s = d.dp > 0 ? d.digits.slice(0, d.dp).padEnd(d.dp, '0') : '0';
  if (prec > 0) {
    let frac = '';
    for (let k = 0; k < prec; k++) {
      const idx = d.dp + k;
      frac += idx >= 0 && idx < d.digits.length ? d.digits[idx] : '0';
    }
    s += '.' + frac;
  }
  return s;
}

function formatString(a: GoArg & { v: string }, verb: string, spec: Spec): string {
  let s = a.v;
  switch (verb) {
    case 'v':
    case 's':
      if (spec.prec !== undefined) s = [...s].slice(0, spec.prec).join('');
      return pad('', s, spec);
    case 'q':
      if (spec.prec !== undefined) s = [...s].slice(0, spec.prec).join('');
      return pad('', goQuote(s), spec, false);
    case 'x':
    case 'X': {
      const hex = Buffer.from(s, 'utf8').toString('hex');
      return pad('', verb === 'X' ? hex.toUpperCase() : hex, spec);
    }
    default:
      return badVerb(a, verb);
  }
}
