// sets builtins: union, intersection, or (|), and (&), set_diff; vectors from builtins_collections and OPA sets cases.
import { defaultRegistry } from '../../../ext-authz/src/rego/builtins/index';
import type { Value } from '../../../ext-authz/src/rego/value';
import { errorOf, json, set } from './harness';

describe('sets', () => {
  test.each<[string, Value[], unknown]>([
    ['or', [set(1, 2), set(2, 3)], [1, 2, 3]],
    ['and', [set(1, 2), set(2, 3)], [2]],
    ['and', [set(), set(1)], []],
    ['set_diff', [set(1, 2, 3), set(2, 9)], [1, 3]],
    ['union', [set(set(1), set(2, 3), set())], [1, 2, 3]],
    ['union', [set()], []],
    ['intersection', [set(set(1, 2, 3), set(2, 3), set(3, 4))], [3]],
    ['intersection', [set()], []],
    ['intersection', [set(set(), set(1, 2))], []],
    ['intersection', [set(set('a', 'b', 'c', 'd'), set('b', 'c', 'd'), set('c', 'd'), set('d'))], ['d']],
    ['or', [set({ a: 1 }), set({ a: 1.0 })], [{ a: 1 }]],
  ])('%s(%j)', (name, args, want) => {
    expect(json(name, ...args)).toEqual(want);
  });

  test.each<[string, Value[], string]>([
    ['union', [[[1], [2]]], 'union: operand 1 must be set but got array'],
    ['intersection', [[1]], 'intersection: operand 1 must be set but got array'],
    ['union', [set(1)], 'union: operand 1 must be set of sets but got set containing number'],
    ['and', [[1], [2]], 'and: operand 1 must be set but got array'],
    ['or', [set(), [2]], 'or: operand 2 must be set but got array'],
  ])('%s(%j) is a type error', (name, args, message) => {
    const e = errorOf(name, ...args);
    expect(e.message).toBe(message);
    expect(e.kind).toBe('type');
  });

  test('set_diff is deprecated', () => {
    expect(defaultRegistry.get('set_diff')!.deprecated).toBe(true);
  });
});
