// Rego interpreter: top-down evaluation of compiled bodies with backtracking (continuation-passing:
// a continuation returns true to stop the search). Bindings live in per-rule frames and are undone on
// return, so no binding maps are copied. Implements unification, `not`, `with`, `every`, comprehensions.
import { BuiltinError, BuiltinHaltError, RegoError } from './errors';
import * as V from './value';
import type { PlainObject, Value } from './value';
import type { BuiltinSpec } from './builtins/registry';
import type { CBody, CCall, CClause, CExpr, CExprBody, CTerm, Program, RuleGroup } from './compiler-types';
import { EvalBuiltinContext, printText } from './interpreter-builtins';
import * as R from './interpreter-refs';
import * as S from './interpreter-state';
import type { Direct, Env, EvalCaches, EvalHost, Frame, GroupCache, K, VK } from './interpreter-state';

// Hot imports bound to locals once: when TypeScript runs as CommonJS (tsx), each use of an imported
// name is a getter call on the other module's exports, which costs measurably on this path.
const { RegoObject, RegoSet, compare, equals, isObject, objGet, objSize } = V;
const { evalDataRef, directDataFrom, upsert, iterate, indexValue } = R;
const ND: typeof S.ND = S.ND;
const buildObject = S.buildObject;

export type { Env, Frame, K, VK };

export interface EvalSettings {
  strict: boolean;
  nowNs?: bigint;
  maxSteps: number;
  deadlineMs?: number;
  print?: (s: string) => void;
}

const TRUE_K: K = () => true;
/** A clause whose body failed. */
const NO_MATCH: unique symbol = Symbol('no match');

/** Collects a function's output: every definition that succeeds must agree. */
class FnOutput {
  out: Value | undefined = undefined;
  constructor(private readonly call: CCall) {}
  take(v: Value): boolean {
    if (this.out === undefined) this.out = v;
    else if (!equals(this.out, v)) {
      throw new RegoError('eval_conflict_error', 'functions must not produce multiple outputs for same inputs', this.call.loc);
    }
    return false;
  }
}

export class Evaluation implements EvalHost {
  readonly ctx: EvalBuiltinContext;
  readonly base: Value;
  /** Values of constant rule groups, shared by every evaluation of the prepared query (same strict flag). */
  readonly constCache: GroupCache;
  private steps = 0;

  constructor(readonly prog: Program, readonly s: EvalSettings, private readonly caches: EvalCaches) {
    this.ctx = new EvalBuiltinContext(s.strict, s.nowNs, s.print);
    this.base = prog.data ?? Object.create(null);
    this.constCache = caches.constant[s.strict ? 1 : 0];
  }

  private ownsRoot = false;

  /** The top-level environment; reuses the prepared query's root cache unless another evaluation holds it. */
  rootEnv(input: Value | undefined): Env {
    const shared = this.caches.acquireRoot();
    this.ownsRoot = shared !== undefined;
    return { input, cache: shared ?? this.newCache(), dataOv: null, mocks: null };
  }

  /** Must be called when the evaluation ends (also on errors). */
  release(): void {
    if (this.ownsRoot) {
      this.caches.releaseRoot();
      this.ownsRoot = false;
    }
  }

  newCache(): GroupCache {
    return new S.GroupCache(this.prog.groups.length);
  }

  tick(): void {
    if (++this.steps > this.s.maxSteps) {
      throw new RegoError('eval_budget_exceeded', `evaluation exceeded ${this.s.maxSteps} steps`);
    }
    if (this.s.deadlineMs !== undefined && (this.steps & 255) === 0 && Date.now() > this.s.deadlineMs) {
      throw new RegoError('eval_budget_exceeded', 'evaluation deadline exceeded');
    }
  }

  // ---- bodies and expressions -------------------------------------------------------------------

  /** Slots bound by the fast path of evalBody, undone when that call returns. */
  private readonly trail: number[] = [];

