// units and semver builtins: SI/IEC suffixes with exact scaling, OPA 0.61's error texts, SemVer
// precedence; vectors from builtins_numbers_types and OPA's units/semver* cases.
import type { Value } from '../../../ext-authz/src/rego/value';
import { call, errorOf } from './harness';

describe('units.parse', () => {
  test.each<[string, number]>([
    ['10k', 10000], ['10K', 10000], ['250m', 0.25], ['1Ki', 1024], ['1.5', 1.5], ['0.5G', 500000000],
    ['500m', 0.5], ['0.0005K', 0.5], ['0.0000005M', 0.5], ['"100TI"', 109951162777600], ['.0', 0],
    ['1.1Ki', 1126.4], ['100mi', 104857600], ['10e', 1e19], ['1e10', 1e10], ['2.5e3K', 2500000],
    ['1e-2', 0.01], ['-3.5E2m', -0.35], ['6e3Mi', 6291456000],
  ])('units.parse(%j) = %j', (s, want) => {
    expect(call('units.parse', s)).toBe(want);
  });

  test.each<[string, string]>([
    ['abc', 'units.parse: units.parse: no amount provided'],
    ['', 'units.parse: units.parse: no amount provided'],
    ['0.0.0', 'units.parse: units.parse: could not parse amount to a number'],
    ['100 k', 'units.parse: units.parse: spaces not allowed in resource strings'],
    ['10e10000000Ei', 'units.parse: units.parse: exponent too large'],
    ['5Q', 'units.parse: units.parse: unit Q not recognized'],
  ])('units.parse(%j) fails', (s, msg) => {
    expect(errorOf('units.parse', s).message).toBe(msg);
  });
});

describe('units.parse_bytes', () => {
  test.each<[string, number]>([
    ['10kb', 10000], ['1.5MB', 1500000], ['2Mi', 2097152], ['1G', 1000000000], ['"3KB"', 3000],
    ['64KB', 64000], ['5MiB', 5242880], ['1.1KiB', 1126], ['.5KB', 500], ['100TIB', 109951162777600],
    ['1e-2KB', 10], ['3.2E2MiB', 335544320], ['0', 0], ['12345', 12345],
  ])('units.parse_bytes(%j) = %j', (s, want) => {
    expect(call('units.parse_bytes', s)).toBe(want);
  });

  test.each<[string, string]>([
    ['100B', 'units.parse_bytes: units.parse_bytes: byte unit b not recognized'],
    ['10XB', 'units.parse_bytes: units.parse_bytes: byte unit xb not recognized'],
    ['ten KB', 'units.parse_bytes: units.parse_bytes: spaces not allowed in resource strings'],
    ['GB', 'units.parse_bytes: units.parse_bytes: no byte amount provided'],
    ['.5.2', 'units.parse_bytes: units.parse_bytes: could not parse byte amount to a number'],
  ])('units.parse_bytes(%j) fails', (s, msg) => {
    expect(errorOf('units.parse_bytes', s).message).toBe(msg);
  });
});

describe('semver', () => {
  test.each<[string, string, number]>([
    ['1.2.3', '1.2.3', 0],
    ['2.0.0', '1.99.99', 1],
    ['1.0.0-alpha', '1.0.0', -1],
    ['1.0.0-alpha.1', '1.0.0-alpha.beta', -1],
    ['1.0.0-rc.2', '1.0.0-rc.10', -1],
    ['1.0.0-alpha', '1.0.0-alpha.1', -1],
    ['1.0.0-beta.11', '1.0.0-rc.1', -1],
    ['1.0.0+build.1', '1.0.0+build.2', 0],
    ['1.2.3-0', '1.2.3-1', -1],
    ['3.10.0', '3.9.0', 1],
  ])('semver.compare(%j, %j) = %j', (a, b, want) => {
    expect(call('semver.compare', a, b)).toBe(want);
  });

  test.each<[Value, boolean]>([
    ['1.2.3-rc.1+build.5', true],
    ['1.2', false],
    // OPA 0.61 (coreos/go-semver) accepts leading zeros; newer OPA rejects them.
    ['01.2.3', true],
    ['0.0.0', true],
    ['1.2.3-0a', true],
    ['v1.2.3', false],
    ['1.2.3-a_b', false],
    [1, false],
  ])('semver.is_valid(%j) = %j', (v, want) => {
    expect(call('semver.is_valid', v)).toBe(want);
  });

  test('invalid operands name their position', () => {
    expect(errorOf('semver.compare', '1.0', '1.0.0').message).toBe('semver.compare: operand 1: string "1.0" is not a valid SemVer');
    expect(errorOf('semver.compare', '1.0.0', 'x').message).toBe('semver.compare: operand 2: string "x" is not a valid SemVer');
  });
});
