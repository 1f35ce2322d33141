// json builtins: json.filter/remove/patch and JSON Schema; vectors from builtins_objects, builtins_collections and OPA json cases.
import type { Value } from '../../../ext-authz/src/rego/value';
import { call, errorOf, json, set } from './harness';

describe('json.filter / json.remove', () => {
  const doc = { a: { b: 1, c: 2 }, d: 3 };
  test.each<[string, Value[], unknown]>([
    ['json.filter', [doc, ['a/b', 'd']], { a: { b: 1 }, d: 3 }],
    ['json.filter', [doc, [['a', 'c']]], { a: { c: 2 } }],
    ['json.filter', [{ a: [{ x: 1, y: 2 }, { x: 3 }] }, ['a/0/x']], { a: [{ x: 1 }] }],
    ['json.filter', [{ a: 1 }, ['zz']], {}],
    ['json.filter', [{}, set('a/b')], {}],
    ['json.filter', [{ a: [{ b: 7, c: 8 }, { d: 9 }] }, set('a/0/b', 'a/1')], { a: [{ b: 7 }, { d: 9 }] }],
    ['json.filter', [{ a: { b: { c: 7, d: 8, x: 0 } }, e: 9 }, set('a/b/d', ['a', 'b', 'c'])], { a: { b: { c: 7, d: 8 } } }],
    ['json.remove', [doc, ['a/b', 'd']], { a: { c: 2 } }],
    ['json.remove', [{ a: [1, 2, 3] }, ['a/1']], { a: [1, 3] }],
    ['json.remove', [{ a: 1 }, ['b/c']], { a: 1 }],
    ['json.remove', [{ a: { b: { c: 7, d: 8 } }, e: 9 }, set('a/b/c')], { a: { b: { d: 8 } }, e: 9 }],
    ['json.remove', [{ a: { b: { c: 7, d: 8 }, e: 9 } }, set('a/b/c', 'a/e')], { a: { b: { d: 8 } } }],
    ['json.remove', [{ a: { b: 7 }, c: 1 }, set('a', 'a/b')], { c: 1 }],
    ['json.remove', [{ a: 7 }, set()], { a: 7 }],
    ['json.remove', [{ a: { b: 7 }, c: 1 }, set('a', 'c')], {}],
    ['json.remove', [{ a: [{ b: 7, c: 8 }, { d: 9 }] }, set('a/0/b', 'a/1')], { a: [{ c: 8 }] }],
    ['json.remove', [{ a: { b: { c: 7, d: 8 } }, e: 9 }, set(['a', 'b', 'c'], ['e'])], { a: { b: { d: 8 } } }],
  ])('%s(%j)', (name, args, want) => {
    expect(json(name, ...args)).toEqual(want);
  });

  test.each<[string, Value[], string]>([
    ['json.filter', [[1], ['a']], 'json.filter: operand 1 must be object but got array'],
    ['json.remove', ['foo', set('a/b/c')], 'json.remove: operand 1 must be object but got string'],
    ['json.remove', [{ a: 1 }, 22], 'json.remove: operand 2 must be one of {set, array} but got number'],
    [
      'json.remove',
      [{ a: 1 }, ['a', { x: 1 }]],
      'json.remove: operand 2 must be one of {set, array} containing string paths or array of path segments but got object',
    ],
  ])('%s(%j) is a type error', (name, args, message) => {
    const e = errorOf(name, ...args);
    expect(e.message).toBe(message);
    expect(e.kind).toBe('type');
  });
});