  /**
   * Evaluates body[i..] then k. Expressions that neither iterate nor need `with` run in a loop
   * without continuations (their bindings go on the trail); the first other one switches to CPS.
   */
  evalBody(env: Env, body: CBody, i: number, f: Frame, k: K): boolean {
    const trail = this.trail;
    const mark = trail.length;
    let r: boolean;
    for (;;) {
      if (i === body.length) {
        r = k();
        break;
      }
      const e = body[i];
      const fast = this.fastExpr(env, e, f);
      if (fast === 1) {
        i++;
        continue;
      }
      if (fast === 0) {
        r = false;
        break;
      }
      const next = i + 1;
      if (e.e.k === 'somein' && !e.neg && e.withs === null) {
        const it = this.someIn(env, e.e, body, next, f, k);
        if (it !== 2) {
          r = it === 1;
          break;
        }
      }
      r = this.evalExpr(env, e, f, next === body.length ? k : () => this.evalBody(env, body, next, f, k));
      break;
    }
    while (trail.length > mark) f[trail.pop()!] = undefined;
    return r;
  }

  /**
   * `some k, v in xs` over a directly known collection with fresh variables: binds each member and
   * runs the rest of the body, without continuations. 1: stopped, 0: done, 2: needs the general path.
   */
  private someIn(env: Env, x: CExprBody & { k: 'somein' }, body: CBody, next: number, f: Frame, k: K): 0 | 1 | 2 {
    const key = x.key;
    const val = x.val;
    if (val.k !== 'var' || f[val.slot] !== undefined) return 2;
    if (key !== undefined && (key.k !== 'var' || f[key.slot] !== undefined || key.slot === val.slot)) return 2;
    const c = this.direct(env, x.coll, f);
    if (c === ND) return 2;
    this.tick();
    if (c === undefined) return 0;
    const vs = val.slot;
    const ks = key === undefined ? -1 : key.slot;
    const stop = iterate(c, (kk, vv) => {
      this.tick();
      f[vs] = vv;
      if (ks >= 0) f[ks] = kk;
      const r = this.evalBody(env, body, next, f, k);
      f[vs] = undefined;
      if (ks >= 0) f[ks] = undefined;
      return r;
    });
    return stop ? 1 : 0;
  }

  /** 1: the expression holds (bindings on the trail), 0: it fails, 2: needs the general path. */
  private fastExpr(env: Env, e: CExpr, f: Frame): 0 | 1 | 2 {
    if (e.withs !== null) return 2;
    const x = e.e;
    switch (x.k) {
      case 'term': {
        const d = this.direct(env, x.t, f);
        if (d === ND) return 2;
        this.tick();
        return (d !== undefined && d !== false) !== e.neg ? 1 : 0;
      }
      case 'unify':
        return this.fastUnify(env, x.a, x.b, e.neg, f);
      case 'callout':
        return this.fastUnify(env, x.out, x.call, e.neg, f);
      case 'noop':
        return e.neg ? 0 : 1;
      default:
        return 2;
    }
  }

  private fastUnify(env: Env, a: CTerm, b: CTerm, neg: boolean, f: Frame): 0 | 1 | 2 {
    let slot = -1;
    let other = b;
    if (a.k === 'var' && f[a.slot] === undefined) slot = a.slot;
    else if (b.k === 'var' && f[b.slot] === undefined) {
      slot = b.slot;
      other = a;
    }
    if (slot >= 0) {
      if (neg) return 2;
      const v = this.direct(env, other, f);
      if (v === ND) return 2;
      this.tick();
      if (v === undefined) return 0;
      f[slot] = v;
      this.trail.push(slot);
      return 1;
    }
    const va = this.direct(env, a, f);
    if (va === ND) return 2;
    const vb = this.direct(env, b, f);
    if (vb === ND) return 2;
    this.tick();
    const ok = va !== undefined && vb !== undefined && equals(va, vb);
    return ok !== neg ? 1 : 0;
  }

  /** Does the body have at least one solution? */
  succeeds(env: Env, body: CBody, f: Frame): boolean {
    return this.evalBody(env, body, 0, f, TRUE_K);
  }

  evalExpr(env: Env, e: CExpr, f: Frame, k: K): boolean {
    this.tick();
    if (e.withs !== null) {
      const inner = this.withEnv(env, e, f);
      if (inner === undefined) return false;
      if (e.neg) return this.evalCore(inner, e.e, f, TRUE_K) ? false : k();
      return this.evalCore(inner, e.e, f, k);
    }
    if (e.neg) return this.evalCore(env, e.e, f, TRUE_K) ? false : k();
    return this.evalCore(env, e.e, f, k);
  }

