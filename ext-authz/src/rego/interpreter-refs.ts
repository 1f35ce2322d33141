// Interpreter: the data document — base data merged with the virtual documents of rule groups
// (Rego reference "Documents"), refs into it (with iteration over keys), `with data...` overrides,
// and the per-environment cache of rule values (complete, partial set, partial object rules).
import { RegoError } from './errors';
import * as V from './value';
import type { Value } from './value';
import type { CRef, CTerm, RuleGroup, TreeNode } from './compiler-types';
import * as S from './interpreter-state';
import type { DataOverride, Env, EvalHost as Evaluation, Frame, VK } from './interpreter-state';

// Hot imports bound to locals once (under CommonJS each imported-name use is an exports getter call).
const { RegoObject, RegoSet, compare, compareStrings, equals, isObject, objEntries, objGet, valueKey } = V;
const ND: typeof S.ND = S.ND;
const buildObject = S.buildObject;

const UNDEF = Symbol('undefined');
/** The frame of a rule without variables: never written, so one shared array serves them all. */
const NO_SLOTS: Frame = [];
const BUSY = Symbol('busy');

// ---- plain values -------------------------------------------------------------------------------

export function indexValue(v: Value, key: Value): Value | undefined {
  if (Array.isArray(v)) return typeof key === 'number' && Number.isInteger(key) && key >= 0 ? v[key] : undefined;
  if (v instanceof RegoSet) return v.has(key) ? key : undefined;
  if (isObject(v)) return objGet(v, key);
  return undefined;
}

const sortedKeysCache = new WeakMap<object, string[]>();

/** Calls fn(key, value) for each member in OPA's order; stops (returns true) when fn does. */
export function iterate(c: Value, fn: (k: Value, v: Value) => boolean): boolean {
  if (Array.isArray(c)) {
    for (let i = 0; i < c.length; i++) if (fn(i, c[i])) return true;
    return false;
  }
  if (c instanceof RegoSet) {
    for (const x of c.sorted()) if (fn(x, x)) return true;
    return false;
  }
  if (c instanceof RegoObject) {
    const es = objEntries(c).sort((a, b) => compare(a[0], b[0]));
    for (const [k, v] of es) if (fn(k, v)) return true;
    return false;
  }
  if (isObject(c)) {
    // Object keys iterate sorted, like OPA; plain (JSON) objects are immutable, so cache the order.
    let keys = sortedKeysCache.get(c);
    if (!keys) {
      keys = Object.keys(c).sort(compareStrings);
      sortedKeysCache.set(c, keys);
    }
    for (const k of keys) if (fn(k, (c as Record<string, Value>)[k])) return true;
  }
  return false;
}

/** Copy-on-write set of value at path (creating objects on the way), as `with input.a.b` needs. */
export function upsert(v: Value | undefined, path: string[], x: Value, i = 0): Value {
  if (i === path.length) return x;
  const entries: [Value, Value][] = v !== undefined && isObject(v) ? objEntries(v) : [];
  const old = v !== undefined && isObject(v) ? objGet(v, path[i]) : undefined;
  const nv = upsert(old, path, x, i + 1);
  const idx = entries.findIndex((e) => e[0] === path[i]);
  if (idx >= 0) entries[idx] = [path[i], nv];
  else entries.push([path[i], nv]);
  return buildObject(entries);
}

