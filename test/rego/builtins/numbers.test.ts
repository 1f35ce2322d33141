// numbers builtins: exact-decimal arithmetic, errors, rounding, ranges, to_number and bits.*.
// Vectors come from the conformance corpus (lang_values, builtins_numbers_types) and OPA's arithmetic cases.
import { toJSON, type Value } from '../../../ext-authz/src/rego/value';
import { call, errorOf, set } from './harness';

describe('arithmetic', () => {
  test.each<[string, Value, Value, number]>([
    ['plus', 1, 2, 3],
    ['minus', 3, 10, -7],
    ['mul', 6, 7, 42],
    ['div', 6, 2, 3],
    ['div', 1, 3, 1 / 3],
    ['div', 7.5, 2.5, 3],
    ['div', 1, 4, 0.25],
    ['div', -6, 3, -2],
    ['div', 0, 5, 0],
    ['div', 0.3, 0.1, 3],
    ['rem', 7, 3, 1],
    ['rem', 8.0, 3, 2],
    ['rem', -17, 5, -2],
    ['rem', 17, -5, 2],
    ['rem', 10, 18446744073709551616, 10],
    ['plus', 0.1, 0.2, 0.3],
    ['minus', 0.3, 0.1, 0.2],
    ['mul', 1.5, 4, 6],
    ['mul', 3.0, 2, 6],
    ['mul', 0.1, 3, 0.3],
    ['mul', 0.25, 2, 0.5],
    ['plus', 1.5, 2.5, 4],
    ['plus', 1, 2.5, 3.5],
    ['plus', 10.0, 5, 15],
    ['plus', 2147483647, 1, 2147483648],
    ['mul', 2147483647, 2147483647, 4611686014132420609],
    ['plus', 1e30, 1, 1e30],
  ])('%s(%p, %p) = %p', (name, a, b, want) => {
    expect(call(name, a, b)).toBe(want);
  });

  test('0.1 + 0.2 == 0.3 exactly, unlike IEEE doubles', () => {
    expect(call('plus', 0.1, 0.2)).toBe(0.3);
    expect(call('equal', call('plus', 0.1, 0.2)!, 0.3)).toBe(true);
  });

  test('inexact results (16-17 digits) use IEEE arithmetic: 1/3 * 3 == 1', () => {
    expect(call('mul', call('div', 1, 3)!, 3)).toBe(1);
    expect(call('plus', 0.30000000000000004, 0.1)).toBe(0.30000000000000004 + 0.1);
  });

  test('sum and product fold exact-decimal steps', () => {
    expect(call('sum', [0.1, 0.2, 0.3])).toBe(0.6);
    expect(call('sum', [9007199254740991, 1])).toBe(9007199254740992);
    expect(call('product', [0.1, 0.1, 10])).toBe(0.1);
  });

  test('minus on sets is set difference', () => {
    expect(toJSON(call('minus', set(1, 2, 3), set(2))!)).toEqual([1, 3]);
    expect(toJSON(call('minus', set(), set(1))!)).toEqual([]);
  });

  test.each<[string, Value[], string, string]>([
    ['div', [1, 0], 'div: divide by zero', 'builtin'],
    ['div', [1.5, 0], 'div: divide by zero', 'builtin'],
    ['rem', [7.5, 2], 'rem: modulo on floating-point number', 'builtin'],
    ['rem', [1.1, 1], 'rem: modulo on floating-point number', 'builtin'],
    ['rem', [5, 0], 'rem: modulo by zero', 'builtin'],
    ['plus', ['x', 1], 'plus: operand 1 must be number but got string', 'type'],
    ['minus', [[1], [1]], 'minus: operand 1 must be one of {number, set} but got array', 'type'],
    ['minus', [set(1), 1], 'minus: operand 2 must be set but got number', 'type'],
    ['minus', [1, set(1)], 'minus: operand 2 must be number but got set', 'type'],
    ['mul', [1e300, 1e300], 'mul: result out of range', 'builtin'],
  ])('%s%p fails: %s', (name, args, message, kind) => {
    const e = errorOf(name, ...args);
    expect(e.message).toBe(message);
    expect(e.kind).toBe(kind);
  });
});