  private evalCore(env: Env, x: CExprBody, f: Frame, k: K): boolean {
    switch (x.k) {
      case 'term': {
        const d = this.direct(env, x.t, f);
        if (d !== ND) return d !== undefined && d !== false ? k() : false;
        return this.evalTerm(env, x.t, f, (v) => (v !== false ? k() : false));
      }
      case 'unify':
        return this.unify(env, x.a, x.b, f, k);
      case 'callout':
        return this.evalCall(env, x.call, f, (v) => this.unifyValue(env, x.out, v, f, k));
      case 'somein':
        return this.evalTerm(env, x.coll, f, (c) =>
          iterate(c, (key, val) =>
            x.key ? this.unifyValue(env, x.key, key, f, () => this.unifyValue(env, x.val, val, f, k)) : this.unifyValue(env, x.val, val, f, k),
          ),
        );
      case 'every':
        return this.evalTerm(env, x.domain, f, (c) => {
          const ok = !iterate(c, (key, val) => {
            const hold = x.key
              ? this.unifyValue(env, x.key, key, f, () => this.unifyValue(env, x.val, val, f, () => this.succeeds(env, x.body, f)))
              : this.unifyValue(env, x.val, val, f, () => this.succeeds(env, x.body, f));
            return !hold; // stop at the first member for which the body fails
          });
          return ok ? k() : false;
        });
      case 'noop':
        return k();
    }
  }

  /** Builds the environment of an expression with `with` modifiers; undefined if a value is. */
  private withEnv(env: Env, e: CExpr, f: Frame): Env | undefined {
    let input = env.input;
    let dataOv = env.dataOv;
    let mocks = env.mocks;
    for (const w of e.withs!) {
      if (w.k === 'fn') {
        mocks = new Map(mocks ?? []);
        if (w.target) mocks.set(w.key, { target: w.target });
        else {
          const v = this.value(env, w.value!, f);
          if (v === undefined) return undefined;
          mocks.set(w.key, { value: v });
        }
        continue;
      }
      const v = this.value(env, w.value, f);
      if (v === undefined) return undefined;
      if (w.k === 'input') input = w.path.length ? upsert(input, w.path, v) : v;
      else dataOv = [...(dataOv ?? []), { path: w.path, value: v }];
    }
    return { input, cache: this.newCache(), dataOv, mocks };
  }

  // ---- terms ------------------------------------------------------------------------------------

  /** The first value of a term (or undefined). */
  value(env: Env, t: CTerm, f: Frame): Value | undefined {
    const d = this.direct(env, t, f);
    if (d !== ND) return d;
    let out: Value | undefined;
    this.evalTerm(env, t, f, (v) => {
      out = v;
      return true;
    });
    return out;
  }

