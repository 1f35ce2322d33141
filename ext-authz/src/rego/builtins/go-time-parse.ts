// Go's time.Parse for time.parse_ns / time.parse_rfc3339_ns: layout chunks are matched against the
// value with Go's leniencies (fractional seconds after "05", zone abbreviations) and its error texts.
import { civilFromDays, daysFromCivil, daysIn, type Instant } from './go-time-zone';
import { LONG_DAYS, LONG_MONTHS, isDigitAt, nextChunk } from './go-time-layout';

const short = (xs: string[]): string[] => xs.map((x) => x.slice(0, 3));

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
