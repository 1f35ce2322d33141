// objects builtins: object.*, walk (relation), graph.*; vectors from builtins_objects/collections and OPA object cases.
import { defaultRegistry } from '../../../ext-authz/src/rego/builtins/index';
import { RegoObject, type Value } from '../../../ext-authz/src/rego/value';
import { call, errorOf, json, set } from './harness';

const big = { a: { b: { c: 1 }, x: [10, 20] }, k: null };

describe('object.get', () => {
  test.each<[Value[], unknown]>([
    [[{ a: 1 }, 'a', 0], 1],
    [[{ a: 1 }, 'z', 'dflt'], 'dflt'],
    [[{ a: null }, 'a', 'dflt'], null],
    [[{ a: false }, 'a', true], false],
    [[big, ['a', 'b', 'c'], 0], 1],
    [[big, ['a', 'b', 'z'], 'none'], 'none'],
    [[{ a: 1 }, [], 'd'], { a: 1 }],
    [[big, ['a', 'b', 'c', 'd'], 'deep'], 'deep'],
    [[big, ['a', 'x', 1], 0], 20],
    [[big, ['k'], 0], null],
    [[new RegoObject([[1, 'one']]), 1, 'd'], 'one'],
    [[{}, 'cfg', { x: 1 }], { x: 1 }],
    [[{ a: { b: 'c' } }, 'a', true], { b: 'c' }],
    [[{ constructor: 1 }, 'toString', 'd'], 'd'],
  ])('object.get(%j)', (args, want) => {
    expect(json('object.get', ...args)).toEqual(want);
  });

  test('non-object operand', () => {
    expect(errorOf('object.get', 'str', 'a', 0).message).toBe('object.get: operand 1 must be object but got string');
  });
});

describe('object.remove / filter / union / union_n / keys', () => {
  test.each<[string, Value[], unknown]>([
    ['object.keys', [{}], []],
    ['object.keys', [{ b: 1, a: 2 }], ['a', 'b']],
    ['object.remove', [{ a: 1, b: 2, c: 3 }, ['a', 'c']], { b: 2 }],
    ['object.remove', [{ a: 1, b: 2 }, { a: 'ignored' }], { b: 2 }],
    ['object.remove', [{ a: 1 }, ['zz']], { a: 1 }],
    ['object.remove', [{}, set('a', 'b')], {}],
    ['object.remove', [{ authorization: 'x', cookie: 'y', accept: '*/*' }, set('authorization', 'cookie')], { accept: '*/*' }],
    ['object.filter', [{ a: 1, b: 2 }, set('b')], { b: 2 }],
    ['object.filter', [{ a: 1 }, []], {}],
    ['object.filter', [{ a: 7 }, {}], {}],
    ['object.filter', [{ a: 1, b: 2, c: 3, e: 9 }, set('a', 'e')], { a: 1, e: 9 }],
    ['object.union', [{ a: 1, b: 2 }, { b: 3, c: 4 }], { a: 1, b: 3, c: 4 }],
    ['object.union', [{ a: { b: 1, c: 2 } }, { a: { c: 3, d: 4 } }], { a: { b: 1, c: 3, d: 4 } }],
    ['object.union', [{ a: { b: 1 } }, { a: 5 }], { a: 5 }],
    ['object.union', [{ a: 5 }, { a: { b: 1 } }], { a: { b: 1 } }],
    ['object.union', [{ a: [1, 2] }, { a: [3] }], { a: [3] }],
    ['object.union', [{}, {}], {}],
    ['object.union', [{ a: 1 }, { a: { b: { c: 1 } }, d: 7 }], { a: { b: { c: 1 } }, d: 7 }],
    ['object.union_n', [[{ a: 1 }, { b: 2 }, { a: 3 }]], { a: 3, b: 2 }],
    ['object.union_n', [[]], {}],
    [
      'object.union_n',
      [[{ timeout: 10, retries: { max: 3, backoff: 'exp' } }, { retries: { max: 5 } }, { env: 'prod' }]],
      { env: 'prod', retries: { backoff: 'exp', max: 5 }, timeout: 10 },
    ],
  ])('%s(%j)', (name, args, want) => {
    expect(json(name, ...args)).toEqual(want);
  });

  test.each<[string, Value[], string]>([
    ['object.keys', [[1]], 'object.keys: operand 1 must be object but got array'],
    ['object.remove', [[1], ['a']], 'object.remove: operand 1 must be object but got array'],
    ['object.remove', [{ a: 1 }, 'a'], 'object.remove: operand 2 must be one of {object, set, array} but got string'],
    ['object.filter', ['x', ['a']], 'object.filter: operand 1 must be object but got string'],
    ['object.filter', [{ a: 1 }, null], 'object.filter: operand 2 must be one of {object, set, array} but got null'],
    ['object.union', [[1], {}], 'object.union: operand 1 must be object but got array'],
    ['object.union', [{ a: 1 }, [1, 2, 3]], 'object.union: operand 2 must be object but got array'],
    ['object.union_n', [{ a: {} }], 'object.union_n: operand 1 must be array but got object'],
  ])('%s(%j) is a type error', (name, args, message) => {
    const e = errorOf(name, ...args);
    expect(e.message).toBe(message);
    expect(e.kind).toBe('type');
  });

  test('union_n with a non-object element is a type error', () => {
    expect(errorOf('object.union_n', [{ a: 1 }, 2]).kind).toBe('type');
  });
});