  /**
   * Evaluates a term that binds nothing (no unbound vars in ref operands) without continuations.
   * Returns ND when the term iterates.
   */
  direct(env: Env, t: CTerm, f: Frame): Direct {
    switch (t.k) {
      case 'val':
        return t.v;
      case 'var': {
        const v = f[t.slot];
        return v === undefined ? ND : v;
      }
      case 'ref': {
        // Under `with data...` the CPS walk applies the overrides.
        if (t.root === 'data') return env.dataOv === null ? directDataFrom(this, env, t, f) : ND;
        const path = t.path;
        let v: Direct;
        if (t.root === 'input') v = env.input;
        else {
          v = this.direct(env, t.head!, f);
          if (v === ND) return ND;
        }
        // Operands are evaluated even once the value is undefined: an iterating one means ND.
        for (let i = 0; i < path.length; i++) {
          const p = path[i];
          let kv: Direct;
          if (p.k === 'val') kv = p.v;
          else {
            kv = this.direct(env, p, f);
            if (kv === ND) return ND;
          }
          if (v !== undefined) v = kv === undefined ? undefined : indexValue(v, kv);
        }
        return v;
      }
      case 'arr': {
        const out: Value[] = new Array(t.items.length);
        for (let i = 0; i < t.items.length; i++) {
          const v = this.direct(env, t.items[i], f);
          if (v === ND || v === undefined) return v;
          out[i] = v;
        }
        return out;
      }
      case 'set': {
        const out = new RegoSet();
        for (const it of t.items) {
          const v = this.direct(env, it, f);
          if (v === ND || v === undefined) return v;
          out.add(v);
        }
        return out;
      }
      case 'obj': {
        // String keys (the usual case) go straight into a plain object; others need makeObject. A `{}`
        // literal (not Object.create(null), which V8 keeps in slow dictionary mode) gets a shared
        // hidden class for objects built the same way each time; reads go through objGet (own keys).
        let plain: PlainObject | undefined = {};
        let entries: [Value, Value][] | undefined;
        for (let i = 0; i < t.keys.length; i++) {
          const kv = this.direct(env, t.keys[i], f);
          if (kv === ND || kv === undefined) return kv;
          const vv = this.direct(env, t.vals[i], f);
          if (vv === ND || vv === undefined) return vv;
          if (plain !== undefined && typeof kv === 'string') {
            if (kv === '__proto__') Object.defineProperty(plain, kv, { value: vv, enumerable: true, writable: true, configurable: true });
            else plain[kv] = vv;
          }
          else {
            if (entries === undefined) {
              entries = plain === undefined ? [] : Object.keys(plain).map((k) => [k, plain![k]] as [Value, Value]);
              plain = undefined;
            }
            entries.push([kv, vv]);
          }
        }
        return entries === undefined ? plain! : buildObject(entries);
      }
      case 'call': {
        if (t.cmp !== undefined && t.cmp !== 0 && env.mocks === null) {
          // Comparisons are total over values (no errors): no argument array, no registry call.
          const x = t.args[0];
          const y = t.args[1];
          const a = x.k === 'val' ? x.v : this.direct(env, x, f);
          if (a === ND || a === undefined) return a;
          const b = y.k === 'val' ? y.v : this.direct(env, y, f);
          if (b === ND || b === undefined) return b;
          switch (t.cmp) {
            case 1:
              return equals(a, b);
            case 2:
              return !equals(a, b);
            case 3:
              return compare(a, b) < 0;
            case 4:
              return compare(a, b) <= 0;
            case 5:
              return compare(a, b) > 0;
            default:
              return compare(a, b) >= 0;
          }
        }
        if (t.fn.k === 'print') return ND;
        if (t.fn.k === 'builtin' && t.fn.spec.relation) return ND;
        const args: Value[] = new Array(t.args.length);
        for (let i = 0; i < t.args.length; i++) {
          const v = this.direct(env, t.args[i], f);
          if (v === ND || v === undefined) return v;
          args[i] = v;
        }
        return this.callValue(env, t, args);
      }
      case 'acomp':
      case 'scomp':
      case 'ocomp':
        return this.comprehension(env, t, f);
    }
  }

  private comprehension(env: Env, t: CTerm & { k: 'acomp' | 'scomp' | 'ocomp' }, f: Frame): Value {
    if (t.k === 'acomp') {
      const out: Value[] = [];
      this.evalBody(env, t.body, 0, f, () => {
        const v = this.direct(env, t.term, f);
        if (v !== ND) return (v !== undefined && out.push(v), false);
        return this.evalTerm(env, t.term, f, (w) => (out.push(w), false));
      });
      return out;
    }
    if (t.k === 'scomp') {
      const out = new RegoSet();
      this.evalBody(env, t.body, 0, f, () => {
        const v = this.direct(env, t.term, f);
        if (v !== ND) return (v !== undefined && out.add(v), false);
        return this.evalTerm(env, t.term, f, (w) => (out.add(w), false));
      });
      return out;
    }
    const out = new RegoObject();
    this.evalBody(env, t.body, 0, f, () =>
      this.evalTerm(env, t.key, f, (kv) =>
        this.evalTerm(env, t.val, f, (vv) => {
          const old = out.get(kv);
          if (old !== undefined && !equals(old, vv)) {
            throw new RegoError('eval_conflict_error', 'object keys must be unique', undefined);
          }
          out.set(kv, vv);
          return false;
        }),
      ),
    );
    return buildObject(out.entries());
  }

  /** Evaluates a term, calling k with each of its values (refs with unbound vars iterate). */
  evalTerm(env: Env, t: CTerm, f: Frame, k: VK): boolean {
    const d = this.direct(env, t, f);
    if (d !== ND) return d === undefined ? false : k(d);
    switch (t.k) {
      case 'ref':
        if (t.root === 'data') return evalDataRef(this, env, t, f, k);
        if (t.root === 'input') return env.input === undefined ? false : this.walkValue(env, env.input, t.path, 0, f, k);
        return this.evalTerm(env, t.head!, f, (h) => this.walkValue(env, h, t.path, 0, f, k));
      case 'arr':
        return this.evalList(env, t.items, 0, new Array(t.items.length), f, (vs) => k(vs.slice()));
      case 'set':
        return this.evalList(env, t.items, 0, new Array(t.items.length), f, (vs) => k(new RegoSet(vs)));
      case 'obj': {
        const n = t.keys.length;
        return this.evalList(env, [...t.keys, ...t.vals], 0, new Array(2 * n), f, (vs) =>
          k(buildObject(vs.slice(0, n).map((kv, i) => [kv, vs[n + i]] as [Value, Value]))),
        );
      }
      case 'call':
        return this.evalCall(env, t, f, k);
      default:
        return false;
    }
  }

