// Strict check of an Envoy config (YAML/JSON, protojson rules) against Envoy's own message types:
// unknown fields, wrong scalar types, bad enum names, two members of one oneof, unresolvable
// `typed_config` "@type"s and the commonest protoc-gen-validate rules are findings. This stands in for
// `envoy --mode validate`, which cannot run here (no Envoy binary).
import * as protobuf from 'protobufjs';
import type { EnvoyProtoRoot } from './proto-root';

export interface SchemaFinding {
  code: 'unknown_field' | 'type_mismatch' | 'bad_enum' | 'oneof_conflict' | 'unknown_type' | 'validate_rule';
  /** JSON path in the config, e.g. static_resources.listeners[0].filter_chains[0]... */
  path: string;
  message: string;
}

const DURATION = /^-?\d+(\.\d{1,9})?s$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const WRAPPERS: Record<string, 'number' | 'string' | 'boolean' | 'int64'> = {
  'google.protobuf.BoolValue': 'boolean',
  'google.protobuf.StringValue': 'string',
  'google.protobuf.BytesValue': 'string',
  'google.protobuf.DoubleValue': 'number',
  'google.protobuf.FloatValue': 'number',
  'google.protobuf.Int32Value': 'number',
  'google.protobuf.UInt32Value': 'number',
  'google.protobuf.Int64Value': 'int64',
  'google.protobuf.UInt64Value': 'int64',
};

export function checkMessage(root: EnvoyProtoRoot, typeName: string, value: unknown, path = ''): SchemaFinding[] {
  const out: SchemaFinding[] = [];
  const t = root.lookupType(typeName);
  if (!t) {
    out.push({ code: 'unknown_type', path, message: `unknown message type ${typeName}` });
    return out;
  }
  checkValueOfType(root, t, value, path, out);
  return out;
}

function checkValueOfType(root: EnvoyProtoRoot, t: protobuf.Type, v: unknown, path: string, out: SchemaFinding[]): void {
  const full = t.fullName.replace(/^\./, '');
  // Well-known types with special JSON forms.
  if (full in WRAPPERS) return checkScalarJson(WRAPPERS[full], v, path, out, full);
  switch (full) {
    case 'google.protobuf.Any':
      return checkAny(root, v, path, out);
    case 'google.protobuf.Duration':
      if (typeof v === 'string' ? DURATION.test(v) : isPlainObject(v)) return;
      out.push({ code: 'type_mismatch', path, message: `expected a duration like "0.25s", got ${show(v)}` });
      return;
    case 'google.protobuf.Timestamp':
      if (typeof v === 'string' && RFC3339.test(v)) return;
      out.push({ code: 'type_mismatch', path, message: 'expected an RFC 3339 timestamp' });
      return;
    case 'google.protobuf.Struct':
      if (!isPlainObject(v)) out.push({ code: 'type_mismatch', path, message: 'expected an object (Struct)' });
      return;
    case 'google.protobuf.Value':
      return;
    case 'google.protobuf.ListValue':
      if (!Array.isArray(v)) out.push({ code: 'type_mismatch', path, message: 'expected a list (ListValue)' });
      return;
    case 'google.protobuf.FieldMask':
      if (typeof v !== 'string') out.push({ code: 'type_mismatch', path, message: 'expected a field mask string' });
      return;
  }
  if (!isPlainObject(v)) {
    out.push({ code: 'type_mismatch', path, message: `expected an object (${full}), got ${show(v)}` });
    return;
  }
  const byName = fieldIndex(t);
  const setOneofs = new Map<string, string>();
  for (const [key, fv] of Object.entries(v)) {
    const f = byName.get(key);
    const p = path ? `${path}.${key}` : key;
    if (!f) {
      out.push({ code: 'unknown_field', path: p, message: `unknown field "${key}" in ${full}` });
      continue;
    }
    if (f.partOf) {
      const other = setOneofs.get(f.partOf.name);
      if (other !== undefined) {
        out.push({ code: 'oneof_conflict', path: p, message: `"${key}" and "${other}" are both members of oneof ${f.partOf.name}` });
      }
      setOneofs.set(f.partOf.name, key);
    }
    checkField(root, f, fv, p, out);
  }
  for (const o of t.oneofsArray) {
    if (o.options?.['(validate.required)'] === true && !setOneofs.has(o.name)) {
      out.push({ code: 'validate_rule', path, message: `one of ${o.oneof.join(', ')} is required in ${full}` });
    }
  }
  for (const f of t.fieldsArray) {
    // A oneof member's own `required` only applies when it is the member chosen.
    if (f.partOf) continue;
    if (f.options?.['(validate.rules).message.required'] === true && !(f.name in v) && !(jsonName(f) in v)) {
      out.push({ code: 'validate_rule', path: path ? `${path}.${f.name}` : f.name, message: `${f.name} is required in ${full}` });
    }
  }
}

