// time.* builtins: vectors from the builtins_time corpus and OPA's time test cases (Go layouts,
// durations, zones, AddDate normalisation, int64 range).
import { defaultRegistry } from '../../../ext-authz/src/rego/builtins/index';
import type { Value } from '../../../ext-authz/src/rego/value';
import { harnessFor, newCtx } from './harness';

const { call, json, errorOf } = harnessFor(newCtx(1704164645000000000n));

describe('time.parse_*', () => {
  test.each<[string, Value[], number]>([
    ['time.parse_rfc3339_ns', ['2024-01-02T05:04:05+02:00'], 1704164645000000000],
    ['time.parse_rfc3339_ns', ['2024-01-02T03:04:05.123456789Z'], 1704164645123456789],
    ['time.parse_rfc3339_ns', ['2024-01-02T03:04:05.5Z'], 1704164645500000000],
    ['time.parse_rfc3339_ns', ['1970-01-01T00:00:00Z'], 0],
    ['time.parse_rfc3339_ns', ['2024-02-29T00:00:00Z'], 1709164800000000000],
    ['time.parse_rfc3339_ns', ['2017-06-02T19:00:00-07:00'], 1496455200000000000],
    ['time.parse_rfc3339_ns', ['1677-09-21T00:12:43.145224192-00:00'], -9223372036854775808],
    ['time.parse_ns', ['2006-01-02', '2024-03-15'], 1710460800000000000],
    ['time.parse_ns', ['02 Jan 06 15:04 MST', '02 Jan 24 03:04 UTC'], 1704164640000000000],
    ['time.parse_ns', ['Mon, 02 Jan 2006 15:04:05 MST', 'Tue, 02 Jan 2024 03:04:05 GMT'], 1704164645000000000],
    ['time.parse_ns', ['January 2, 2006 3:04PM', 'march 5, 2024 1:30pm'.replace('pm', 'PM')], 1709645400000000000],
    ['time.parse_ns', ['2006-01-02 15:04:05.000 -0700', '2024-01-02 05:04:05.250 +0200'], 1704164645250000000],
    ['time.parse_duration_ns', ['1h30m'], 5400000000000],
    ['time.parse_duration_ns', ['-2m'], -120000000000],
    ['time.parse_duration_ns', ['3us'], 3000],
    ['time.parse_duration_ns', ['3µs'], 3000],
    ['time.parse_duration_ns', ['100ms'], 100000000],
    ['time.parse_duration_ns', ['1.5s'], 1500000000],
    ['time.parse_duration_ns', ['0'], 0],
  ])('%s%j', (name, args, want) => {
    expect(call(name, ...args)).toBe(want);
  });

  test.each<[string, Value[], string]>([
    ['time.parse_rfc3339_ns', ['2024-13-02T03:04:05Z'], 'time.parse_rfc3339_ns: parsing time "2024-13-02T03:04:05Z": month out of range'],
    ['time.parse_rfc3339_ns', ['yesterday'], 'time.parse_rfc3339_ns: parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"'],
    ['time.parse_rfc3339_ns', ['2024-02-30T00:00:00Z'], 'time.parse_rfc3339_ns: parsing time "2024-02-30T00:00:00Z": day out of range'],
    ['time.parse_rfc3339_ns', ['2262-04-11T23:47:16.854775808-00:00'], 'time.parse_rfc3339_ns: time outside of valid range'],
    ['time.parse_rfc3339_ns', ['1677-09-21T00:12:43.145224191-00:00'], 'time.parse_rfc3339_ns: time outside of valid range'],
    ['time.parse_ns', ['2006-01-02', '15/03/2024'], 'time.parse_ns: parsing time "15/03/2024" as "2006-01-02": cannot parse "3/2024" as "2006"'],
    ['time.parse_ns', ['2006-01-02', '2024-03-15x'], 'time.parse_ns: parsing time "2024-03-15x": extra text: "x"'],
    ['time.parse_duration_ns', ['5 minutes'], 'time.parse_duration_ns: time: unknown unit " minutes" in duration "5 minutes"'],
    ['time.parse_duration_ns', ['1d'], 'time.parse_duration_ns: time: unknown unit "d" in duration "1d"'],
    ['time.parse_duration_ns', ['10'], 'time.parse_duration_ns: time: missing unit in duration "10"'],
    ['time.parse_duration_ns', [''], 'time.parse_duration_ns: time: invalid duration ""'],
  ])('%s%j fails', (name, args, message) => {
    const e = errorOf(name, ...args);
    expect(e.kind).toBe('builtin');
    expect(e.message).toBe(message);
  });

  test('the RFC 3339 parse error without a layout match (no T separator)', () => {
    expect(errorOf('time.parse_rfc3339_ns', '2024-01-02 03:04:05').message).toContain('cannot parse " 03:04:05" as "T"');
  });
});

