// Builtins: comparison — equal, neq, lt, lte, gt, gte. Any two values compare, in OPA's total order
// (null < booleans < numbers < strings < arrays < objects < sets), so none of these raise type errors.
import { compare, equals, type Value } from '../value';
import type { BuiltinSpec } from './registry';

function cmp(name: string, test: (a: Value, b: Value) => boolean): BuiltinSpec {
  return { name, category: 'comparison', args: ['any', 'any'], result: 'boolean', fn: (args) => test(args[0], args[1]) };
}

export const comparisonBuiltins: readonly BuiltinSpec[] = [
  cmp('equal', (a, b) => equals(a, b)),
  cmp('neq', (a, b) => !equals(a, b)),
  cmp('lt', (a, b) => compare(a, b) < 0),
  cmp('lte', (a, b) => compare(a, b) <= 0),
  cmp('gt', (a, b) => compare(a, b) > 0),
  cmp('gte', (a, b) => compare(a, b) >= 0),
];
