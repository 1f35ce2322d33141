// Go reference-time layouts ("2006-01-02T15:04:05Z07:00") for time.parse_ns / time.format: the
// chunk tokenizer, a formatter and a parser that mirror Go's time package, error texts included.
import { civilFromDays, daysFromCivil, daysIn, zoneInfo, type Instant } from './go-time-zone';

export const RFC3339 = '2006-01-02T15:04:05Z07:00';
export const RFC3339_NANO = '2006-01-02T15:04:05.999999999Z07:00';

/** Go's named layout constants, which OPA's time.format also accepts by name. */
export const NAMED_LAYOUTS: ReadonlyMap<string, string> = new Map([
  ['ANSIC', 'Mon Jan _2 15:04:05 2006'],
  ['UnixDate', 'Mon Jan _2 15:04:05 MST 2006'],
  ['RubyDate', 'Mon Jan 02 15:04:05 -0700 2006'],
  ['RFC822', '02 Jan 06 15:04 MST'],
  ['RFC822Z', '02 Jan 06 15:04 -0700'],
  ['RFC850', 'Monday, 02-Jan-06 15:04:05 MST'],
  ['RFC1123', 'Mon, 02 Jan 2006 15:04:05 MST'],
  ['RFC1123Z', 'Mon, 02 Jan 2006 15:04:05 -0700'],
  ['RFC3339', RFC3339],
  ['RFC3339Nano', RFC3339_NANO],
  ['Kitchen', '3:04PM'],
  ['Stamp', 'Jan _2 15:04:05'],
  ['StampMilli', 'Jan _2 15:04:05.000'],
  ['StampMicro', 'Jan _2 15:04:05.000000'],
  ['StampNano', 'Jan _2 15:04:05.000000000'],
  ['DateTime', '2006-01-02 15:04:05'],
  ['DateOnly', '2006-01-02'],
  ['TimeOnly', '15:04:05'],
]);

export const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const LONG_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
  'October', 'November', 'December'];
const short = (xs: string[]): string[] => xs.map((x) => x.slice(0, 3));

/** One layout element; `frac` carries the digit count of `.000` / `.999` elements. */
type Std =
  | 'Jan' | 'January' | '1' | '01' | 'Mon' | 'Monday' | '2' | '_2' | '02' | '__2' | '002' | '15' | '3' | '03'
  | '4' | '04' | '5' | '05' | '2006' | '06' | 'PM' | 'pm' | 'MST'
  | 'Z0700' | 'Z070000' | 'Z07' | 'Z07:00' | 'Z07:00:00' | '-0700' | '-070000' | '-07' | '-07:00' | '-07:00:00'
  | 'frac0' | 'frac9';
interface Chunk { prefix: string; std: Std | undefined; text: string; frac: number; suffix: string }

const isLower = (s: string, i: number): boolean => i < s.length && s[i] >= 'a' && s[i] <= 'z';
const isDigitAt = (s: string, i: number): boolean => i < s.length && s[i] >= '0' && s[i] <= '9';

