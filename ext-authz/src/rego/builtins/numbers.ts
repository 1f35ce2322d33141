// Builtins: numbers — arithmetic (plus, minus, mul, div, rem), rounding, numbers.range*, to_number and
// bits.*. Arithmetic is exact-decimal on doubles (see decimal.ts); bit operations use BigInt like OPA's big.Int.
import { BuiltinError } from '../errors';
import { RegoSet, isSet, type Value } from '../value';
import { mustInteger, mustNumber, operandError, type BuiltinSpec, type TypeDesc } from './registry';
import { addNumbers, divNumbers, mulNumbers, subNumbers } from './decimal';

const NUM_OR_SET: TypeDesc = { anyOf: ['number', { set: 'any' }] };

/** Results beyond the double range have no representation here (OPA keeps them as big numbers). */
function finite(name: string, r: number): number {
  if (!Number.isFinite(r)) throw new BuiltinError(`${name}: result out of range`);
  return r;
}

function arith(name: string, op: (x: number, y: number) => number): BuiltinSpec {
  return {
    name,
    category: 'numbers',
    args: ['number', 'number'],
    result: 'number',
    fn: (args) => finite(name, op(mustNumber(name, args, 0), mustNumber(name, args, 1))),
  };
}

/** `minus` is number - number or set - set (set difference), as OPA declares it. */
function minus(args: Value[]): Value {
  const [a, b] = args;
  if (typeof a === 'number') {
    if (typeof b !== 'number') throw operandError('minus', 2, 'number', b);
    return finite('minus', subNumbers(a, b));
  }
  if (isSet(a)) {
    if (!isSet(b)) throw operandError('minus', 2, 'set', b);
    return setDifference(a, b);
  }
  throw operandError('minus', 1, 'one of {number, set}', a);
}

export function setDifference(a: RegoSet, b: RegoSet): RegoSet {
  const out = new RegoSet();
  for (const x of a) if (!b.has(x)) out.add(x);
  return out;
}

function div(args: Value[]): Value {
  const x = mustNumber('div', args, 0);
  const y = mustNumber('div', args, 1);
  if (y === 0) throw new BuiltinError('div: divide by zero');
  return finite('div', divNumbers(x, y));
}

/** OPA's `%` works on integers only (integral floats like 8.0 are fine); the sign follows the dividend. */
function rem(args: Value[]): Value {
  const x = mustNumber('rem', args, 0);
  const y = mustNumber('rem', args, 1);
  if (!Number.isInteger(x) || !Number.isInteger(y)) throw new BuiltinError('rem: modulo on floating-point number');
  if (y === 0) throw new BuiltinError('rem: modulo by zero');
  if (Number.isSafeInteger(x) && Number.isSafeInteger(y)) return noNegZero(x % y);
  return Number(BigInt(x) % BigInt(y));
}

function noNegZero(n: number): number {
  return n === 0 ? 0 : n;
}

function unary(name: string, f: (x: number) => number): BuiltinSpec {
  return {
    name,
    category: 'numbers',
    args: ['number'],
    result: 'number',
    fn: (args) => noNegZero(f(mustNumber(name, args, 0))),
  };
}

/** round() rounds half away from zero (OPA: round(-2.5) == -3), unlike Math.round. */
function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

/** Ranges are materialised; cap them so a policy cannot exhaust memory with numbers.range(0, 1e12). */
const MAX_RANGE = 10_000_000;

function range(name: string, a: number, b: number, step: number): number[] {
  const n = Math.floor(Math.abs(b - a) / step) + 1;
  if (n > MAX_RANGE) throw new BuiltinError(`${name}: range too large`);
  const out = new Array<number>(n);
  const dir = a <= b ? step : -step;
  for (let i = 0; i < n; i++) out[i] = a + i * dir;
  return out;
}

/** Go's strconv.ParseFloat grammar for decimals (hex floats are not supported here). */
const DECIMAL_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const SPECIAL_RE = /^[+-]?(inf|infinity|nan)$/i;

