// decisionToJson must equal rego's toJSON for every value (policy/value-json.ts).
import fc from 'fast-check';
import { RegoObject, RegoSet, toJSON } from '../../ext-authz/src/rego/engine';
import type { Value } from '../../ext-authz/src/rego/engine';
import { decisionToJson } from '../../ext-authz/src/policy/value-json';

const same = (v: Value): void => {
  const a = decisionToJson(v);
  const b = toJSON(v);
  expect(a).toEqual(b);
  expect(JSON.stringify(a)).toBe(JSON.stringify(b));
};

test('plain decisions convert like toJSON, keys sorted', () => {
  same({ reasons: ['pinned_new'], backend: 'new', action: 'allow', response_headers: {}, dynamic_metadata: { b: 1, a: [true, null] } } as Value);
  const nullProto = Object.create(null) as Record<string, Value>;
  nullProto.z = 'x';
  nullProto.a = 1.5;
  same(nullProto as Value);
});

test('sets, non-string keys, __proto__ and surrogate keys fall back to toJSON', () => {
  same({ s: new RegoSet(['b', 'a', 3]) } as unknown as Value);
  same([new RegoObject([[1, 'one'], ['k', 'v']])] as unknown as Value);
  same(JSON.parse('{"__proto__": {"x": 1}, "a": 2}') as Value);
  same({ '\u{1F600}': 1, '\uFFFF': 2, a: 3 } as Value);
});

test('property: any JSON value converts like toJSON', () => {
  fc.assert(fc.property(fc.jsonValue(), (j) => same(JSON.parse(JSON.stringify(j)) as Value)), { numRuns: 300 });
});
