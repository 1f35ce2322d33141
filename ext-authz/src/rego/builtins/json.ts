// Builtins: json — json.filter, json.remove, json.patch (RFC 6902) and json.match_schema /
// json.verify_schema (JSON Schema, see json-schema.ts). All return new values; inputs are never mutated.
import { BuiltinError } from '../errors';
import {
  RegoSet, canonicalText, equals, isObject, isSet, makeObject, objEntries, objGet, typeName, type Value,
} from '../value';
import { operandError, type BuiltinSpec, type TypeDesc } from './registry';
import { matchSchema, verifySchema } from './json-schema';

const OBJECT: TypeDesc = { object: ['any', 'any'] };
const PATH: TypeDesc = { anyOf: ['string', { array: 'any' }] };
const PATHS: TypeDesc = { anyOf: [{ array: PATH }, { set: PATH }] };

/** A trie of paths; `leaf` marks the end of a path (everything below it is selected). */
interface PathNode {
  leaf: boolean;
  children: Map<string, PathNode>;
}

/** Trie key of a path segment or object key: "0" and 0 are the same segment (array indices). */
function segKey(k: Value): string {
  if (typeof k === 'string') return k;
  if (typeof k === 'number' && Number.isInteger(k)) return String(k);
  return '\u0001' + canonicalText(k);
}