describe('rounding', () => {
  test.each<[string, number, number]>([
    ['round', -2.5, -3],
    ['round', 2.5, 3],
    ['round', 2.4, 2],
    ['round', 7, 7],
    ['round', -5, -5],
    ['round', 10.0, 10],
    ['ceil', 1.1, 2],
    ['ceil', -1.9, -1],
    ['floor', 1.9, 1],
    ['floor', 1.01, 1],
    ['floor', 99.99999, 99],
    ['floor', -1.001, -2],
    ['abs', -3.5, 3.5],
    ['abs', -7, 7],
    ['abs', -2147483648, 2147483648],
  ])('%s(%p) = %p', (name, x, want) => {
    expect(call(name, x)).toBe(want);
  });

  test('results are never negative zero', () => {
    expect(Object.is(call('ceil', -0.5), 0)).toBe(true);
    expect(Object.is(call('round', -0.4), 0)).toBe(true);
  });

  test('round of a string is a type error', () => {
    expect(errorOf('round', '1.5').message).toBe('round: operand 1 must be number but got string');
    expect(errorOf('abs', '-1').message).toBe('abs: operand 1 must be number but got string');
  });
});

describe('numbers.range and numbers.range_step', () => {
  test.each<[string, Value[], Value]>([
    ['numbers.range', [1, 5], [1, 2, 3, 4, 5]],
    ['numbers.range', [3, -1], [3, 2, 1, 0, -1]],
    ['numbers.range', [0, 0], [0]],
    ['numbers.range', [-2, 3], [-2, -1, 0, 1, 2, 3]],
    ['numbers.range_step', [0, 10, 3], [0, 3, 6, 9]],
    ['numbers.range_step', [10, 0, 4], [10, 6, 2]],
  ])('%s%p', (name, args, want) => {
    expect(call(name, ...args)).toEqual(want);
  });

  test('float bounds and non-positive steps are errors', () => {
    expect(errorOf('numbers.range', 1.5, 3).message).toBe(
      'numbers.range: operand 1 must be integer number but got floating-point number',
    );
    for (const step of [0, -1]) {
      const e = errorOf('numbers.range_step', 0, 5, step);
      expect(e.message).toBe('numbers.range_step: numbers.range_step: step must be a positive number above zero');
      expect(e.kind).toBe('builtin');
    }
  });
});

describe('to_number', () => {
  test.each<[Value, number]>([
    ['42', 42],
    ['3.14', 3.14],
    ['-1e3', -1000],
    ['007', 7],
    ['+5', 5],
    ['.5', 0.5],
    [7, 7],
    [true, 1],
    [false, 0],
    [null, 0],
  ])('to_number(%p) = %p', (x, want) => {
    expect(call('to_number', x)).toBe(want);
  });

  test.each(['12abc', ' 1', '0x10', '', 'broken'])('to_number(%p) is invalid syntax', (s) => {
    const e = errorOf('to_number', s);
    expect(e.message).toBe(`to_number: strconv.ParseFloat: parsing ${JSON.stringify(s)}: invalid syntax`);
    expect(e.kind).toBe('builtin');
  });

  test.each(['nan', 'inf', '-inf', 'Infinity', '-Infinity', '-nan', '-NaN', 'iNf'])('to_number(%p) is a type error', (s) => {
    expect(errorOf('to_number', s).kind).toBe('type');
  });

  test('arrays are rejected', () => {
    expect(errorOf('to_number', [1]).message).toBe(
      'to_number: operand 1 must be one of {null, boolean, number, string} but got array',
    );
  });
});

describe('bits', () => {
  test.each<[string, Value[], number]>([
    ['bits.and', [12, 10], 8],
    ['bits.or', [12, 10], 14],
    ['bits.xor', [12, 10], 6],
    ['bits.and', [50, 0], 0],
    ['bits.xor', [42, 3], 41],
    ['bits.negate', [5], -6],
    ['bits.rsh', [8, 3], 1],
    ['bits.lsh', [2147483647, 1], 4294967294],
    ['bits.lsh', [9223372036854775807, 1], 18446744073709551614],
  ])('%s%p = %p', (name, args, want) => {
    expect(call(name, ...args)).toBe(want);
  });

  test.each(['bits.and', 'bits.or', 'bits.xor', 'bits.lsh'])('%s rejects floats', (name) => {
    expect(errorOf(name, 7.2, 42).message).toBe(`${name}: operand 1 must be integer number but got floating-point number`);
  });
});
