// Builtins: aggregates — count, sum, product, max, min, sort, and the deprecated any/all.
// sum and product are exact-decimal like OPA's (see decimal.ts): sum([0.1, 0.2]) == 0.3.
import { compare, isObject, isSet, objSize, typeName, type Value } from '../value';
import { BuiltinError } from '../errors';
import { operandError, type BuiltinSpec, type TypeDesc } from './registry';
import { productNumbers, sumNumbers } from './decimal';

const COLLECTION: TypeDesc = { anyOf: [{ array: 'any' }, { set: 'any' }] };
const NUMBERS: TypeDesc = { anyOf: [{ array: 'number' }, { set: 'number' }] };

/** Members of an array or set (sets in OPA's sorted order); operand error otherwise. */
function members(name: string, v: Value, want: string): Value[] {
  if (Array.isArray(v)) return v;
  if (isSet(v)) return v.sorted();
  throw operandError(name, 1, want, v);
}

/** OPA: "sum: operand 1 must be array of numbers but got array containing string". */
function numbers(name: string, v: Value): number[] {
  const xs = members(name, v, 'one of {set, array}');
  for (const x of xs) {
    if (typeof x !== 'number') {
      const kind = typeName(v);
      throw new BuiltinError(`${name}: operand 1 must be ${kind} of numbers but got ${kind} containing ${typeName(x)}`, 'type');
    }
  }
  return xs as number[];
}

/** Results beyond the double range have no representation here (OPA keeps them as big numbers). */
function finite(name: string, r: number): number {
  if (!Number.isFinite(r)) throw new BuiltinError(`${name}: result out of range`);
  return r;
}

function count(args: Value[]): Value {
  const v = args[0];
  if (typeof v === 'string') {
    // Unicode code points (Go runes), not UTF-16 units: count("héllo☃") == 6.
    let n = 0;
    for (const _ of v) n++;
    return n;
  }
  if (Array.isArray(v)) return v.length;
  if (isSet(v)) return v.size;
  if (isObject(v)) return objSize(v);
  throw operandError('count', 1, 'one of {array, object, set, string}', v);
}

/** max/min of an empty collection is undefined, even with strict builtin errors (OPA 0.61). */
function extreme(name: string, sign: 1 | -1): BuiltinSpec {
  return {
    name,
    category: 'aggregates',
    args: [COLLECTION],
    result: 'any',
    fn: (args) => {
      const xs = members(name, args[0], 'one of {set, array}');
      if (xs.length === 0) return undefined;
      let best = xs[0];
      for (let i = 1; i < xs.length; i++) if (sign * compare(xs[i], best) > 0) best = xs[i];
      return best;
    },
  };
}

function quantifier(name: string, test: (xs: Value[]) => boolean): BuiltinSpec {
  return {
    name,
    category: 'aggregates',
    args: [COLLECTION],
    result: 'boolean',
    deprecated: true,
    fn: (args) => test(members(name, args[0], 'one of {set, array}')),
  };
}

export const aggregatesBuiltins: readonly BuiltinSpec[] = [
  {
    name: 'count',
    category: 'aggregates',
    args: [{ anyOf: ['string', { array: 'any' }, { object: ['any', 'any'] }, { set: 'any' }] }],
    result: 'number',
    fn: count,
  },
  { name: 'sum', category: 'aggregates', args: [NUMBERS], result: 'number', fn: (args) => finite('sum', sumNumbers(numbers('sum', args[0]))) },
  {
    name: 'product',
    category: 'aggregates',
    args: [NUMBERS],
    result: 'number',
    fn: (args) => finite('product', productNumbers(numbers('product', args[0]))),
  },
  extreme('max', 1),
  extreme('min', -1),
  {
    name: 'sort',
    category: 'aggregates',
    args: [COLLECTION],
    result: { array: 'any' },
    fn: (args) => {
      const v = args[0];
      if (isSet(v)) return [...v.sorted()];
      return [...members('sort', v, 'one of {array, set}')].sort(compare);
    },
  },
  quantifier('any', (xs) => xs.some((x) => x === true)),
  quantifier('all', (xs) => xs.every((x) => x === true)),
];
