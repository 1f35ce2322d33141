// arrays builtins: concat, slice (clamping), reverse, flatten; vectors from builtins_collections and OPA array cases.
import type { Value } from '../../../ext-authz/src/rego/value';
import { call, errorOf, json } from './harness';

describe('arrays', () => {
  test.each<[string, Value[], unknown]>([
    ['array.concat', [[1, 2], [3]], [1, 2, 3]],
    ['array.concat', [[], []], []],
    ['array.slice', [[1, 2, 3, 4], 1, 3], [2, 3]],
    ['array.slice', [[1, 2, 3], 1, 10], [2, 3]],
    ['array.slice', [[1, 2, 3], 2, 1], []],
    ['array.slice', [[1, 2, 3], 0, 3], [1, 2, 3]],
    ['array.slice', [[1, 2, 3], 1, 1], []],
    ['array.slice', [[1, 2, 3], 0, 0], []],
    ['array.slice', [[1, 2, 3, 4, 5], -4, -1], []],
    ['array.slice', [[1, 2, 3, 4, 5], -4, 2], [1, 2]],
    ['array.reverse', [[1, 2, 3]], [3, 2, 1]],
    ['array.reverse', [[]], []],
    ['array.flatten', [[[1, 2], [3, 4], [5]]], [1, 2, 3, 4, 5]],
    ['array.flatten', [[[[1], [2, 3, []]], [[4, 5]]]], [[1], [2, 3, []], [4, 5]]],
    ['array.flatten', [[[1, 2], 'string', [3, { a: 'b' }], 4.5, [6, [7, 8]]]], [1, 2, 'string', 3, { a: 'b' }, 4.5, 6, [7, 8]]],
  ])('%s(%j)', (name, args, want) => {
    expect(json(name, ...args)).toEqual(want);
  });

  test('reverse does not mutate its operand', () => {
    const xs = [1, 2, 3];
    call('array.reverse', xs);
    expect(xs).toEqual([1, 2, 3]);
  });

  test.each<[string, Value[], string]>([
    ['array.concat', [{ a: 1 }, [1]], 'array.concat: operand 1 must be array but got object'],
    ['array.concat', [[1], { a: 1 }], 'array.concat: operand 2 must be array but got object'],
    ['array.slice', ['abc', 0, 1], 'array.slice: operand 1 must be array but got string'],
    ['array.slice', [[1, 2, 3], 0.5, 2], 'array.slice: operand 2 must be integer number but got floating-point number'],
    ['array.reverse', ['abc'], 'array.reverse: operand 1 must be array but got string'],
    ['array.flatten', [42], 'array.flatten: operand 1 must be array but got number'],
  ])('%s(%j) is a type error', (name, args, message) => {
    const e = errorOf(name, ...args);
    expect(e.message).toBe(message);
    expect(e.kind).toBe('type');
  });
});
