// Builtins: time.* (OPA policy reference, "Time"). Timestamps are int64 nanoseconds since the epoch;
// they are computed as BigInt and returned as JS numbers, so values above 2^53 are the nearest double.
import { BuiltinError } from '../errors';
import type { Value } from '../value';
import { typeName } from '../value';
import { mustInteger, mustString, type BuiltinSpec, type TypeDesc } from './registry';
import { LONG_DAYS, NAMED_LAYOUTS, RFC3339, RFC3339_NANO, formatLayout } from './go-time-layout';
import { LayoutParseError, parseLayout } from './go-time-parse';
import {
  MAX_NS, MIN_NS, checkZone, fromCivil, instantFromNs, nsFromInstant, toCivil, type Instant,
} from './go-time-zone';
import { parseGoDuration } from './go-duration';

const TZ_TIME: TypeDesc = { anyOf: ['number', { array: 'any' }] };
const TZ_EXPECTED = 'either number (ns) or [number (ns), string (tz)]';

/**
 * A number operand as int64 nanoseconds. The double is read through its shortest decimal form so
 * that a literal like 1704164645005000000 keeps its trailing zeros (the nearest double is 64 ns off).
 */
function nsOf(name: string, n: number): bigint {
  if (!Number.isFinite(n)) throw new BuiltinError(`${name}: timestamp too big`);
  const t = Math.trunc(n);
  if (t >= 2 ** 63 || t < -(2 ** 63)) throw new BuiltinError(`${name}: timestamp too big`);
  const ns = BigInt(String(t));
  return ns > MAX_NS ? MAX_NS : ns < MIN_NS ? MIN_NS : ns;
}

function nsResult(name: string, ns: bigint): number {
  if (ns > MAX_NS || ns < MIN_NS) throw new BuiltinError(`${name}: time outside of valid range`);
  return Number(ns);
}

interface TzTime {
  t: Instant;
  tz: string;
  layout: string;
}

/** OPA's time operand: `ns`, `[ns]`, `[ns, tz]` or (time.format only) `[ns, tz, layout]`. */
function tzTime(name: string, v: Value, pos = 1): TzTime {
  let nv: Value;
  let tz = '';
  let layout = RFC3339_NANO;
  if (Array.isArray(v)) {
    if (v.length === 0) throw new BuiltinError(`${name}: operand ${pos} must be ${TZ_EXPECTED} but got array`, 'type');
    nv = v[0];
    if (v.length > 1) {
      if (typeof v[1] !== 'string') {
        throw new BuiltinError(`${name}: operand ${pos} must be string but got ${typeName(v[1])}`, 'type');
      }
      tz = v[1];
      checkZone(name, tz);
    }
    if (v.length > 2) {
      if (typeof v[2] !== 'string') {
        throw new BuiltinError(`${name}: operand ${pos} must be string but got ${typeName(v[2])}`, 'type');
      }
      layout = NAMED_LAYOUTS.get(v[2]) ?? v[2];
    }
  } else if (typeof v === 'number') {
    nv = v;
  } else {
    throw new BuiltinError(`${name}: operand ${pos} must be ${TZ_EXPECTED} but got ${typeName(v)}`, 'type');
  }
  if (typeof nv !== 'number') {
    throw new BuiltinError(`${name}: operand ${pos} must be number but got ${typeName(nv)}`, 'type');
  }
  return { t: instantFromNs(nsOf(name, nv)), tz, layout };
}

function parseWith(name: string, layout: string, value: string): number {
  let t: Instant;
  try {
    t = parseLayout(layout, value);
  } catch (e) {
    if (e instanceof LayoutParseError) throw new BuiltinError(`${name}: ${e.message}`);
    throw e;
  }
  return nsResult(name, nsFromInstant(t));
}