  private evalList(env: Env, items: CTerm[], i: number, out: Value[], f: Frame, k: (vs: Value[]) => boolean): boolean {
    if (i === items.length) return k(out);
    return this.evalTerm(env, items[i], f, (v) => {
      out[i] = v;
      return this.evalList(env, items, i + 1, out, f, k);
    });
  }

  /** Follows ref operands from value v; unbound operands iterate and bind. */
  walkValue(env: Env, v: Value, path: CTerm[], i: number, f: Frame, k: VK): boolean {
    for (; i < path.length; i++) {
      const op = path[i];
      const key = this.direct(env, op, f);
      if (key === ND || (key === undefined && op.k === 'var')) {
        const next = i + 1;
        return iterate(v, (kk, vv) => this.unifyValue(env, op, kk, f, () => this.walkValue(env, vv, path, next, f, k)));
      }
      if (key === undefined) return false;
      const nv = indexValue(v, key);
      if (nv === undefined) return false;
      v = nv;
    }
    return k(v);
  }

  // ---- unification ------------------------------------------------------------------------------

  unify(env: Env, a: CTerm, b: CTerm, f: Frame, k: K): boolean {
    if (a.k === 'var') {
      const cur = f[a.slot];
      if (cur === undefined) return this.evalTerm(env, b, f, (v) => this.bind(a.slot, v, f, k));
      return this.unifyValue(env, b, cur, f, k);
    }
    if (b.k === 'var') return this.unify(env, b, a, f, k);
    if (a.k === 'arr' && b.k === 'arr') {
      if (a.items.length !== b.items.length) return false;
      return this.unifyPairs(env, a.items, b.items, 0, f, k);
    }
    if (a.k === 'obj' && b.k === 'obj') {
      if (a.keys.length !== b.keys.length) return false;
      const order: number[] = [];
      for (let i = 0; i < a.keys.length; i++) {
        const ka = this.value(env, a.keys[i], f);
        const j = b.keys.findIndex((kb) => {
          const v = this.value(env, kb, f);
          return v !== undefined && ka !== undefined && equals(v, ka);
        });
        if (j < 0) return false;
        order.push(j);
      }
      return this.unifyPairs(env, a.vals, order.map((j) => b.vals[j]), 0, f, k);
    }
    if (this.hasUnbound(a, f)) return this.evalTerm(env, b, f, (v) => this.unifyValue(env, a, v, f, k));
    return this.evalTerm(env, a, f, (v) => this.unifyValue(env, b, v, f, k));
  }

  private unifyPairs(env: Env, as: CTerm[], bs: CTerm[], i: number, f: Frame, k: K): boolean {
    if (i === as.length) return k();
    return this.unify(env, as[i], bs[i], f, () => this.unifyPairs(env, as, bs, i + 1, f, k));
  }

  private hasUnbound(t: CTerm, f: Frame): boolean {
    if (t.k === 'var') return f[t.slot] === undefined;
    if (t.k === 'arr') return t.items.some((x) => this.hasUnbound(x, f));
    if (t.k === 'obj') return t.vals.some((x) => this.hasUnbound(x, f));
    return false;
  }

  private bind(slot: number, v: Value, f: Frame, k: K): boolean {
    // Every iteration binds something, so counting bindings bounds loops that run no expressions.
    this.tick();
    f[slot] = v;
    const r = k();
    f[slot] = undefined;
    return r;
  }

