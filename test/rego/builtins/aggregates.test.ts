// aggregates builtins: count/sum/product/max/min/sort/any/all; vectors from builtins_collections and OPA aggregates cases.
import { defaultRegistry } from '../../../ext-authz/src/rego/builtins/index';
import { RegoObject, type Value } from '../../../ext-authz/src/rego/value';
import { call, errorOf, json, set } from './harness';

describe('aggregates', () => {
  test.each<[string, Value[], unknown]>([
    ['count', [[1, 2, 3]], 3],
    ['count', [set(1, 2, 2)], 2],
    ['count', [{ a: 1, b: 2 }], 2],
    ['count', ['héllo☃'], 6],
    ['count', [''], 0],
    ['count', [set()], 0],
    ['count', [new RegoObject([[1, 'a']])], 1],
    ['sum', [[1, 2, 3]], 6],
    ['sum', [[1, 2.5, -0.5]], 3],
    ['sum', [[]], 0],
    ['sum', [[0.1, 0.2]], 0.3],
    ['sum', [set(1, 2, 3, 4)], 10],
    ['sum', [[1.5, 2.5]], 4],
    ['product', [[]], 1],
    ['product', [set(2, 5)], 10],
    ['product', [[1.5, 2]], 3],
    ['product', [[0.1, 0.1]], 0.01],
    ['max', [[1, 3, 2]], 3],
    ['max', [['b', 'c', 'a']], 'c'],
    ['min', [[1, 3, -2]], -2],
    ['min', [['b', 'c', 'a']], 'a'],
    ['max', [[[1, 2], [1, 3], [0, 9]]], [1, 3]],
    ['min', [[2, 1.5, 3]], 1.5],
    ['max', [set(1, 2, 3, 4)], 4],
    ['max', [[1, 'a', null, [1]]], [1]],
    ['min', [[1, 'a', false, [1]]], false],
    ['max', [[3, 3.5, 3.25, 3.4999]], 3.5],
    ['min', [[3, 3.5, 2.75, 2.7499]], 2.7499],
    ['max', [[]], undefined],
    ['min', [set()], undefined],
    ['sort', [[3, 1, 2]], [1, 2, 3]],
    ['sort', [['b', 'B', 'a', 'A']], ['A', 'B', 'a', 'b']],
    ['sort', [set(3, 1, 2)], [1, 2, 3]],
    ['sort', [[]], []],
    ['sort', [[2, 1, 2]], [1, 2, 2]],
    ['sort', [[{ a: 2 }, { a: 1 }, { b: 0 }]], [{ a: 1 }, { a: 2 }, { b: 0 }]],
    ['sort', [[[2], [1, 5], [1]]], [[1], [1, 5], [2]]],
    [
      'sort',
      [[{}, [], 'a', 1, true, null, set(), false, { a: 1 }, [0], '', -1]],
      [null, false, true, -1, 1, '', 'a', [], [0], {}, { a: 1 }, []],
    ],
    ['any', [[false, true]], true],
    ['any', [set()], false],
    ['all', [[true, true]], true],
    ['all', [[true, 1]], false],
    ['all', [[]], true],
  ])('%s(%j)', (name, args, want) => {
    expect(json(name, ...args)).toEqual(want);
  });

  test('sort does not mutate its operand', () => {
    const xs = [3, 1, 2];
    call('sort', xs);
    expect(xs).toEqual([3, 1, 2]);
  });

  test.each<[string, Value, string]>([
    ['count', 5, 'count: operand 1 must be one of {array, object, set, string} but got number'],
    ['sum', ['a', 1], 'sum: operand 1 must be array of numbers but got array containing string'],
    ['sum', set('a'), 'sum: operand 1 must be set of numbers but got set containing string'],
    ['sum', { a: 1 }, 'sum: operand 1 must be one of {set, array} but got object'],
    ['product', ['a'], 'product: operand 1 must be array of numbers but got array containing string'],
    ['max', { a: 1 }, 'max: operand 1 must be one of {set, array} but got object'],
    ['sort', { a: 1 }, 'sort: operand 1 must be one of {array, set} but got object'],
  ])('%s(%j) is a type error', (name, arg, message) => {
    const e = errorOf(name, arg);
    expect(e.message).toBe(message);
    expect(e.kind).toBe('type');
  });

  test('any and all are deprecated', () => {
    expect(defaultRegistry.get('any')!.deprecated).toBe(true);
    expect(defaultRegistry.get('all')!.deprecated).toBe(true);
  });
});