export const timeBuiltins: readonly BuiltinSpec[] = [
  {
    name: 'time.now_ns',
    category: 'time',
    args: [],
    result: 'number',
    nondeterministic: true,
    // Fixed for the whole evaluation (the interpreter puts one reading in the context).
    fn: (_args, ctx) => Number(ctx.nowNs),
  },
  {
    name: 'time.parse_ns',
    category: 'time',
    args: ['string', 'string'],
    result: 'number',
    fn: (args) => {
      const layout = mustString('time.parse_ns', args, 0);
      return parseWith('time.parse_ns', layout, mustString('time.parse_ns', args, 1));
    },
  },
  {
    name: 'time.parse_rfc3339_ns',
    category: 'time',
    args: ['string'],
    result: 'number',
    fn: (args) => parseWith('time.parse_rfc3339_ns', RFC3339, mustString('time.parse_rfc3339_ns', args, 0)),
  },
  {
    name: 'time.parse_duration_ns',
    category: 'time',
    args: ['string'],
    result: 'number',
    fn: (args) => {
      const s = mustString('time.parse_duration_ns', args, 0);
      const r = parseGoDuration(s);
      if (typeof r === 'string') throw new BuiltinError(`time.parse_duration_ns: ${r}`);
      return Number(r);
    },
  },
  {
    name: 'time.format',
    category: 'time',
    args: [{ anyOf: ['number', { array: 'any' }] }],
    result: 'string',
    fn: (args) => {
      const { t, tz, layout } = tzTime('time.format', args[0]);
      return formatLayout(t, tz, layout);
    },
  },
  {
    name: 'time.date',
    category: 'time',
    args: [TZ_TIME],
    result: { array: 'number' },
    fn: (args) => {
      const { t, tz } = tzTime('time.date', args[0]);
      const c = toCivil(t, tz);
      return [c.year, c.month, c.day];
    },
  },
  {
    name: 'time.clock',
    category: 'time',
    args: [TZ_TIME],
    result: { array: 'number' },
    fn: (args) => {
      const { t, tz } = tzTime('time.clock', args[0]);
      const c = toCivil(t, tz);
      return [c.hour, c.min, c.sec];
    },
  },
  {
    name: 'time.weekday',
    category: 'time',
    args: [TZ_TIME],
    result: 'string',
    fn: (args) => {
      const { t, tz } = tzTime('time.weekday', args[0]);
      return LONG_DAYS[toCivil(t, tz).wday];
    },
  },
  {
    name: 'time.add_date',
    category: 'time',
    args: ['number', 'number', 'number', 'number'],
    result: 'number',
    fn: (args) => {
      const name = 'time.add_date';
      const { t, tz } = tzTime(name, args[0]);
      const years = mustInteger(name, args, 1);
      const months = mustInteger(name, args, 2);
      const days = mustInteger(name, args, 3);
      // Go's AddDate: add to the civil fields, then let time.Date normalise (Jan 31 + 1 month = Mar 2).
      const c = toCivil(t, tz);
      const r = fromCivil({ ...c, year: c.year + years, month: c.month + months, day: c.day + days }, tz);
      return nsResult(name, nsFromInstant(r));
    },
  },
  {
    name: 'time.diff',
    category: 'time',
    args: [TZ_TIME, TZ_TIME],
    result: { array: 'number' },
    fn: (args) => {
      const a = tzTime('time.diff', args[0], 1);
      const b = tzTime('time.diff', args[1], 2);
      // Both are read in the first operand's zone; the earlier one is subtracted from the later one.
      let [t1, t2] = [a.t, b.t];
      if (t1.sec > t2.sec || (t1.sec === t2.sec && t1.nsec > t2.nsec)) [t1, t2] = [t2, t1];
      const c1 = toCivil(t1, a.tz);
      const c2 = toCivil(t2, a.tz);
      let year = c2.year - c1.year;
      let month = c2.month - c1.month;
      let day = c2.day - c1.day;
      let hour = c2.hour - c1.hour;
      let min = c2.min - c1.min;
      let sec = c2.sec - c1.sec;
      if (sec < 0) { sec += 60; min--; }
      if (min < 0) { min += 60; hour--; }
      if (hour < 0) { hour += 24; day--; }
      if (day < 0) {
        // Borrow the length of the earlier time's month (day 32 normalises into the next month).
        const overflow = toCivil(fromCivil({ year: c1.year, month: c1.month, day: 32, hour: 0, min: 0, sec: 0, nsec: 0 }, ''), '');
        day += 32 - overflow.day;
        month--;
      }
      if (month < 0) { month += 12; year--; }
      return [year, month, day, hour, min, sec];
    },
  },
];