describe('time fields and formatting', () => {
  const T = 1704164645000000000; // 2024-01-02T03:04:05Z, a Tuesday
  test.each<[string, Value[], unknown]>([
    ['time.date', [T], [2024, 1, 2]],
    ['time.date', [0], [1970, 1, 1]],
    ['time.date', [-1], [1969, 12, 31]],
    ['time.date', [1517814000 * 1e9], [2018, 2, 5]],
    ['time.date', [1704164645000000000.0], [2024, 1, 2]],
    ['time.clock', [T], [3, 4, 5]],
    ['time.clock', [[T, 'UTC']], [3, 4, 5]],
    ['time.clock', [[1517832000 * 1e9, 'America/New_York']], [7, 0, 0]],
    ['time.clock', [1582977600 * 1e9], [12, 0, 0]],
    ['time.weekday', [T], 'Tuesday'],
    ['time.weekday', [0], 'Thursday'],
    ['time.weekday', [[0]], 'Thursday'],
    ['time.weekday', [1518177600000000000], 'Friday'],
    ['time.format', [T], '2024-01-02T03:04:05Z'],
    ['time.format', [[T, 'UTC', '2006-01-02 15:04']], '2024-01-02 03:04'],
    ['time.format', [1704164645005000000], '2024-01-02T03:04:05.005Z'],
    ['time.format', [[1670006453141828752, 'Asia/Kolkata', 'Mon Jan 02 15:04:05 -0700 2006']], 'Sat Dec 03 00:10:53 +0530 2022'],
    ['time.format', [[1670006453141828752, 'Asia/Kolkata', 'RFC1123Z']], 'Sat, 03 Dec 2022 00:10:53 +0530'],
    ['time.format', [[0, 'America/New_York', 'Mon Jan _2 3:04PM MST 2006 .000']], 'Wed Dec 31 7:00PM EST 1969 .000'],
    ['time.format', [[1720000000000000000, 'Europe/Berlin', 'RFC1123']], 'Wed, 03 Jul 2024 11:46:40 CEST'],
    ['time.format', [[1720000000000000000, 'Asia/Kolkata', 'RFC850']], 'Wednesday, 03-Jul-24 15:16:40 IST'],
    ['time.format', [[1720000000000000000, 'America/Los_Angeles']], '2024-07-03T02:46:40-07:00'],
    ['time.format', [[-1, '', 'Jan 2 06 15:04:05.999999999 Z07:00']], 'Dec 31 69 23:59:59.999999999 Z'],
    ['time.date', [[1704067200000000000, 'America/New_York']], [2023, 12, 31]],
    ['time.add_date', [1585852421593912000, 3, 9, 12], 1705257221593912000],
    ['time.diff', [T, T], [0, 0, 0, 0, 0, 0]],
    ['time.diff', [1580601600000000000, 1583020800000000000], [0, 0, 28, 0, 0, 0]],
    ['time.diff', [1612224000000000000, 1614556800000000000], [0, 0, 27, 0, 0, 0]],
    ['time.diff', [1078012800000000000, 1109635200000000000], [1, 0, 1, 0, 0, 0]],
    ['time.diff', [[T + 60e9, 'UTC'], [T, 'Asia/Shanghai']], [0, 0, 0, 0, 1, 0]],
  ])('%s%j', (name, args, want) => {
    expect(json(name, ...args)).toEqual(want);
  });

  test('add_date follows Go AddDate normalisation', () => {
    const date = (ns: Value) => json('time.date', ns);
    expect(date(call('time.add_date', T, 0, 1, 0)!)).toEqual([2024, 2, 2]);
    expect(date(call('time.add_date', T, 1, 0, -2)!)).toEqual([2024, 12, 31]);
    const jan31 = call('time.parse_rfc3339_ns', '2024-01-31T00:00:00Z')!;
    expect(date(call('time.add_date', jan31, 0, 1, 0)!)).toEqual([2024, 3, 2]);
  });

  test('now_ns is the evaluation time from the context', () => {
    expect(call('time.now_ns')).toBe(1704164645000000000);
    expect(defaultRegistry.get('time.now_ns')!.nondeterministic).toBe(true);
  });

  test.each<[string, Value[], string, 'type' | 'builtin']>([
    ['time.add_date', ['x', 0, 0, 1], 'time.add_date: operand 1 must be either number (ns) or [number (ns), string (tz)] but got string', 'type'],
    ['time.date', ['2024'], 'time.date: operand 1 must be either number (ns) or [number (ns), string (tz)] but got string', 'type'],
    ['time.date', [[0, 'Not/AZone']], 'time.date: unknown time zone Not/AZone', 'builtin'],
    ['time.weekday', [1582977600 * 1e12], 'time.weekday: timestamp too big', 'builtin'],
    ['time.format', [1582977600 * 10e12], 'time.format: timestamp too big', 'builtin'],
    ['time.add_date', [0, 2262, 1, 1], 'time.add_date: time outside of valid range', 'builtin'],
  ])('%s%j fails', (name, args, message, kind) => {
    const e = errorOf(name, ...args);
    expect(e.message).toBe(message);
    expect(e.kind).toBe(kind);
  });
});