/** Splits off the text before the first layout element, the element, and the rest (Go's nextStdChunk). */
function nextChunk(layout: string): Chunk {
  const mk = (i: number, len: number, std: Std, frac = 0): Chunk => ({
    prefix: layout.slice(0, i), std, text: layout.slice(i, i + len), frac, suffix: layout.slice(i + len),
  });
  for (let i = 0; i < layout.length; i++) {
    const rest = layout.slice(i);
    switch (layout[i]) {
      case 'J':
        if (rest.startsWith('January')) return mk(i, 7, 'January');
        if (rest.startsWith('Jan') && !isLower(layout, i + 3)) return mk(i, 3, 'Jan');
        break;
      case 'M':
        if (rest.startsWith('Monday')) return mk(i, 6, 'Monday');
        if (rest.startsWith('Mon') && !isLower(layout, i + 3)) return mk(i, 3, 'Mon');
        if (rest.startsWith('MST')) return mk(i, 3, 'MST');
        break;
      case '0':
        if (rest.startsWith('002')) return mk(i, 3, '002');
        if (layout[i + 1] >= '1' && layout[i + 1] <= '6') return mk(i, 2, rest.slice(0, 2) as Std);
        break;
      case '1':
        return rest.startsWith('15') ? mk(i, 2, '15') : mk(i, 1, '1');
      case '2':
        return rest.startsWith('2006') ? mk(i, 4, '2006') : mk(i, 1, '2');
      case '_':
        if (layout[i + 1] === '2') {
          // `_2006` is a literal underscore followed by the long year.
          if (layout.slice(i + 1, i + 5) === '2006') return mk(i + 1, 4, '2006');
          return mk(i, 2, '_2');
        }
        if (rest.startsWith('__2')) return mk(i, 3, '__2');
        break;
      case '3': case '4': case '5':
        return mk(i, 1, layout[i] as Std);
      case 'P':
        if (layout[i + 1] === 'M') return mk(i, 2, 'PM');
        break;
      case 'p':
        if (layout[i + 1] === 'm') return mk(i, 2, 'pm');
        break;
      case '-': case 'Z': {
        const z = layout[i];
        for (const tail of ['07:00:00', '070000', '0700', '07:00', '07']) {
          if (rest.startsWith(z + tail)) return mk(i, 1 + tail.length, (z + tail) as Std);
        }
        break;
      }
      case '.': case ',': {
        const ch = layout[i + 1];
        if (ch === '0' || ch === '9') {
          let j = i + 1;
          while (j < layout.length && layout[j] === ch) j++;
          if (!isDigitAt(layout, j)) return mk(i, j - i, ch === '0' ? 'frac0' : 'frac9', j - i - 1);
        }
        break;
      }
    }
  }
  return { prefix: layout, std: undefined, text: '', frac: 0, suffix: '' };
}

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

/** Formats an instant (already shifted into its zone by `zoneInfo`) with a Go layout. */
export function formatLayout(t: Instant, tz: string, layout: string): string {
  const z = zoneInfo(tz, t.sec);
  const local = t.sec + z.offset;
  const days = Math.floor(local / 86400);
  const secOfDay = local - days * 86400;
  const [year, month, day] = civilFromDays(days);
  const hour = Math.floor(secOfDay / 3600);
  const min = Math.floor((secOfDay % 3600) / 60);
  const sec = secOfDay % 60;
  const wday = (((days + 4) % 7) + 7) % 7;
  const yday = days - daysFromCivil(year, 1, 1) + 1;
  let out = '';
  for (let rest = layout; rest !== '';) {
    const c = nextChunk(rest);
    out += c.prefix;
    if (c.std === undefined) break;
    rest = c.suffix;
    switch (c.std) {
      case '2006': out += year < 0 ? '-' + pad(-year, 4) : pad(year, 4); break;
      case '06': out += pad(((year % 100) + 100) % 100, 2); break;
      case 'Jan': out += LONG_MONTHS[month - 1].slice(0, 3); break;
      case 'January': out += LONG_MONTHS[month - 1]; break;
      case '1': out += month; break;
      case '01': out += pad(month, 2); break;
      case 'Mon': out += LONG_DAYS[wday].slice(0, 3); break;
      case 'Monday': out += LONG_DAYS[wday]; break;
      case '2': out += day; break;
      case '_2': out += day < 10 ? ' ' + day : String(day); break;
      case '02': out += pad(day, 2); break;
      case '__2': out += String(yday).padStart(3, ' '); break;
      case '002': out += pad(yday, 3); break;
      case '15': out += pad(hour, 2); break;
      case '3': out += hour % 12 === 0 ? 12 : hour % 12; break;
      case '03': out += pad(hour % 12 === 0 ? 12 : hour % 12, 2); break;
      case '4': out += min; break;
      case '04': out += pad(min, 2); break;
      case '5': out += sec; break;
      case '05': out += pad(sec, 2); break;
      case 'PM': out += hour >= 12 ? 'PM' : 'AM'; break;
      case 'pm': out += hour >= 12 ? 'pm' : 'am'; break;
      case 'MST': out += z.abbr !== '' ? z.abbr : numericZone(z.offset, false, false, false); break;
      case 'frac0': case 'frac9': {
        let digits = pad(t.nsec, 9).slice(0, c.frac);
        if (c.std === 'frac9') {
          // `.999` drops trailing zeros, and the separator too when nothing is left.
          digits = digits.replace(/0+$/, '');
          if (digits === '') break;
        }
        out += c.text[0] + digits;
        break;
      }
      default: {
        // Numeric zones; the Z forms print `Z` for UTC.
        if (c.std[0] === 'Z' && z.offset === 0) {
          out += 'Z';
          break;
        }
        const tail = c.std.slice(1);
        out += numericZone(z.offset, tail.includes(':'), tail.length >= 6, tail === '07');
      }
    }
  }
  return out;
}

