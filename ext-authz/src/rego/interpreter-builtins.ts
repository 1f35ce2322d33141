// Builtins the engine itself owns (Rego reference "Membership and iteration: in", "Debugging"):
// `in` with two and three operands, `trace`, the text form `print` uses for its operands, and the
// context every builtin call receives.
import { RegoObject, RegoSet, equals, isObject, objGet, toJSON, type PlainObject, type Value } from './value';
import type { BuiltinContext, BuiltinSpec } from './builtins/registry';

/** What builtins see of one evaluation: the strict flag, a fixed clock, a cache and the print sink. */
export class EvalBuiltinContext implements BuiltinContext {
  private now: bigint | undefined;
  private c: Map<string, unknown> | undefined;
  constructor(readonly strict: boolean, nowNs: bigint | undefined, private readonly sink: ((s: string) => void) | undefined) {
    this.now = nowNs;
  }
  get nowNs(): bigint {
    // Fixed on first use, so every time.now_ns() of one evaluation agrees.
    if (this.now === undefined) this.now = BigInt(Date.now()) * 1000000n;
    return this.now;
  }
  get cache(): Map<string, unknown> {
    if (!this.c) this.c = new Map();
    return this.c;
  }
  print(msg: string): void {
    if (this.sink) this.sink(msg);
  }
}

/** `x in xs`: a member of an array or set, or a value of an object; false for anything else. */
export function member2(x: Value, xs: Value): boolean {
  if (Array.isArray(xs)) {
    for (const e of xs) if (equals(e, x)) return true;
    return false;
  }
  if (xs instanceof RegoSet) return xs.has(x);
  if (xs instanceof RegoObject) {
    for (const [, v] of xs.entries()) if (equals(v, x)) return true;
    return false;
  }
  if (isObject(xs)) {
    for (const k of Object.keys(xs)) if (equals((xs as PlainObject)[k], x)) return true;
  }
  return false;
}

/** `k, v in xs`: index/key k holds v. Sets have no keys, so this is false for them. */
export function member3(k: Value, v: Value, xs: Value): boolean {
  if (Array.isArray(xs)) {
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k >= xs.length) return false;
    return equals(xs[k], v);
  }
  if (isObject(xs)) {
    const w = objGet(xs, k);
    return w !== undefined && equals(w, v);
  }
  return false;
}

/** How `print` shows one operand: strings bare, everything else as JSON, undefined marked. */
export function printText(v: Value | undefined): string {
  if (v === undefined) return '<undefined>';
  if (typeof v === 'string') return v;
  return JSON.stringify(toJSON(v));
}

export const coreBuiltins: BuiltinSpec[] = [
  {
    name: 'internal.member_2',
    category: 'core',
    args: ['any', 'any'],
    result: 'boolean',
    fn: (a) => member2(a[0], a[1]),
  },
  {
    name: 'internal.member_3',
    category: 'core',
    args: ['any', 'any', 'any'],
    result: 'boolean',
    fn: (a) => member3(a[0], a[1], a[2]),
  },
  {
    name: 'trace',
    category: 'core',
    args: ['string'],
    result: 'boolean',
    fn: (a, ctx) => {
      ctx.print(typeof a[0] === 'string' ? a[0] : printText(a[0]));
      return true;
    },
  },
];

/** Core specs by name, for the compiler's call resolution (they win over the registry). */
export function coreBuiltinMap(registry: { has(name: string): boolean }): Map<string, BuiltinSpec> {
  const m = new Map<string, BuiltinSpec>();
  for (const s of coreBuiltins) if (!registry.has(s.name)) m.set(s.name, s);
  return m;
}