function checkField(root: EnvoyProtoRoot, f: protobuf.Field, v: unknown, path: string, out: SchemaFinding[]): void {
  if (f.map) {
    if (!isPlainObject(v)) {
      out.push({ code: 'type_mismatch', path, message: `expected a map for ${f.name}` });
      return;
    }
    for (const [k, x] of Object.entries(v)) checkSingle(root, f, x, `${path}["${k}"]`, out);
    return;
  }
  if (f.repeated) {
    if (!Array.isArray(v)) {
      out.push({ code: 'type_mismatch', path, message: `expected a list for ${f.name}` });
      return;
    }
    v.forEach((x, i) => checkSingle(root, f, x, `${path}[${i}]`, out));
    return;
  }
  checkSingle(root, f, v, path, out);
}

function checkSingle(root: EnvoyProtoRoot, f: protobuf.Field, v: unknown, path: string, out: SchemaFinding[]): void {
  const rt = f.resolvedType;
  if (rt instanceof protobuf.Type) return checkValueOfType(root, rt, v, path, out);
  if (rt instanceof protobuf.Enum) {
    const ok = typeof v === 'number' ? Object.values(rt.values).includes(v) : typeof v === 'string' && v in rt.values;
    if (!ok) out.push({ code: 'bad_enum', path, message: `${show(v)} is not a value of ${rt.name} (${Object.keys(rt.values).join(', ')})` });
    return;
  }
  const kind = scalarKind(f.type);
  checkScalarJson(kind, v, path, out, f.type);
  if (kind === 'string' && typeof v === 'string') {
    const min = f.options?.['(validate.rules).string.min_len'];
    if (typeof min === 'number' && v.length < min) {
      out.push({ code: 'validate_rule', path, message: `${f.name} must be at least ${min} characters` });
    }
  }
  if (kind === 'number' && typeof v === 'number') {
    const gt = f.options?.[`(validate.rules).${f.type}.gt`];
    if (typeof gt === 'number' && !(v > gt)) out.push({ code: 'validate_rule', path, message: `${f.name} must be greater than ${gt}` });
  }
}

function checkAny(root: EnvoyProtoRoot, v: unknown, path: string, out: SchemaFinding[]): void {
  if (!isPlainObject(v) || typeof v['@type'] !== 'string') {
    out.push({ code: 'type_mismatch', path, message: 'expected an object with "@type" (google.protobuf.Any)' });
    return;
  }
  const url = v['@type'];
  const name = url.slice(url.lastIndexOf('/') + 1);
  const t = root.lookupType(name);
  if (!t) {
    out.push({ code: 'unknown_type', path: `${path}.@type`, message: `cannot resolve "@type" ${url}` });
    return;
  }
  const rest: Record<string, unknown> = { ...v };
  delete rest['@type'];
  // Well-known types inside Any carry their JSON form under "value".
  const inner = t.fullName.startsWith('.google.protobuf.') && 'value' in rest ? rest.value : rest;
  checkValueOfType(root, t, inner, path, out);
}

function checkScalarJson(kind: 'number' | 'string' | 'boolean' | 'int64', v: unknown, path: string, out: SchemaFinding[], what: string): void {
  const ok =
    kind === 'int64'
      ? (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v))
      : kind === 'number'
        ? typeof v === 'number' || (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v))
        : typeof v === kind;
  if (!ok) out.push({ code: 'type_mismatch', path, message: `expected ${what}, got ${show(v)}` });
}

function scalarKind(type: string): 'number' | 'string' | 'boolean' | 'int64' {
  switch (type) {
    case 'bool':
      return 'boolean';
    case 'string':
    case 'bytes':
      return 'string';
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return 'int64';
    default:
      return 'number';
  }
}

const indexCache = new WeakMap<protobuf.Type, Map<string, protobuf.Field>>();
/** Fields by proto name and by lowerCamelCase JSON name (Envoy accepts both). */
function fieldIndex(t: protobuf.Type): Map<string, protobuf.Field> {
  let m = indexCache.get(t);
  if (!m) {
    m = new Map();
    for (const f of t.fieldsArray) {
      m.set(f.name, f);
      m.set(jsonName(f), f);
    }
    indexCache.set(t, m);
  }
  return m;
}

function jsonName(f: protobuf.Field): string {
  return f.name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return JSON.stringify(v);
}
