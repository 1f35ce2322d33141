// A key named `__proto__` from outside stays a key: written with setOwn it is an own, enumerable
// property, and the object's prototype is untouched. The places that build objects from foreign keys
// (Struct conversion, policy data merges) are checked through their own entry points too.
import { setOwn } from '../../ext-authz/src/model/own-property';
import { jsonToStruct, structToJson } from '../../ext-authz/src/check/attributes-json';
import { mergeData } from '../../ext-authz/src/policy/load-dir';

const foreign = (): Record<string, unknown> => JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;

test('setOwn keeps __proto__ as an own key and leaves the prototype alone', () => {
  const o: Record<string, unknown> = {};
  setOwn(o, '__proto__', { polluted: true });
  setOwn(o, 'a', 1);
  expect(Object.keys(o)).toEqual(['__proto__', 'a']);
  expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
  expect((o as { polluted?: boolean }).polluted).toBeUndefined();
});

test('Struct round trip keeps a __proto__ key', () => {
  const back = structToJson(jsonToStruct(foreign()));
  expect(Object.keys(back)).toEqual(['__proto__', 'a']);
  expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
  expect(Object.getOwnPropertyDescriptor(back, '__proto__')?.value).toEqual({ polluted: true });
});

test('policy data merges keep a __proto__ key from a data document', () => {
  const data: Record<string, unknown> = {};
  mergeData(data, foreign(), 'data');
  expect(Object.keys(data)).toEqual(['__proto__', 'a']);
  expect((data as { polluted?: boolean }).polluted).toBeUndefined();
});
