// Builtins: objects — object.get/remove/union/union_n/filter/keys/subset, the walk relation and
// graph.reachable / graph.reachable_paths.
import { BuiltinError } from '../errors';
import {
  RegoSet, compare, equals, isObject, isSet, makeObject, objEntries, objGet, objHas, objKeys, typeName,
  type ObjectValue, type Value,
} from '../value';
import { mustArray, operandError, type BuiltinSpec, type TypeDesc } from './registry';

const OBJECT: TypeDesc = { object: ['any', 'any'] };
const KEYS: TypeDesc = { anyOf: [{ array: 'any' }, { set: 'any' }, OBJECT] };
const COLLECTION: TypeDesc = { anyOf: [OBJECT, { set: 'any' }, { array: 'any' }] };

function mustObject(name: string, args: Value[], i: number): ObjectValue {
  const v = args[i];
  if (!isObject(v)) throw operandError(name, i + 1, 'object', v);
  return v;
}

/** Keys named by an array, a set or an object's keys (object.remove / object.filter). */
function keyList(name: string, v: Value): Value[] {
  if (Array.isArray(v)) return v;
  if (isSet(v)) return [...v];
  if (isObject(v)) return objKeys(v);
  throw operandError(name, 2, 'one of {object, set, array}', v);
}

/** One step of a path: object key, array index, or set member (yielding the member). */
function stepInto(v: Value, k: Value): Value | undefined {
  if (isObject(v)) return objGet(v, k);
  if (Array.isArray(v)) return typeof k === 'number' && Number.isInteger(k) && k >= 0 && k < v.length ? v[k] : undefined;
  if (isSet(v)) return v.has(k) ? k : undefined;
  return undefined;
}

/** object.get: an array key is a path into nested objects/arrays; [] yields the object itself. */
function objectGet(args: Value[]): Value {
  const obj = mustObject('object.get', args, 0);
  const key = args[1];
  const dflt = args[2];
  if (!Array.isArray(key)) {
    const v = objGet(obj, key);
    return v === undefined ? dflt : v;
  }
  let cur: Value = obj;
  for (const k of key) {
    const next = stepInto(cur, k);
    if (next === undefined) return dflt;
    cur = next;
  }
  return cur;
}

/** Recursive merge: b wins, except that two objects under the same key are merged. */
function unionObjects(a: ObjectValue, b: ObjectValue): ObjectValue {
  const out: [Value, Value][] = [];
  for (const [k, v] of objEntries(a)) {
    const w = objGet(b, k);
    if (w === undefined) out.push([k, v]);
    else out.push([k, isObject(v) && isObject(w) ? unionObjects(v, w) : w]);
  }
  for (const [k, w] of objEntries(b)) if (!objHas(a, k)) out.push([k, w]);
  return makeObject(out);
}

/**
 * object.subset(super, sub): objects recurse key by key; sets test membership; arrays test for a
 * contiguous run; an array super with a set sub tests membership. Anything else must be equal.
 */
function isSubset(sup: Value, sub: Value): boolean {
  if (isObject(sup) && isObject(sub)) {
    for (const [k, v] of objEntries(sub)) {
      const w = objGet(sup, k);
      if (w === undefined || !isSubset(w, v)) return false;
    }
    return true;
  }
  if (isSet(sup) && isSet(sub)) {
    for (const x of sub) if (!sup.has(x)) return false;
    return true;
  }
  if (Array.isArray(sup) && isSet(sub)) {
    const have = new RegoSet(sup);
    for (const x of sub) if (!have.has(x)) return false;
    return true;
  }
  if (Array.isArray(sup) && Array.isArray(sub)) {
    if (sub.length === 0) return true;
    for (let i = 0; i + sub.length <= sup.length; i++) {
      let ok = true;
      for (let j = 0; j < sub.length && ok; j++) ok = equals(sup[i + j], sub[j]);
      if (ok) return true;
    }
    return false;
  }
  return equals(sup, sub);
}

function objectSubset(args: Value[]): Value {
  const [sup, sub] = args;
  const kinds = (v: Value) => isObject(v) || isSet(v) || Array.isArray(v);
  if (!kinds(sup)) throw operandError('object.subset', 1, 'one of {object, set, array}', sup);
  if (!kinds(sub)) throw operandError('object.subset', 2, 'one of {object, set, array}', sub);
  const same = typeName(sup) === typeName(sub) || (Array.isArray(sup) && isSet(sub));
  if (!same) {
    throw new BuiltinError('object.subset: both arguments object.subset must be of the same type or array and set', 'type');
  }
  return isSubset(sup, sub);
}