/** "a/b" (a leading "/" is optional; ~1 and ~0 are JSON Pointer escapes) or ["a", "b"]. */
function splitPath(p: string): string[] {
  const s = p.startsWith('/') ? p.slice(1) : p;
  if (s === '') return [];
  return s.split('/').map((x) => x.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function pathTrie(name: string, v: Value): PathNode {
  if (!Array.isArray(v) && !isSet(v)) throw operandError(name, 2, 'one of {set, array}', v);
  const root: PathNode = { leaf: false, children: new Map() };
  for (const p of Array.isArray(v) ? v : v.sorted()) {
    let segs: Value[];
    if (typeof p === 'string') segs = splitPath(p);
    else if (Array.isArray(p)) segs = p;
    else {
      throw new BuiltinError(
        `${name}: operand 2 must be one of {set, array} containing string paths or array of path segments but got ${typeName(p)}`,
        'type',
      );
    }
    let node = root;
    for (const s of segs) {
      const k = segKey(s);
      let next = node.children.get(k);
      if (!next) node.children.set(k, (next = { leaf: false, children: new Map() }));
      node = next;
    }
    node.leaf = true;
  }
  return root;
}

/** Keeps only what the trie selects; undefined when nothing is selected below a scalar. */
function keep(v: Value, node: PathNode): Value | undefined {
  if (node.leaf) return v;
  if (isObject(v)) {
    const out: [Value, Value][] = [];
    for (const [k, x] of objEntries(v)) {
      const child = node.children.get(segKey(k));
      const r = child && keep(x, child);
      if (r !== undefined) out.push([k, r]);
    }
    return makeObject(out);
  }
  if (Array.isArray(v)) {
    const out: Value[] = [];
    v.forEach((x, i) => {
      const child = node.children.get(String(i));
      const r = child && keep(x, child);
      if (r !== undefined) out.push(r);
    });
    return out;
  }
  if (isSet(v)) {
    const out = new RegoSet();
    for (const x of v) {
      const child = node.children.get(segKey(x));
      const r = child && keep(x, child);
      if (r !== undefined) out.add(r);
    }
    return out;
  }
  return undefined;
}

/** Drops what the trie selects; array elements after a removed index move up. */
function drop(v: Value, node: PathNode): Value | undefined {
  if (node.leaf) return undefined;
  if (node.children.size === 0) return v;
  if (isObject(v)) {
    const out: [Value, Value][] = [];
    for (const [k, x] of objEntries(v)) {
      const child = node.children.get(segKey(k));
      const r = child ? drop(x, child) : x;
      if (r !== undefined) out.push([k, r]);
    }
    return makeObject(out);
  }
  if (Array.isArray(v)) {
    const out: Value[] = [];
    v.forEach((x, i) => {
      const child = node.children.get(String(i));
      const r = child ? drop(x, child) : x;
      if (r !== undefined) out.push(r);
    });
    return out;
  }
  if (isSet(v)) {
    const out = new RegoSet();
    for (const x of v) {
      const child = node.children.get(segKey(x));
      const r = child ? drop(x, child) : x;
      if (r !== undefined) out.add(r);
    }
    return out;
  }
  return v;
}

// ---- json.patch -----------------------------------------------------------------------------------

class PatchFailed extends Error {}

function fail(): never {
  throw new PatchFailed();
}

/** `x ?? fail()` would also reject null, which is a legitimate JSON value. */
function need(v: Value | undefined): Value {
  if (v === undefined) fail();
  return v;
}

function pointer(p: Value | undefined): Value[] {
  if (typeof p === 'string') {
    if (p === '') return [];
    if (!p.startsWith('/')) fail();
    return p.slice(1).split('/').map((x) => x.replace(/~1/g, '/').replace(/~0/g, '~'));
  }
  if (Array.isArray(p)) return p;
  return fail();
}

function arrayIndex(seg: Value, len: number, allowEnd: boolean): number {
  if (allowEnd && seg === '-') return len;
  const s = typeof seg === 'number' ? String(seg) : seg;
  if (typeof s !== 'string' || !/^(0|[1-9]\d*)$/.test(s)) fail();
  const i = Number(s);
  if (i > len || (!allowEnd && i === len)) fail();
  return i;
}

function getAt(doc: Value, path: Value[]): Value {
  let cur = doc;
  for (const seg of path) {
    if (isObject(cur)) cur = need(objGet(cur, seg));
    else if (Array.isArray(cur)) cur = cur[arrayIndex(seg, cur.length, false)];
    else if (isSet(cur)) cur = cur.has(seg) ? seg : fail();
    else fail();
  }
  return cur;
}

type Edit = (parent: Value, seg: Value) => Value;

/** Rebuilds the document along `path`, applying `edit` to the parent of the last segment. */
function updateAt(doc: Value, path: Value[], edit: Edit): Value {
  if (path.length === 0) return fail();
  const [seg, ...rest] = path;
  if (rest.length === 0) return edit(doc, seg);
  if (isObject(doc)) {
    const child = need(objGet(doc, seg));
    return makeObject(objEntries(doc).map(([k, x]) => [k, equals(k, seg) ? updateAt(child, rest, edit) : x]));
  }
  if (Array.isArray(doc)) {
    const i = arrayIndex(seg, doc.length, false);
    const out = [...doc];
    out[i] = updateAt(doc[i], rest, edit);
    return out;
  }
  return fail();
}

function addAt(doc: Value, path: Value[], value: Value): Value {
  if (path.length === 0) return value;
  return updateAt(doc, path, (parent, seg) => {
    if (isObject(parent)) return makeObject([...objEntries(parent).filter(([k]) => !equals(k, seg)), [seg, value]]);
    if (Array.isArray(parent)) {
      const out = [...parent];
      out.splice(arrayIndex(seg, parent.length, true), 0, value);
      return out;
    }
    // OPA: in a set, a member is its own path segment.
    if (isSet(parent) && equals(seg, value)) return new RegoSet([...parent, value]);
    return fail();
  });
}

function removeAt(doc: Value, path: Value[]): Value {
  return updateAt(doc, path, (parent, seg) => {
    if (isObject(parent)) {
      if (objGet(parent, seg) === undefined) fail();
      return makeObject(objEntries(parent).filter(([k]) => !equals(k, seg)));
    }
    if (Array.isArray(parent)) {
      const i = arrayIndex(seg, parent.length, false);
      return [...parent.slice(0, i), ...parent.slice(i + 1)];
    }
    if (isSet(parent) && parent.has(seg)) return new RegoSet([...parent].filter((x) => !equals(x, seg)));
    return fail();
  });
}

function applyOp(doc: Value, op: Value): Value {
  if (!isObject(op)) fail();
  const field = (k: string) => objGet(op, k);
  const path = pointer(field('path'));
  const value = field('value');
  switch (field('op')) {
    case 'add':
      return addAt(doc, path, need(value));
    case 'remove':
      return path.length === 0 ? fail() : removeAt(doc, path);
    case 'replace':
      getAt(doc, path);
      return path.length === 0 ? need(value) : addAt(removeAt(doc, path), path, need(value));
    case 'move': {
      const from = pointer(field('from'));
      // RFC 6902 §4.4: a location cannot be moved into one of its own children.
      if (path.length > from.length && from.every((seg, i) => equals(seg, path[i]))) fail();
      const moved = getAt(doc, from);
      return addAt(from.length === 0 ? doc : removeAt(doc, from), path, moved);
    }
    case 'copy':
      return addAt(doc, path, getAt(doc, pointer(field('from'))));
    case 'test':
      return equals(getAt(doc, path), need(value)) ? doc : fail();
    default:
      return fail();
  }
}

/** json.patch applies all operations or none: any failing operation makes the result undefined. */
function jsonPatch(args: Value[]): Value | undefined {
  const ops = args[1];
  if (!Array.isArray(ops)) throw operandError('json.patch', 2, 'array', ops);
  let doc = args[0];
  try {
    for (const op of ops) doc = applyOp(doc, op);
  } catch (e) {
    if (e instanceof PatchFailed) return undefined;
    throw e;
  }
  return doc;
}

function mustObject(name: string, v: Value): void {
  if (!isObject(v)) throw operandError(name, 1, 'object', v);
}

export const jsonBuiltins: readonly BuiltinSpec[] = [
  {
    name: 'json.filter',
    category: 'json',
    args: [OBJECT, PATHS],
    result: 'any',
    fn: (args) => {
      mustObject('json.filter', args[0]);
      return keep(args[0], pathTrie('json.filter', args[1]));
    },
  },
  {
    name: 'json.remove',
    category: 'json',
    args: [OBJECT, PATHS],
    result: 'any',
    fn: (args) => {
      mustObject('json.remove', args[0]);
      return drop(args[0], pathTrie('json.remove', args[1])) ?? makeObject([]);
    },
  },
  { name: 'json.patch', category: 'json', args: ['any', { array: OBJECT }], result: 'any', fn: jsonPatch },
  {
    name: 'json.match_schema',
    category: 'json',
    args: [{ anyOf: ['string', OBJECT] }, { anyOf: ['string', 'boolean', OBJECT] }],
    result: { array: 'any' },
    fn: (args) => matchSchema(args[0], args[1]),
  },
  {
    name: 'json.verify_schema',
    category: 'json',
    args: [{ anyOf: ['string', 'boolean', OBJECT] }],
    result: { array: 'any' },
    fn: (args) => verifySchema(args[0]),
  },
];