  /** Unifies a term (a pattern or any term) with a value. */
  unifyValue(env: Env, t: CTerm, v: Value, f: Frame, k: K): boolean {
    switch (t.k) {
      case 'var': {
        const cur = f[t.slot];
        if (cur === undefined) return this.bind(t.slot, v, f, k);
        return equals(cur, v) ? k() : false;
      }
      case 'val':
        return equals(t.v, v) ? k() : false;
      case 'arr':
        if (!Array.isArray(v) || v.length !== t.items.length) return false;
        return this.unifyItems(env, t.items, v, 0, f, k);
      case 'obj': {
        if (!isObject(v) || objSize(v) !== t.keys.length) return false;
        const vals: Value[] = [];
        for (const kt of t.keys) {
          const kv = this.value(env, kt, f);
          const w = kv === undefined ? undefined : objGet(v, kv);
          if (w === undefined) return false;
          vals.push(w);
        }
        return this.unifyItems(env, t.vals, vals, 0, f, k);
      }
      default:
        return this.evalTerm(env, t, f, (w) => (equals(w, v) ? k() : false));
    }
  }

  private unifyItems(env: Env, ts: CTerm[], vs: Value[], i: number, f: Frame, k: K): boolean {
    if (i === ts.length) return k();
    return this.unifyValue(env, ts[i], vs[i], f, () => this.unifyItems(env, ts, vs, i + 1, f, k));
  }

  // ---- calls ------------------------------------------------------------------------------------

  evalCall(env: Env, t: CCall, f: Frame, k: VK): boolean {
    if (t.fn.k === 'print' && (env.mocks === null || !env.mocks.has('print'))) {
      const parts = t.args.map((a) => printText(this.value(env, a, f)));
      this.ctx.print(parts.join(' '));
      return k(true);
    }
    return this.evalList(env, t.args, 0, new Array(t.args.length), f, (args) => this.invoke(env, t, args, k));
  }

  /** A call's single result (relations are never called this way). */
  callValue(env: Env, t: CCall, args: Value[]): Value | undefined {
    const fn = t.fn;
    if (env.mocks === null && fn.k === 'builtin') return this.builtinValue(fn.spec, args, t);
    if (env.mocks === null && fn.k === 'func') return this.functionValue(env, fn.group, args, t);
    let out: Value | undefined;
    this.invoke(env, t, args, (v) => {
      out = v;
      return true;
    });
    return out;
  }

  private builtinValue(spec: BuiltinSpec, args: Value[], t: CCall): Value | undefined {
    switch (spec.name) {
      // Comparisons are total over values: no errors, so they skip the registry.
      case 'equal':
        return equals(args[0], args[1]);
      case 'neq':
        return !equals(args[0], args[1]);
      case 'lt':
        return compare(args[0], args[1]) < 0;
      case 'lte':
        return compare(args[0], args[1]) <= 0;
      case 'gt':
        return compare(args[0], args[1]) > 0;
      case 'gte':
        return compare(args[0], args[1]) >= 0;
    }
    try {
      return spec.fn(args, this.ctx);
    } catch (e) {
      if (e instanceof BuiltinError) {
        if (this.s.strict) throw new RegoError(e.kind === 'type' ? 'eval_type_error' : 'eval_builtin_error', e.message, t.loc);
        return undefined;
      }
      if (e instanceof BuiltinHaltError) throw e.regoError;
      if (e instanceof RegoError) throw e;
      if (this.s.strict) throw new RegoError('eval_builtin_error', `${spec.name}: ${(e as Error).message}`, t.loc);
      return undefined;
    }
  }

  /** Calls the target (or its `with` mock) on evaluated arguments. */
  invoke(env: Env, t: CCall, args: Value[], k: VK): boolean {
    let fn = t.fn;
    if (env.mocks !== null) {
      const m = env.mocks.get(fn.key);
      if (m) {
        if (m.value !== undefined) return k(m.value);
        fn = m.target!;
        // A replacement function sees no mocks: calling the mocked name inside it reaches the original.
        if (fn.k === 'func') env = { input: env.input, cache: this.newCache(), dataOv: env.dataOv, mocks: null };
      }
    }
    if (fn.k === 'func') return this.callFunction(env, fn.group, args, t, k);
    if (fn.k === 'print') {
      this.ctx.print(args.map(printText).join(' '));
      return k(true);
    }
    const spec = fn.spec;
    const r = this.builtinValue(spec, args, t);
    if (r === undefined) return false;
    if (spec.relation) {
      if (!Array.isArray(r)) return false;
      for (const x of r) if (k(x)) return true;
      return false;
    }
    return k(r);
  }

