// Interpreter state shared by its modules: frames, continuations, environments, rule-value caches, and
// the evaluation surface interpreter-refs.ts calls back into (so the modules import only downwards:
// interpreter → interpreter-refs → interpreter-state; nothing here imports the compiler's code).
import type { CallTarget, CBody, CClause, CTerm, Program } from './compiler-types';
import { makeObject, type PlainObject, type Value } from './value';

export type Frame = (Value | undefined)[];
/** Continuation after a body or expression succeeded: return true to stop searching. */
export type K = () => boolean;
/** Continuation receiving a value. */
export type VK = (v: Value) => boolean;

/** Sentinel: the term cannot be evaluated directly (it iterates); use the CPS path. */
export const ND: unique symbol = Symbol('nondeterministic');
export type Direct = Value | undefined | typeof ND;

export interface Mock {
  value?: Value;
  target?: CallTarget;
}

/**
 * Rule-group values by group id. Entries are valid only for the current generation, so a cache is
 * reused across evaluations by bumping `gen` instead of allocating and clearing arrays.
 */
export class GroupCache {
  private readonly vals: unknown[];
  private readonly epoch: Uint32Array;
  private gen = 1;
  constructor(n: number) {
    this.vals = new Array(n);
    this.epoch = new Uint32Array(n);
  }
  get(id: number): unknown {
    return this.epoch[id] === this.gen ? this.vals[id] : undefined;
  }
  set(id: number, v: unknown): void {
    this.vals[id] = v;
    this.epoch[id] = this.gen;
  }
  reset(): void {
    if (++this.gen === 0xffffffff) {
      this.epoch.fill(0);
      this.gen = 1;
    }
  }
}

/**
 * The mutable caches of one prepared query, reused by its evaluations. The compiled Program never
 * holds them, so one Program can back any number of prepared queries.
 */
export class EvalCaches {
  /** Values of constant rule groups (no input, clock or `with`), per strict flag: [non-strict, strict]. */
  readonly constant: [GroupCache, GroupCache];
  private readonly root: GroupCache;
  private rootBusy = false;

  constructor(readonly ngroups: number) {
    this.constant = [new GroupCache(ngroups), new GroupCache(ngroups)];
    this.root = new GroupCache(ngroups);
  }

  /** The shared top-level cache, emptied, for one evaluation; undefined while another one holds it. */
  acquireRoot(): GroupCache | undefined {
    if (this.rootBusy) return undefined;
    this.rootBusy = true;
    this.root.reset();
    return this.root;
  }

  releaseRoot(): void {
    this.rootBusy = false;
  }
}

/** `with data.a.b as v`: replaces the document at path. */
export interface DataOverride {
  path: string[];
  value: Value;
}

/** What interpreter-refs.ts needs of an evaluation (implemented by interpreter.ts's Evaluation). */
export interface EvalHost {
  readonly prog: Program;
  /** The base data document (an empty object when the policy has none). */
  readonly base: Value;
  readonly constCache: GroupCache;
  /** Index of the clause a straightClauses call stopped at with ND. */
  readonly resumeAt: number;
  direct(env: Env, t: CTerm, f: Frame): Direct;
  value(env: Env, t: CTerm, f: Frame): Value | undefined;
  evalTerm(env: Env, t: CTerm, f: Frame, k: VK): boolean;
  evalBody(env: Env, body: CBody, i: number, f: Frame, k: K): boolean;
  walkValue(env: Env, v: Value, path: CTerm[], i: number, f: Frame, k: VK): boolean;
  unifyValue(env: Env, t: CTerm, v: Value, f: Frame, k: K): boolean;
  straightClauses(env: Env, clauses: CClause[], f: Frame): Value | undefined | typeof ND;
  ruleClauses(env: Env, clauses: CClause[], f: Frame, k: VK, from?: number): boolean;
}

/** Dynamic environment: changed by `with`, each with its own rule-value cache. */
export interface Env {
  input: Value | undefined;
  cache: GroupCache;
  dataOv: DataOverride[] | null;
  mocks: Map<string, Mock> | null;
}


/**
 * An object from entries, like value.ts makeObject, but string-keyed objects are `{}` literals: V8
 * keeps Object.create(null) objects in slow dictionary mode, and these are read on every evaluation.
 * Reads always go through objGet (own keys only), so the prototype is never consulted.
 */
export function buildObject(entries: Iterable<[Value, Value]>): Value {
  const list = Array.isArray(entries) ? (entries as [Value, Value][]) : [...entries];
  for (const [k] of list) if (typeof k !== 'string') return makeObject(list);
  const o: PlainObject = {};
  for (const [k, v] of list) {
    if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
    else o[k as string] = v;
  }
  return o;
}