function numericZone(offset: number, colon: boolean, seconds: boolean, hoursOnly: boolean): string {
  const sign = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  const h = pad(Math.floor(a / 3600), 2);
  const m = pad(Math.floor((a % 3600) / 60), 2);
  const s = pad(a % 60, 2);
  if (hoursOnly) return sign + h;
  const sep = colon ? ':' : '';
  return sign + h + sep + m + (seconds ? sep + s : '');
}

/** A Go ParseError, already rendered as Go renders it. */
export class LayoutParseError extends Error {}

const goQuote = (s: string): string => JSON.stringify(s);

/** Parses `value` with a Go layout into an instant (Go's time.Parse with UTC as the default zone). */
export function parseLayout(layout: string, value: string): Instant {
  const fail = (valueElem: string, layoutElem: string): LayoutParseError =>
    new LayoutParseError(`parsing time ${goQuote(value)} as ${goQuote(layout)}: cannot parse ${goQuote(valueElem)} as ${goQuote(layoutElem)}`);
  const failMsg = (msg: string): LayoutParseError => new LayoutParseError(`parsing time ${goQuote(value)}${msg}`);
  let year = 0, month = -1, day = -1, yday = -1, hour = 0, min = 0, sec = 0, nsec = 0;
  let zoneOffset: number | undefined;
  let pm = false, am = false;
  let rest = layout;
  let v = value;
  for (;;) {
    const c = nextChunk(rest);
    const skipped = skipPrefix(v, c.prefix);
    if (skipped === undefined) throw fail(v, c.prefix);
    v = skipped;
    if (c.std === undefined) {
      if (v.length !== 0) throw failMsg(`: extra text: ${goQuote(v)}`);
      break;
    }
    rest = c.suffix;
    let bad = false;
    let range = '';
    const num = (fixed: boolean): number => {
      const r = getnum(v, fixed);
      if (r === undefined) { bad = true; return 0; }
      v = v.slice(r[1]);
      return r[0];
    };
    switch (c.std) {
      case '06': {
        if (v.length < 2) { bad = true; break; }
        const p = v.slice(0, 2);
        v = v.slice(2);
        const n = goAtoi(p);
        if (n === undefined) bad = true;
        else year = n >= 69 ? n + 1900 : n + 2000;
        break;
      }
      case '2006': {
        if (v.length < 4 || !isDigitAt(v, 0)) { bad = true; break; }
        const p = v.slice(0, 4);
        v = v.slice(4); // Go reports the error against what follows the four bytes.
        const n = goAtoi(p);
        if (n === undefined) bad = true;
        else year = n;
        break;
      }
      case 'Jan': case 'January': case 'Mon': case 'Monday': {
        const tab = c.std === 'Jan' ? short(LONG_MONTHS) : c.std === 'January' ? LONG_MONTHS
          : c.std === 'Mon' ? short(LONG_DAYS) : LONG_DAYS;
        const i = tab.findIndex((x) => v.slice(0, x.length).toLowerCase() === x.toLowerCase());
        if (i < 0) { bad = true; break; }
        v = v.slice(tab[i].length);
        if (c.std === 'Jan' || c.std === 'January') month = i + 1;
        break;
      }
      case '1': case '01':
        month = num(c.std === '01');
        if (!bad && (month <= 0 || month > 12)) range = 'month';
        break;
      case '2': case '_2': case '02':
        if (c.std === '_2' && v[0] === ' ') v = v.slice(1);
        day = num(c.std === '02');
        break;
      case '__2': case '002': {
        for (let i = 0; i < 2; i++) if (c.std === '__2' && v[0] === ' ') v = v.slice(1);
        const m = /^\d{1,3}/.exec(v);
        if (!m || (c.std === '002' && m[0].length !== 3)) { bad = true; break; }
        yday = Number(m[0]);
        v = v.slice(m[0].length);
        break;
      }
      case '15':
        hour = num(false);
        if (hour < 0 || hour >= 24) range = 'hour';
        break;
      case '3': case '03':
        hour = num(c.std === '03');
        if (hour < 0 || hour > 12) range = 'hour';
        break;
      case '4': case '04':
        min = num(c.std === '04');
        if (min < 0 || min >= 60) range = 'minute';
        break;
      case '5': case '05': {
        sec = num(c.std === '05');
        if (bad) break;
        if (sec < 0 || sec >= 60) { range = 'second'; break; }
        // Go accepts a fraction after the seconds even when the layout has none.
        if (v.length >= 2 && (v[0] === '.' || v[0] === ',') && isDigitAt(v, 1)) {
          const next = nextChunk(rest).std;
          if (next === 'frac0' || next === 'frac9') break;
          let n = 2;
          while (isDigitAt(v, n)) n++;
          nsec = parseNanos(v.slice(0, n));
          v = v.slice(n);
        }
        break;
      }
      case 'PM': case 'pm': {
        if (v.length < 2) { bad = true; break; }
        const p = v.slice(0, 2);
        v = v.slice(2);
        const [pmText, amText] = c.std === 'PM' ? ['PM', 'AM'] : ['pm', 'am'];
        if (p === pmText) pm = true;
        else if (p === amText) am = true;
        else bad = true;
        break;
      }
      case 'MST': {
        if (v.startsWith('UTC')) { v = v.slice(3); zoneOffset = 0; break; }
        const n = zoneNameLength(v);
        if (n === 0) { bad = true; break; }
        // Unknown abbreviations get offset 0 (Go's fake zone); GMT+h carries its hours.
        const name = v.slice(0, n);
        v = v.slice(n);
        zoneOffset = name.startsWith('GMT') && name.length > 3 ? Number(name.slice(3)) * 3600 : 0;
        break;
      }
      case 'frac0': {
        const nd = 1 + c.frac;
        if (v.length < nd || !/^\d+$/.test(v.slice(1, nd)) || (v[0] !== '.' && v[0] !== ',')) { bad = true; break; }
        nsec = parseNanos(v.slice(0, nd));
        v = v.slice(nd);
        break;
      }
      case 'frac9': {
        if (v.length < 2 || (v[0] !== '.' && v[0] !== ',') || !isDigitAt(v, 1)) break;
        let i = 1;
        while (isDigitAt(v, i + 1)) i++;
        nsec = parseNanos(v.slice(0, i + 1));
        v = v.slice(i + 1);
        break;
      }
      default: {
        if (c.std[0] === 'Z' && v[0] === 'Z') { v = v.slice(1); zoneOffset = 0; break; }
        const off = parseNumericZone(v, c.std.slice(1));
        if (off === undefined) { bad = true; break; }
        [zoneOffset, v] = off;
      }
    }
    if (range !== '') throw failMsg(`: ${range} out of range`);
    if (bad) throw fail(v, c.text);
  }
  if (pm && hour < 12) hour += 12;
  else if (am && hour === 12) hour = 0;
  if (yday >= 0) {
    const leap = daysIn(2, year) === 29;
    if (yday < 1 || yday > (leap ? 366 : 365)) throw failMsg(': day-of-year out of range');
    const [, m, d] = civilFromDays(daysFromCivil(year, 1, 1) + yday - 1);
    if (month >= 0 && month !== m) throw failMsg(': day-of-year does not match month');
    if (day >= 0 && day !== d) throw failMsg(': day-of-year does not match day');
    month = m;
    day = d;
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  if (day < 1 || day > daysIn(month, year)) throw failMsg(': day out of range');
  const local = daysFromCivil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec;
  return { sec: local - (zoneOffset ?? 0), nsec };
}

function skipPrefix(value: string, prefix: string): string | undefined {
  let v = value;
  let p = prefix;
  while (p.length > 0) {
    if (p[0] === ' ') {
      if (v.length > 0 && v[0] !== ' ') return undefined;
      p = p.replace(/^ +/, '');
      v = v.replace(/^ +/, '');
      continue;
    }
    if (v.length === 0 || v[0] !== p[0]) return undefined;
    p = p.slice(1);
    v = v.slice(1);
  }
  return v;
}

/** One or two digits (exactly two when fixed): [value, consumed]. */
function getnum(s: string, fixed: boolean): [number, number] | undefined {
  if (!isDigitAt(s, 0)) return undefined;
  if (!isDigitAt(s, 1)) return fixed ? undefined : [Number(s[0]), 1];
  return [Number(s.slice(0, 2)), 2];
}

/** Go's time-package atoi: optional sign, then digits only. */
function goAtoi(s: string): number | undefined {
  const m = /^([+-]?)(\d+)$/.exec(s);
  if (!m) return undefined;
  return m[1] === '-' ? -Number(m[2]) : Number(m[2]);
}

/** `.123` → nanoseconds; digits past the ninth are dropped. */
function parseNanos(frac: string): number {
  return Number(frac.slice(1, 10).padEnd(9, '0'));
}

function parseNumericZone(v: string, form: string): [number, string] | undefined {
  let m: RegExpExecArray | null;
  switch (form) {
    case '07:00': m = /^([+-])(\d\d):(\d\d)()/.exec(v); break;
    case '07': m = /^([+-])(\d\d)()()/.exec(v); break;
    case '07:00:00': m = /^([+-])(\d\d):(\d\d):(\d\d)/.exec(v); break;
    case '070000': m = /^([+-])(\d\d)(\d\d)(\d\d)/.exec(v); break;
    default: m = /^([+-])(\d\d)(\d\d)()/.exec(v);
  }
  if (!m) return undefined;
  const off = Number(m[2]) * 3600 + Number(m[3] || 0) * 60 + Number(m[4] || 0);
  return [m[1] === '-' ? -off : off, v.slice(m[0].length)];
}

/** Length of a zone abbreviation at the start of v (Go's parseTimeZone), 0 when there is none. */
function zoneNameLength(v: string): number {
  if (v.length < 3) return 0;
  if (v.startsWith('ChST') || v.startsWith('MeST')) return 4;
  if (v.startsWith('GMT')) {
    const m = /^GMT([+-]\d{1,2})?/.exec(v);
    return m ? m[0].length : 3;
  }
  if (v[0] === '+' || v[0] === '-') {
    const m = /^[+-]\d{1,2}/.exec(v);
    return m ? m[0].length : 0;
  }
  let n = 0;
  while (n < 6 && n < v.length && v[n] >= 'A' && v[n] <= 'Z') n++;
  if (n === 3) return 3;
  if (n === 4 && (v[3] === 'T' || v.startsWith('WITA'))) return 4;
  if (n === 5 && v[4] === 'T') return 5;
  return 0;
}