function startsWith(p: string[], prefix: string[]): boolean {
  if (p.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (p[i] !== prefix[i]) return false;
  return true;
}

/** Applies the overrides at or below `at` to v, in order. */
function applyOv(v: Value | undefined, at: string[], ovs: DataOverride[]): Value | undefined {
  for (const o of ovs) {
    if (o.path.length === at.length && startsWith(o.path, at)) v = o.value;
    else if (startsWith(o.path, at)) v = upsert(v, o.path.slice(at.length), o.value);
  }
  return v;
}

function hasExact(at: string[], ovs: DataOverride[]): boolean {
  return ovs.some((o) => o.path.length === at.length && startsWith(o.path, at));
}

// ---- rule groups --------------------------------------------------------------------------------

/** The value of a rule group in env, computed once per environment. */
export function groupValue(ev: Evaluation, env: Env, g: RuleGroup): Value | undefined {
  // Constant groups are shared by all evaluations (per strict flag) unless `with` changes the world.
  const cache = g.constant === true && env.dataOv === null && env.mocks === null ? ev.constCache : env.cache;
  const c = cache.get(g.id);
  if (c !== undefined) {
    if (c === UNDEF) return undefined;
    if (c === BUSY) throw new RegoError('rego_recursion_error', `rule ${g.name} is recursive`);
    return c as Value;
  }
  cache.set(g.id, BUSY);
  let v: Value | undefined;
  try {
    v = computeGroup(ev, env, g);
  } catch (e) {
    cache.set(g.id, undefined);
    throw e;
  }
  cache.set(g.id, v === undefined ? UNDEF : v);
  return v;
}

function computeGroup(ev: Evaluation, env: Env, g: RuleGroup): Value | undefined {
  switch (g.kind) {
    case 'function':
      return undefined;
    case 'complete': {
      let out: Value | undefined;
      for (const r of g.rules) {
        if (r.constValue !== undefined) {
          if (out === undefined) out = r.constValue;
          else if (!equals(out, r.constValue)) throw conflict(r.loc);
          continue;
        }
        const f = r.nslots === 0 ? NO_SLOTS : new Array(r.nslots);
        const sv = ev.straightClauses(env, r.clauses, f);
        if (sv !== ND) {
          if (sv === undefined) continue;
          if (out === undefined) out = sv;
          else if (!equals(out, sv)) throw conflict(r.loc);
          continue;
        }
        ev.ruleClauses(env, r.clauses, f, (v) => {
          if (out === undefined) out = v;
          else if (!equals(out, v)) throw conflict(r.loc);
          return false;
        }, ev.resumeAt);
      }
      if (out === undefined && g.defaultRule) {
        const d = g.defaultRule;
        out = d.constValue ?? ev.value(env, d.clauses[0].value, new Array(d.nslots));
      }
      return out;
    }
    case 'set': {
      const out = new RegoSet();
      for (const r of g.rules) {
        ev.ruleClauses(env, r.clauses, r.nslots === 0 ? NO_SLOTS : new Array(r.nslots), (v) => (out.add(v), false));
      }
      return out;
    }
    case 'object': {
      const root = new Builder();
      for (const r of g.rules) {
        const f: Frame = new Array(r.nslots);
        const keys = r.keys!;
        const value = r.clauses[0].value;
        const kv: Value[] = new Array(keys.length);
        const insert = r.setLeaf
          ? (): boolean => (root.insert(kv.slice(0, -1), kv[kv.length - 1], r.loc, 0, true), false)
          : (): boolean =>
              ev.evalTerm(env, value, f, (v) => {
                root.insert(kv, v, r.loc);
                return false;
              });
        const evalKeys = (i: number): boolean =>
          i === keys.length ? insert() : ev.evalTerm(env, keys[i], f, (x) => ((kv[i] = x), evalKeys(i + 1)));
        ev.evalBody(env, r.clauses[0].body, 0, f, () => evalKeys(0));
      }
      if (g.extra) {
        const loc = g.rules[0]?.loc;
        for (const [name, child] of g.extra) {
          if (child.group?.kind === 'function') continue;
          const v = child.group ? groupValue(ev, env, child.group) : subtreeValue(ev, env, child, undefined);
          if (v !== undefined) root.insert([name], v, loc);
        }
      }
      return root.finish();
    }
  }
}

function conflict(loc: RegoError['loc']): RegoError {
  return new RegoError('eval_conflict_error', 'complete rules must not produce multiple outputs', loc);
}

/** Builds a (nested) partial object, detecting conflicting keys. */
class Builder {
  private readonly m = new Map<unknown, [Value, Value | Builder]>();

  /** Sets at the leaves of multi-value ref-head rules, still being filled. */
  private static readonly building = new WeakSet<V.RegoSet>();

  insert(keys: Value[], v: Value, loc: RegoError['loc'], i = 0, member = false): void {
    const k = keys[i];
    const id = valueKey(k);
    const cur = this.m.get(id);
    if (member && i === keys.length - 1) {
      let set = cur?.[1];
      if (set === undefined) {
        set = new RegoSet();
        Builder.building.add(set);
        this.m.set(id, [k, set]);
      } else if (!(set instanceof RegoSet && Builder.building.has(set))) {
        throw new RegoError('eval_conflict_error', 'object keys must be unique', loc);
      }
      set.add(v);
      return;
    }
    if (i === keys.length - 1) {
      if (cur !== undefined && (cur[1] instanceof Builder || !equals(cur[1], v))) {
        throw new RegoError('eval_conflict_error', 'object keys must be unique', loc);
      }
      this.m.set(id, [k, v]);
      return;
    }
    let child = cur?.[1];
    if (child === undefined) {
      child = new Builder();
      this.m.set(id, [k, child]);
    } else if (!(child instanceof Builder)) throw new RegoError('eval_conflict_error', 'object keys must be unique', loc);
    child.insert(keys, v, loc, i + 1, member);
  }

  finish(): Value {
    const entries: [Value, Value][] = [];
    for (const [k, v] of this.m.values()) entries.push([k, v instanceof Builder ? v.finish() : v]);
    return buildObject(entries);
  }
}

// ---- the data tree ------------------------------------------------------------------------------

/** The whole document at a tree node: base data merged with every rule value below it. */
function subtreeValue(ev: Evaluation, env: Env, node: TreeNode, base: Value | undefined): Value {
  const entries: [Value, Value][] = base !== undefined && isObject(base) ? objEntries(base) : [];
  for (const [name, child] of node.children) {
    let v: Value | undefined;
    if (child.group) {
      if (child.group.kind === 'function') continue;
      v = groupValue(ev, env, child.group);
    } else {
      v = subtreeValue(ev, env, child, base !== undefined && isObject(base) ? objGet(base, name) : undefined);
    }
    if (v === undefined) continue;
    const idx = entries.findIndex((e) => e[0] === name);
    if (idx >= 0) entries[idx] = [name, v];
    else entries.push([name, v]);
  }
  let out: Value = buildObject(entries);
  if (env.dataOv) out = applyOv(out, node.path, env.dataOv)!;
  return out;
}

/** OPA quirk: a data ref's integer operand finds the string key of a base document (`data.x[2]`). */
function baseKey(v: Value, key: Value): Value {
  return typeof key === 'number' && isObject(v) && !(v instanceof RegoObject) ? String(key) : key;
}

/**
 * Data ref, hot path: starts where the compiler resolved the constant prefix and evaluates the other
 * operands directly. ND when an operand iterates or `with data` overrides are active.
 */
export function directDataFrom(ev: Evaluation, env: Env, t: CRef, f: Frame): Value | undefined | typeof ND {
  const st = t.start;
  if (env.dataOv !== null || st === undefined) return ND;
  const path = t.path;
  let i = st.from;
  let node = st.node;
  let base = st.base;
  if (node !== null) {
    for (;;) {
      if (node.group !== undefined) {
        base = groupValue(ev, env, node.group);
        break;
      }
      if (i === path.length) return subtreeValue(ev, env, node, base);
      const op = path[i];
      const key = op.k === 'val' ? op.v : ev.direct(env, op, f);
      if (key === ND || key === undefined) return key;
      i++;
      const child: TreeNode | undefined = typeof key === 'string' ? node.children.get(key) : undefined;
      base = base !== undefined && isObject(base) ? objGet(base, baseKey(base, key)) : undefined;
      if (child === undefined) break;
      node = child;
    }
  }
  for (; i < path.length; i++) {
    if (base === undefined) return undefined;
    const op = path[i];
      const key = op.k === 'val' ? op.v : ev.direct(env, op, f);
    if (key === ND || key === undefined) return key;
    base = indexValue(base, baseKey(base, key));
  }
  return base;
}

/** Data ref with iteration: unbound operands range over rule names, base keys and values. */
export function evalDataRef(ev: Evaluation, env: Env, t: CRef, f: Frame, k: VK): boolean {
  const st = t.start;
  if (env.dataOv === null && st !== undefined) {
    if (st.node === null) return st.base === undefined ? false : ev.walkValue(env, st.base, t.path, st.from, f, k);
    return walkData(ev, env, st.node, st.base, t.path, st.from, f, k);
  }
  return walkData(ev, env, ev.prog.tree, ev.base, t.path, 0, f, k);
}

function walkData(ev: Evaluation, env: Env, node: TreeNode, base: Value | undefined, path: CTerm[], i: number, f: Frame, k: VK): boolean {
  for (;;) {
    const ovs = env.dataOv;
    if (ovs && hasExact(node.path, ovs)) {
      const v = applyOv(undefined, node.path, ovs);
      return v === undefined ? false : ev.walkValue(env, v, path, i, f, k);
    }
    if (node.group) {
      if (node.group.kind === 'function') return false;
      let v = groupValue(ev, env, node.group);
      if (ovs) v = applyOv(v, node.path, ovs);
      return v === undefined ? false : ev.walkValue(env, v, path, i, f, k);
    }
    if (i === path.length) return k(subtreeValue(ev, env, node, base));
    const op = path[i];
    const key = ev.direct(env, op, f);
    if (key === undefined) return false;
    if (key === ND) {
      const keys = new Set<string>();
      for (const [name, c] of node.children) if (c.group?.kind !== 'function') keys.add(name);
      const extra: Value[] = [];
      if (base !== undefined && isObject(base)) {
        for (const [bk] of objEntries(base)) {
          if (typeof bk === 'string') keys.add(bk);
          else extra.push(bk);
        }
      }
      if (ovs) for (const o of ovs) if (o.path.length > node.path.length && startsWith(o.path, node.path)) keys.add(o.path[node.path.length]);
      const all: Value[] = [...keys].sort(compareStrings);
      all.push(...extra.sort(compare));
      const n = node;
      const b = base;
      for (const kk of all) {
        if (ev.unifyValue(env, op, kk, f, () => step(ev, env, n, b, kk, path, i + 1, f, k))) return true;
      }
      return false;
    }
    const child = typeof key === 'string' ? node.children.get(key) : undefined;
    if (!child) return step(ev, env, node, base, key, path, i + 1, f, k);
    node = child;
    base = base !== undefined && isObject(base) ? objGet(base, key) : undefined;
    i++;
  }
}

function step(ev: Evaluation, env: Env, node: TreeNode, base: Value | undefined, key: Value, path: CTerm[], i: number, f: Frame, k: VK): boolean {
  const child = typeof key === 'string' ? node.children.get(key) : undefined;
  const bchild = base !== undefined && isObject(base) ? objGet(base, baseKey(base, key)) : undefined;
  if (child) return walkData(ev, env, child, bchild, path, i, f, k);
  let v = bchild;
  if (env.dataOv && typeof key === 'string') v = applyOv(v, [...node.path, key], env.dataOv);
  return v === undefined ? false : ev.walkValue(env, v, path, i, f, k);
}
