// Interpreter state shared by its modules: frames, continuations, environments and rule-value caches.
import type { CallTarget } from './compiler-types';
import { makeObject, type PlainObject, type Value } from './value';
import type { DataOverride } from './interpreter-refs';

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