describe('json.patch', () => {
  test.each<[Value, Value[], unknown]>([
    [{ a: [1, 3] }, [{ op: 'add', path: '/a/1', value: 2 }], { a: [1, 2, 3] }],
    [{ a: [1] }, [{ op: 'add', path: '/a/-', value: 2 }], { a: [1, 2] }],
    [{ a: 1, b: 2 }, [{ op: 'remove', path: '/a' }], { b: 2 }],
    [{ a: 1 }, [{ op: 'replace', path: '/a', value: { n: 1 } }], { a: { n: 1 } }],
    [{ a: [1] }, [{ op: 'copy', from: '/a', path: '/b' }], { a: [1], b: [1] }],
    [{ a: 1 }, [{ op: 'move', from: '/a', path: '/b' }], { b: 1 }],
    [{ a: 1 }, [], { a: 1 }],
    [{ a: 1 }, [{ op: 'add', path: '/b', value: null }], { a: 1, b: null }],
    [{ a: { foo: 1 } }, [{ op: 'add', path: '/a/bar', value: 2 }], { a: { foo: 1, bar: 2 } }],
    [{ a: 1 }, [{ op: 'test', path: '/a', value: 1 }], { a: 1 }],
    [{ 'a/b': 1 }, [{ op: 'remove', path: '/a~1b' }], {}],
    [{ a: 1 }, [{ op: 'add', path: '', value: [1] }], [1]],
    [{ s: set('x') }, [{ op: 'add', path: '/s/y', value: 'y' }], { s: ['x', 'y'] }],
  ])('json.patch(%j, %j)', (doc, ops, want) => {
    expect(json('json.patch', doc, ops)).toEqual(want);
  });

  test.each<[Value, Value[]]>([
    [{ a: 1 }, [{ op: 'test', path: '/a', value: 2 }]],
    [{ a: 1 }, [{ op: 'remove', path: '/zz' }]],
    [{ a: 1 }, [{ op: 'frobnicate', path: '/a' }]],
    [{ a: [1] }, [{ op: 'add', path: '/a/5', value: 0 }]],
    [{ s: set(1, 2) }, [{ op: 'add', path: '/s/3', value: 3 }]],
    [{ a: 1 }, [{ op: 'replace', path: '/b', value: 0 }]],
    [{ a: { b: 1 } }, [{ op: 'move', from: '/a', path: '/a/c' }]],
    [{ a: 1 }, [{ op: 'add', path: '/a', value: 2 }, { op: 'test', path: '/a', value: 1 }]],
  ])('json.patch(%j, %j) is undefined, even in strict mode', (doc, ops) => {
    expect(call('json.patch', doc, ops)).toBeUndefined();
  });

  test('the input document is not mutated', () => {
    const doc = { a: [1, 3] };
    call('json.patch', doc, [{ op: 'add', path: '/a/1', value: 2 }]);
    expect(doc).toEqual({ a: [1, 3] });
  });
});

describe('json.match_schema / json.verify_schema', () => {
  test('valid document', () => {
    expect(json('json.match_schema', { a: 1 }, { type: 'object', required: ['a'] })).toEqual([true, []]);
  });

  test('invalid type, reported like gojsonschema', () => {
    expect(json('json.match_schema', { a: 'x' }, { type: 'object', properties: { a: { type: 'number' } } })).toEqual([
      false,
      [
        {
          desc: 'Invalid type. Expected: number, given: string',
          error: 'a: Invalid type. Expected: number, given: string',
          field: 'a',
          type: 'invalid_type',
        },
      ],
    ]);
  });

  test('schema and document as JSON text; several keywords', () => {
    const schema = JSON.stringify({
      type: 'object',
      required: ['id', 'tags'],
      additionalProperties: false,
      properties: {
        id: { type: 'integer', minimum: 1 },
        tags: { type: 'array', items: { type: 'string', minLength: 2 }, uniqueItems: true },
        kind: { enum: ['a', 'b'] },
      },
    });
    expect(json('json.match_schema', '{"id": 5, "tags": ["xy"]}', schema)).toEqual([true, []]);
    const [ok, errors] = json('json.match_schema', { id: 0, tags: ['x', 'x'], kind: 'c', extra: 1 }, schema) as [boolean, { error: string }[]];
    expect(ok).toBe(false);
    expect(errors.map((e) => e.error).sort()).toEqual([
      '(root): Additional property extra is not allowed',
      'id: Must be greater than or equal to 1',
      'kind: kind must be one of the following: "a", "b"',
      'tags.0: String length must be greater than or equal to 2',
      'tags.1: String length must be greater than or equal to 2',
      'tags: array items[0,1] must be unique',
    ]);
    const [, missing] = json('json.match_schema', {}, schema) as [boolean, { error: string; type: string }[]];
    expect(missing.map((e) => [e.error, e.type])).toEqual([
      ['(root): id is required', 'required'],
      ['(root): tags is required', 'required'],
    ]);
  });

  test('$ref into definitions and anyOf', () => {
    const schema: Value = {
      definitions: { pos: { type: 'number', exclusiveMinimum: 0 } },
      anyOf: [{ $ref: '#/definitions/pos' }, { type: 'string' }],
    };
    expect(json('json.match_schema', 3, schema)).toEqual([true, []]);
    const [ok, errors] = json('json.match_schema', -1, schema) as [boolean, { type: string }[]];
    expect(ok).toBe(false);
    expect(errors[0].type).toBe('number_any_of');
  });

  test('verify_schema', () => {
    expect(json('json.verify_schema', { type: 'object' })).toEqual([true, null]);
    expect(json('json.verify_schema', true)).toEqual([true, null]);
    const [ok, msg] = json('json.verify_schema', { type: 'foo' }) as [boolean, string];
    expect(ok).toBe(false);
    expect(typeof msg).toBe('string');
    expect(json('json.verify_schema', '{not json')).toEqual([false, expect.any(String)]);
  });

  test('match_schema with an invalid schema is a builtin error', () => {
    expect(errorOf('json.match_schema', {}, { type: 'foo' }).kind).toBe('builtin');
  });
});