/** walk: every [path, value] pair, pre-order; object keys and set members in OPA's sorted order. */
function walkAll(root: Value): Value[] {
  const out: Value[] = [];
  const visit = (v: Value, path: Value[]): void => {
    out.push([path, v]);
    if (Array.isArray(v)) {
      v.forEach((x, i) => visit(x, [...path, i]));
    } else if (isSet(v)) {
      for (const x of v.sorted()) visit(x, [...path, x]);
    } else if (isObject(v)) {
      for (const [k, x] of objEntries(v).sort((p, q) => compare(p[0], q[0]))) visit(x, [...path, k]);
    }
  };
  visit(root, []);
  return out;
}

/** Neighbours of a graph node: its array or set of edges (anything else has none). */
function edges(v: Value): Value[] {
  if (Array.isArray(v)) return v;
  if (isSet(v)) return v.sorted();
  return [];
}

function initialNodes(name: string, v: Value): Value[] {
  if (Array.isArray(v)) return v;
  if (isSet(v)) return v.sorted();
  throw operandError(name, 2, 'one of {array, set}', v);
}

/** Breadth-first from the initial nodes; nodes that are not keys of the graph are not reached. */
function reachable(args: Value[]): Value {
  const graph = mustObject('graph.reachable', args, 0);
  const queue = [...initialNodes('graph.reachable', args[1])];
  const reached = new RegoSet();
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i];
    if (reached.has(node)) continue;
    const out = objGet(graph, node);
    if (out === undefined) continue;
    reached.add(node);
    for (const n of edges(out)) if (!reached.has(n)) queue.push(n);
  }
  return reached;
}

/** Every path from an initial node to a node with no (unvisited) successors. */
function reachablePaths(args: Value[]): Value {
  const graph = mustObject('graph.reachable_paths', args, 0);
  const paths = new RegoSet();
  const extend = (node: Value, path: Value[]): void => {
    const out = objGet(graph, node);
    if (out === undefined) {
      if (path.length > 0) paths.add(path);
      return;
    }
    const here = [...path, node];
    const next = edges(out).filter((n) => !here.some((p) => equals(p, n)));
    if (next.length === 0) {
      paths.add(here);
      return;
    }
    for (const n of next) extend(n, here);
  };
  for (const start of initialNodes('graph.reachable_paths', args[1])) extend(start, []);
  return paths;
}

export const objectsBuiltins: readonly BuiltinSpec[] = [
  { name: 'object.get', category: 'objects', args: [OBJECT, 'any', 'any'], result: 'any', fn: objectGet },
  {
    name: 'object.remove',
    category: 'objects',
    args: [OBJECT, KEYS],
    result: OBJECT,
    fn: (args) => {
      const obj = mustObject('object.remove', args, 0);
      const drop = new RegoSet(keyList('object.remove', args[1]));
      return makeObject(objEntries(obj).filter(([k]) => !drop.has(k)));
    },
  },
  {
    name: 'object.filter',
    category: 'objects',
    args: [OBJECT, KEYS],
    result: OBJECT,
    fn: (args) => {
      const obj = mustObject('object.filter', args, 0);
      const keep = new RegoSet(keyList('object.filter', args[1]));
      return makeObject(objEntries(obj).filter(([k]) => keep.has(k)));
    },
  },
  {
    name: 'object.union',
    category: 'objects',
    args: [OBJECT, OBJECT],
    result: 'any',
    fn: (args) => unionObjects(mustObject('object.union', args, 0), mustObject('object.union', args, 1)),
  },
  {
    name: 'object.union_n',
    category: 'objects',
    args: [{ array: OBJECT }],
    result: 'any',
    fn: (args) => {
      let acc: ObjectValue = makeObject([]);
      for (const o of mustArray('object.union_n', args, 0)) {
        if (!isObject(o)) {
          throw new BuiltinError(`object.union_n: operand 1 must be array of objects but got array containing ${typeName(o)}`, 'type');
        }
        acc = unionObjects(acc, o);
      }
      return acc;
    },
  },
  {
    name: 'object.keys',
    category: 'objects',
    args: [OBJECT],
    result: { set: 'any' },
    fn: (args) => new RegoSet(objKeys(mustObject('object.keys', args, 0))),
  },
  { name: 'object.subset', category: 'objects', args: [COLLECTION, COLLECTION], result: 'any', fn: objectSubset },
  { name: 'walk', category: 'objects', args: ['any'], result: { array: 'any' }, relation: true, fn: (args) => walkAll(args[0]) },
  {
    name: 'graph.reachable',
    category: 'objects',
    args: [{ object: ['any', { anyOf: [{ array: 'any' }, { set: 'any' }] }] }, { anyOf: [{ array: 'any' }, { set: 'any' }] }],
    result: { set: 'any' },
    fn: reachable,
  },
  {
    name: 'graph.reachable_paths',
    category: 'objects',
    args: [{ object: ['any', { anyOf: [{ array: 'any' }, { set: 'any' }] }] }, { anyOf: [{ array: 'any' }, { set: 'any' }] }],
    result: { set: { array: 'any' } },
    fn: reachablePaths,
  },
];