function toNumber(args: Value[]): Value {
  const v = args[0];
  if (v === null) return 0;
  switch (typeof v) {
    case 'boolean':
      return v ? 1 : 0;
    case 'number':
      return v;
    case 'string': {
      // OPA validates with strconv.ParseFloat, then rejects the NaN/Inf spellings it accepts.
      if (SPECIAL_RE.test(v)) throw new BuiltinError(`to_number: operand 1 must be a finite number but got ${JSON.stringify(v)}`, 'type');
      if (!DECIMAL_RE.test(v)) throw new BuiltinError(`to_number: strconv.ParseFloat: parsing ${JSON.stringify(v)}: invalid syntax`);
      const n = Number(v);
      if (!Number.isFinite(n)) throw new BuiltinError(`to_number: strconv.ParseFloat: parsing ${JSON.stringify(v)}: value out of range`);
      return noNegZero(n);
    }
  }
  throw operandError('to_number', 1, 'one of {null, boolean, number, string}', v);
}

function big(name: string, args: Value[], i: number): bigint {
  return BigInt(mustInteger(name, args, i));
}

function shiftAmount(name: string, args: Value[]): bigint {
  const s = big(name, args, 1);
  if (s < 0n) throw new BuiltinError(`${name}: operand 2 must be unsigned integer number but got negative integer number`, 'type');
  // Past 1100 bits every non-zero result of a left shift overflows a double anyway; don't build it.
  return s > 1100n ? 1100n : s;
}

function bits(name: string, arity: 1 | 2, f: (args: Value[]) => bigint): BuiltinSpec {
  return {
    name,
    category: 'numbers',
    args: arity === 1 ? ['number'] : ['number', 'number'],
    result: 'number',
    fn: (args) => finite(name, Number(f(args))),
  };
}

export const numbersBuiltins: readonly BuiltinSpec[] = [
  arith('plus', addNumbers),
  { name: 'minus', category: 'numbers', args: [NUM_OR_SET, NUM_OR_SET], result: NUM_OR_SET, fn: minus },
  arith('mul', mulNumbers),
  { name: 'div', category: 'numbers', args: ['number', 'number'], result: 'number', fn: div },
  { name: 'rem', category: 'numbers', args: ['number', 'number'], result: 'number', fn: rem },
  unary('abs', Math.abs),
  unary('round', roundHalfAway),
  unary('ceil', Math.ceil),
  unary('floor', Math.floor),
  {
    name: 'numbers.range',
    category: 'numbers',
    args: ['number', 'number'],
    result: { array: 'number' },
    fn: (args) => range('numbers.range', mustInteger('numbers.range', args, 0), mustInteger('numbers.range', args, 1), 1),
  },
  {
    name: 'numbers.range_step',
    category: 'numbers',
    args: ['number', 'number', 'number'],
    result: { array: 'number' },
    fn: (args) => {
      const name = 'numbers.range_step';
      const a = mustInteger(name, args, 0);
      const b = mustInteger(name, args, 1);
      const step = mustInteger(name, args, 2);
      // OPA repeats the builtin name in this message.
      if (step <= 0) throw new BuiltinError(`${name}: ${name}: step must be a positive number above zero`);
      return range(name, a, b, step);
    },
  },
  {
    name: 'to_number',
    category: 'numbers',
    args: [{ anyOf: ['null', 'boolean', 'number', 'string'] }],
    result: 'number',
    fn: toNumber,
  },
  bits('bits.and', 2, (a) => big('bits.and', a, 0) & big('bits.and', a, 1)),
  bits('bits.or', 2, (a) => big('bits.or', a, 0) | big('bits.or', a, 1)),
  bits('bits.xor', 2, (a) => big('bits.xor', a, 0) ^ big('bits.xor', a, 1)),
  bits('bits.negate', 1, (a) => ~big('bits.negate', a, 0)),
  bits('bits.lsh', 2, (a) => big('bits.lsh', a, 0) << shiftAmount('bits.lsh', a)),
  bits('bits.rsh', 2, (a) => big('bits.rsh', a, 0) >> shiftAmount('bits.rsh', a)),
];
