// Builtins: types — is_* tests, type_name, and the deprecated cast_* conversions (OPA 1.x drops them;
// they stay callable for v0 policies).
import { RegoSet, isObject, isSet, typeName, type Value } from '../value';
import { operandError, type BuiltinSpec, type TypeDesc } from './registry';

function is(name: string, test: (v: Value) => boolean): BuiltinSpec {
  return { name, category: 'types', args: ['any'], result: 'boolean', fn: (args) => test(args[0]) };
}

function cast(name: string, result: TypeDesc, f: (v: Value) => Value): BuiltinSpec {
  return { name, category: 'types', args: ['any'], result, fn: (args) => f(args[0]), deprecated: true };
}

export const typesBuiltins: readonly BuiltinSpec[] = [
  is('is_number', (v) => typeof v === 'number'),
  is('is_string', (v) => typeof v === 'string'),
  is('is_boolean', (v) => typeof v === 'boolean'),
  is('is_array', (v) => Array.isArray(v)),
  is('is_set', (v) => isSet(v)),
  is('is_object', (v) => isObject(v)),
  is('is_null', (v) => v === null),
  { name: 'type_name', category: 'types', args: ['any'], result: 'string', fn: (args) => typeName(args[0]) },
  cast('cast_array', { array: 'any' }, (v) => {
    if (Array.isArray(v)) return v;
    if (isSet(v)) return [...v.sorted()];
    throw operandError('cast_array', 1, 'one of {array, set}', v);
  }),
  cast('cast_set', { set: 'any' }, (v) => {
    if (isSet(v)) return v;
    if (Array.isArray(v)) return new RegoSet(v);
    throw operandError('cast_set', 1, 'one of {array, set}', v);
  }),
  cast('cast_boolean', 'boolean', (v) => {
    if (typeof v === 'boolean') return v;
    throw operandError('cast_boolean', 1, 'boolean', v);
  }),
  cast('cast_null', 'null', (v) => {
    if (v === null) return v;
    throw operandError('cast_null', 1, 'null', v);
  }),
  cast('cast_object', { object: ['any', 'any'] }, (v) => {
    if (isObject(v)) return v;
    throw operandError('cast_object', 1, 'object', v);
  }),
];
