// Builtins: arrays — array.concat, array.slice, array.reverse, array.flatten.
// Arrays are immutable Values, so every builtin returns a fresh array.
import { mustArray, mustInteger, type BuiltinSpec, type TypeDesc } from './registry';

const ARRAY: TypeDesc = { array: 'any' };

export const arraysBuiltins: readonly BuiltinSpec[] = [
  {
    name: 'array.concat',
    category: 'arrays',
    args: [ARRAY, ARRAY],
    result: ARRAY,
    fn: (args) => {
      const a = mustArray('array.concat', args, 0);
      const b = mustArray('array.concat', args, 1);
      return [...a, ...b];
    },
  },
  {
    name: 'array.slice',
    category: 'arrays',
    args: [ARRAY, 'number', 'number'],
    result: ARRAY,
    fn: (args) => {
      const a = mustArray('array.slice', args, 0);
      let start = mustInteger('array.slice', args, 1);
      let stop = mustInteger('array.slice', args, 2);
      // OPA clamps start up to 0 and stop down to the length; start past stop gives [] — so negative
      // indices do not count from the end: array.slice([1,2,3,4,5], -4, -1) == [].
      if (start < 0) start = 0;
      if (stop > a.length) stop = a.length;
      if (start >= stop) return [];
      return a.slice(start, stop);
    },
  },
  {
    name: 'array.reverse',
    category: 'arrays',
    args: [ARRAY],
    result: ARRAY,
    fn: (args) => [...mustArray('array.reverse', args, 0)].reverse(),
  },
  {
    // Newer OPA builtin (in OPA's own test suite): flattens one level; non-array members are kept.
    name: 'array.flatten',
    category: 'arrays',
    args: [ARRAY],
    result: ARRAY,
    fn: (args) => mustArray('array.flatten', args, 0).flatMap((x) => (Array.isArray(x) ? x : [x])),
  },
];
