// Calendar arithmetic (proleptic Gregorian, as Go's time package) and IANA zone offsets via
// Intl.DateTimeFormat, for the time.* builtins. "" and "UTC" are UTC; "Local" is UTC in this engine.
import { BuiltinError } from '../errors';

/** A point in time: whole Unix seconds plus nanoseconds in [0, 1e9). */
export interface Instant {
  sec: number;
  nsec: number;
}

const NS_PER_SEC = 1_000_000_000n;
export const MIN_NS = -(2n ** 63n);
export const MAX_NS = 2n ** 63n - 1n;

export function instantFromNs(ns: bigint): Instant {
  let sec = ns / NS_PER_SEC;
  let nsec = ns % NS_PER_SEC;
  if (nsec < 0n) {
    nsec += NS_PER_SEC;
    sec -= 1n;
  }
  return { sec: Number(sec), nsec: Number(nsec) };
}

export function nsFromInstant(t: Instant): bigint {
  return BigInt(t.sec) * NS_PER_SEC + BigInt(t.nsec);
}

/** Days since 1970-01-01 of a civil date (month 1..12, any day; H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** [year, month, day] of a day count since 1970-01-01. */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [era * 400 + yoe + (m <= 2 ? 1 : 0), m, d];
}

export function daysIn(month: number, year: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

/** Civil fields of an instant in a zone. */
export interface Civil {
  year: number;
  month: number;
  day: number;
  hour: number;
  min: number;
  sec: number;
  nsec: number;
  /** 0 = Sunday. */
  wday: number;
}

export function toCivil(t: Instant, tz: string): Civil {
  const local = t.sec + zoneOffset(tz, t.sec);
  const days = Math.floor(local / 86400);
  const s = local - days * 86400;
  const [year, month, day] = civilFromDays(days);
  return {
    year, month, day,
    hour: Math.floor(s / 3600), min: Math.floor((s % 3600) / 60), sec: s % 60, nsec: t.nsec,
    wday: (((days + 4) % 7) + 7) % 7,
  };
}

/**
 * Go's time.Date: fields may overflow (month 14, day 0, ...) and are normalised; the local wall
 * time is mapped back to an instant with the zone's offset at that time.
 */
export function fromCivil(c: Omit<Civil, 'wday'>, tz: string): Instant {
  const m0 = c.month - 1;
  const year = c.year + Math.floor(m0 / 12);
  const month = (((m0 % 12) + 12) % 12) + 1;
  const extraSec = Math.floor(c.nsec / 1e9);
  const nsec = c.nsec - extraSec * 1e9;
  const local = (daysFromCivil(year, month, 1) + c.day - 1) * 86400 + c.hour * 3600 + c.min * 60 + c.sec + extraSec;
  // Two passes settle the offset around DST transitions, as Go's lookup does.
  let off = zoneOffset(tz, local);
  off = zoneOffset(tz, local - off);
  return { sec: local - off, nsec };
}

// ---- zones --------------------------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>();

function isUTC(tz: string): boolean {
  return tz === '' || tz === 'UTC' || tz === 'Local';
}

/** Throws Go's LoadLocation error for an unknown zone name. */
export function checkZone(name: string, tz: string): void {
  if (!isUTC(tz)) formatter(name, tz);
}

function formatter(name: string, tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
        hour: 'numeric', minute: 'numeric', second: 'numeric', era: 'short',
      });
    } catch {
      throw new BuiltinError(`${name}: unknown time zone ${tz}`);
    }
    formatters.set(tz, f);
  }
  return f;
}

/** Offset (seconds east of UTC) of a zone at a Unix second. */
export function zoneOffset(tz: string, unixSec: number): number {
  if (isUTC(tz)) return 0;
  const parts = formatter('time', tz).formatToParts(new Date(unixSec * 1000));
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '0';
  let year = Number(get('year'));
  if (get('era') === 'BC' || get('era') === 'B') year = 1 - year;
  const wallSec = daysFromCivil(year, Number(get('month')), Number(get('day'))) * 86400 +
    (Number(get('hour')) % 24) * 3600 + Number(get('minute')) * 60 + Number(get('second'));
  return wallSec - Math.floor(unixSec);
}

// Intl has no locale-neutral abbreviations: en-US knows "PST", en-GB "CEST"/"BST", en-AU "AEST",
// en-IN "IST"; elsewhere it prints "GMT+2". The first letter abbreviation found is used.
const ABBR_LOCALES = ['en-US', 'en-GB', 'en-AU', 'en-IN'];
const abbrFormatters = new Map<string, Intl.DateTimeFormat[]>();
const isAbbr = (s: string): boolean => /^[A-Z]{3,5}$/.test(s);

/** The zone's letter abbreviation at a Unix second ("UTC", "PST", "CEST"), or "" if Intl has none. */
export function zoneAbbr(tz: string, unixSec: number): string {
  if (isUTC(tz)) return 'UTC';
  let fs = abbrFormatters.get(tz);
  if (!fs) {
    fs = ABBR_LOCALES.map((l) => new Intl.DateTimeFormat(l, { timeZone: tz, timeZoneName: 'short' }));
    abbrFormatters.set(tz, fs);
  }
  for (const f of fs) {
    const name = f.formatToParts(new Date(unixSec * 1000)).find((p) => p.type === 'timeZoneName')?.value ?? '';
    if (isAbbr(name)) return name;
  }
  return '';
}
