// comparison and types builtins: OPA ordering across types, is_*, type_name and the deprecated casts.
import { defaultRegistry } from '../../../ext-authz/src/rego/builtins/index';
import { RegoObject, type Value } from '../../../ext-authz/src/rego/value';
import { call, errorOf, json, set } from './harness';

describe('comparison', () => {
  test.each<[string, Value, Value, boolean]>([
    ['lt', null, false, true],
    ['lt', true, 0, true],
    ['lt', false, true, true],
    ['lt', 100, '0', true],
    ['lt', 'zzz', [], true],
    ['lt', [9], {}, true],
    ['lt', set(1, 2), set(1, 3), true],
    ['lt', set(1), set(1, 2), true],
    ['gt', set(3), set(1, 2), true],
    ['gte', 'b', 'b', true],
    ['lt', 1, 1.5, true],
    ['lte', 2.0, 2, true],
    ['gt', 3, 2.999, true],
    ['lt', 'B', 'a', true],
    ['lt', 'ab', 'b', true],
    ['lt', '', 'a', true],
    ['equal', 1.0, 1, true],
    ['equal', { a: [1, set(2)] }, { a: [1, set(2)] }, true],
    ['equal', 1, '1', false],
    ['neq', 0, 1, true],
    ['neq', [1], [1], false],
    ['gte', 1, 2, false],
    ['lt', -2.5, 2.5, true],
    ['lt', -2.5, -2.25, true],
  ])('%s(%j, %j) = %p', (name, a, b, want) => {
    expect(call(name, a, b)).toBe(want);
  });
});

describe('types', () => {
  test.each<[string, Value, boolean]>([
    ['is_number', 1, true],
    ['is_number', 1.5, true],
    ['is_number', '1', false],
    ['is_string', '', true],
    ['is_string', 1, false],
    ['is_boolean', false, true],
    ['is_boolean', null, false],
    ['is_array', [1], true],
    ['is_array', set(), false],
    ['is_set', set(), true],
    ['is_set', [], false],
    ['is_set', {}, false],
    ['is_object', {}, true],
    ['is_object', new RegoObject([[1, 2]]), true],
    ['is_object', set(), false],
    ['is_null', null, true],
    ['is_null', false, false],
  ])('%s(%j) = %p', (name, x, want) => {
    expect(call(name, x)).toBe(want);
  });

  test('type_name', () => {
    const xs: Value[] = [null, true, 1, 1.5, 's', [], {}, set()];
    expect(xs.map((x) => call('type_name', x))).toEqual(['null', 'boolean', 'number', 'number', 'string', 'array', 'object', 'set']);
  });

  test('casts convert or reject', () => {
    expect(json('cast_array', set(2, 1))).toEqual([1, 2]);
    expect(json('cast_set', [1, 1, 2])).toEqual([1, 2]);
    expect(call('cast_boolean', true)).toBe(true);
    expect(call('cast_null', null)).toBe(null);
    expect(json('cast_object', { a: 1 })).toEqual({ a: 1 });
    expect(errorOf('cast_array', 'x').message).toBe('cast_array: operand 1 must be one of {array, set} but got string');
    expect(errorOf('cast_boolean', 1).message).toBe('cast_boolean: operand 1 must be boolean but got number');
    for (const n of ['cast_array', 'cast_set', 'cast_boolean', 'cast_null', 'cast_object']) {
      expect(defaultRegistry.get(n)!.deprecated).toBe(true);
    }
  });
});