  callFunction(env: Env, g: RuleGroup, args: Value[], t: CCall, k: VK): boolean {
    const v = this.functionValue(env, g, args, t);
    return v === undefined ? false : k(v);
  }

  /** Evaluates every definition of a function; all that succeed must agree on the output. */
  functionValue(env: Env, g: RuleGroup, args: Value[], t: CCall): Value | undefined {
    const c = new FnOutput(t);
    const n = g.rules.length;
    for (let i = 0; i <= n; i++) {
      const r = i < n ? g.rules[i] : g.defaultRule;
      if (r === undefined || (i === n && c.out !== undefined)) break;
      let f: Frame = new Array(r.nslots);
      const bound = this.bindArgs(r.args!, args, f);
      if (bound === 1) {
        const v = this.straightClauses(env, r.clauses, f);
        if (v === ND) this.ruleClauses(env, r.clauses, f, (w) => c.take(w), this.resumeAt);
        else if (v !== undefined) c.take(v);
      }
      else if (bound === 2) {
        f = new Array(r.nslots);
        const fr = f;
        this.unifyItems(env, r.args!, args, 0, fr, () => this.ruleClauses(env, r.clauses, fr, (v) => c.take(v)));
      }
    }
    return c.out;
  }

  /** Binds plain-variable argument patterns into a fresh frame: 1 done, 0 no match, 2 needs unification. */
  private bindArgs(pats: CTerm[], args: Value[], f: Frame): 0 | 1 | 2 {
    for (let i = 0; i < pats.length; i++) {
      const p = pats[i];
      if (p.k === 'var') {
        const cur = f[p.slot];
        if (cur === undefined) f[p.slot] = args[i];
        else if (!equals(cur, args[i])) return 0;
      } else if (p.k === 'val') {
        if (!equals(p.v, args[i])) return 0;
      } else return 2;
    }
    return 1;
  }

  /**
   * Main body, then each else clause until one gives a value; each of its values goes to k. A clause
   * whose body holds but whose head value is undefined gives none, so the next clause is tried: OPA
   * moves a head that needs evaluation into the body (the rule then fails and its `else` applies).
   */
  ruleClauses(env: Env, clauses: CClause[], f: Frame, k: VK, from = 0): boolean {
    for (let ci = from; ci < clauses.length; ci++) {
      const c = clauses[ci];
      const s = this.straightClause(env, c, f);
      if (s === ND) {
        // The general path: the body iterates or needs `with`.
        let found = false;
        const constant = c.value.k === 'val';
        const stop = this.evalBody(env, c.body, 0, f, () =>
          this.evalTerm(env, c.value, f, (v) => {
            found = true;
            return k(v) || constant;
          }),
        );
        if (found) return stop && !constant;
        if (stop) return true;
        continue;
      }
      if (s === NO_MATCH) continue;
      return k(s);
    }
    return false;
  }

  /** Index of the clause a straightClauses call stopped at with ND. */
  resumeAt = 0;

  /**
   * Straight-line evaluation of a rule's clauses (bodies of lookups and comparisons, the usual
   * else-chain): the value of the first clause that gives one, undefined when none does, or ND with
   * `resumeAt` set when a clause needs the general path (ruleClauses).
   */
  straightClauses(env: Env, clauses: CClause[], f: Frame): Value | undefined | typeof ND {
    for (let ci = 0; ci < clauses.length; ci++) {
      const s = this.straightClause(env, clauses[ci], f);
      if (s === NO_MATCH) continue;
      if (s === ND) this.resumeAt = ci;
      return s;
    }
    return undefined;
  }

  /**
   * One clause without continuations: its value, NO_MATCH (the body fails or the head value is
   * undefined), or ND (bindings are undone either way).
   */
  private straightClause(env: Env, c: CClause, f: Frame): Value | typeof ND | typeof NO_MATCH {
    const trail = this.trail;
    const mark = trail.length;
    const body = c.body;
    let res: 0 | 1 | 2 = 1;
    for (let i = 0; i < body.length && res === 1; i++) res = this.fastExpr(env, body[i], f);
    let out: Value | typeof ND | typeof NO_MATCH = res === 0 ? NO_MATCH : ND;
    if (res === 1) {
      const v = this.direct(env, c.value, f);
      out = v === undefined ? NO_MATCH : v; // not `??`: null is a value
    }
    while (trail.length > mark) f[trail.pop()!] = undefined;
    return out;
  }
}