describe('object.subset', () => {
  test.each<[Value, Value, boolean]>([
    [{ a: 1, b: 2 }, { a: 2 }, false],
    [{ a: 1 }, {}, true],
    [[1, 2, 3, 4], [2, 3], true],
    [[1, 2, 3, 4], [2, 4], false],
    [[1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6], true],
    [[1, 2, 3, 4, 5, 6], [4, 5, 6, 8], false],
    [set(1, 2, 3), set(1, 3), true],
  ])('object.subset(%j, %j) = %p', (sup, sub, want) => {
    expect(call('object.subset', sup, sub)).toBe(want);
  });

  test('recursive cases', () => {
    expect(call('object.subset', { a: [1, 2, 3] }, { a: [1, 2] })).toBe(true);
    const A = { a: 5, b: 7, nested: { x: 10, set1: set(1, 2, 3, 4), arr1: [6, 7, 8, 9] } };
    const B = { a: 5, nested: { x: 10, set1: set(4, 1), arr1: [6, 7] } };
    expect(call('object.subset', A, B)).toBe(true);
    expect(call('object.subset', B, A)).toBe(false);
    expect(call('object.subset', set(1, 2, 3, set('a', 'b', 'c')), set(3, 2, set('a', 'b')))).toBe(false);
    expect(call('object.subset', [1, 2, 3, 4, 5, 6], set(4, 3, 2))).toBe(true);
    expect(call('object.subset', [1, 2, 3, 4, 5, 6], set(9, 8, 7))).toBe(false);
  });

  test('mismatched types are a type error', () => {
    const e = errorOf('object.subset', { x: 1 }, [1]);
    expect(e.message).toBe('object.subset: both arguments object.subset must be of the same type or array and set');
    expect(errorOf('object.subset', set(4, 3), [1, 2, 3, 4]).kind).toBe('type');
  });
});

describe('walk', () => {
  test('is a relation yielding [path, value] pairs in pre-order', () => {
    expect(defaultRegistry.get('walk')!.relation).toBe(true);
    expect(json('walk', { a: [1, { b: 2 }] })).toEqual([
      [[], { a: [1, { b: 2 }] }],
      [['a'], [1, { b: 2 }]],
      [['a', 0], 1],
      [['a', 1], { b: 2 }],
      [['a', 1, 'b'], 2],
    ]);
  });

  test('object keys in sorted order; set members are their own path', () => {
    expect(json('walk', { v2: 'goodbye', v1: 'hello' })).toEqual([
      [[], { v1: 'hello', v2: 'goodbye' }],
      [['v1'], 'hello'],
      [['v2'], 'goodbye'],
    ]);
    expect(json('walk', set(set(1, 2, 3)))).toEqual([
      [[], [[1, 2, 3]]],
      [[[1, 2, 3]], [1, 2, 3]],
      [[[1, 2, 3], 1], 1],
      [[[1, 2, 3], 2], 2],
      [[[1, 2, 3], 3], 3],
    ]);
    expect(json('walk', 1)).toEqual([[[], 1]]);
  });
});

describe('graph', () => {
  const g = { a: ['b', 'c'], b: ['c'], c: [] };
  test('reachable', () => {
    expect(json('graph.reachable', g, ['a'])).toEqual(['a', 'b', 'c']);
    expect(json('graph.reachable', g, set('b'))).toEqual(['b', 'c']);
    expect(json('graph.reachable', { a: set('b'), b: set('a') }, ['a'])).toEqual(['a', 'b']);
    expect(json('graph.reachable', g, ['zz'])).toEqual([]);
  });

  test('reachable_paths', () => {
    expect(json('graph.reachable_paths', g, ['a'])).toEqual([
      ['a', 'b', 'c'],
      ['a', 'c'],
    ]);
    expect(json('graph.reachable_paths', { a: ['b'], b: ['a'] }, ['a'])).toEqual([['a', 'b']]);
  });
});
