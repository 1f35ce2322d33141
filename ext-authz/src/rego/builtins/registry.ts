// The builtin registry: one table of builtin specs, contributed by category modules
// (strings.ts, regex.ts, time.ts, ...). Arity and declared operand types are checked here and by the
// compiler's type checker; each implementation only does its own work.
import { BuiltinError } from '../errors';
import { typeName, isObject, isSet, type Value, type TypeName } from '../value';

/**
 * Declared types, used by the compile-time type checker (OPA reports `count(1)` as
 * `rego_type_error: count: invalid argument(s)`) and for `operand N must be ...` messages.
 */
export type TypeDesc =
  | 'any'
  | TypeName
  | { array: TypeDesc }
  | { set: TypeDesc }
  | { object: [TypeDesc, TypeDesc] } // key type, value type
  | { anyOf: TypeDesc[] };

export interface BuiltinContext {
  /** `--strict-builtin-errors`: when false, the interpreter turns BuiltinErrors into undefined. */
  readonly strict: boolean;
  /** time.now_ns() for this evaluation: fixed for the whole evaluation. */
  readonly nowNs: bigint;
  /** Per-evaluation cache (e.g. parsed regexes can live in a module-level cache instead). */
  readonly cache: Map<string, unknown>;
  /** Sink for `print`. */
  print(msg: string): void;
}

/** A function builtin: returns the result, or `undefined` when it has none (the expression fails). */
export type BuiltinFn = (args: Value[], ctx: BuiltinContext) => Value | undefined;

export interface BuiltinSpec {
  /** Dotted name as called in Rego: `count`, `strings.replace_n`, `io.jwt.decode_verify`. */
  name: string;
  /** Category file it lives in (strings, regex, glob, aggregates, time, crypto, jwt, net, ...). */
  category: string;
  /** Operand types; the length is the arity. */
  args: TypeDesc[];
  /** Result type. */
  result: TypeDesc;
  fn: BuiltinFn;
  /** `print`-like: any number of operands. */
  variadic?: boolean;
  /**
   * A relation yields several results (like `walk`): `fn` then returns an array Value whose elements
   * are the results, each unified with the output in turn.
   */
  relation?: boolean;
  /** time.now_ns, rand.intn, uuid.rfc4122, http.send: results may differ between evaluations. */
  nondeterministic?: boolean;
  /** Deprecated in OPA 1.x / under rego.v1 (any, all, re_match, cast_*, net.cidr_overlap, ...). */
  deprecated?: boolean;
}

export class BuiltinRegistry {
  private readonly byName = new Map<string, BuiltinSpec>();

  register(specs: readonly BuiltinSpec[]): void {
    for (const s of specs) {
      if (this.byName.has(s.name)) throw new Error(`builtin ${s.name} registered twice`);
      this.byName.set(s.name, s);
    }
  }
  get(name: string): BuiltinSpec | undefined {
    return this.byName.get(name);
  }
  has(name: string): boolean {
    return this.byName.has(name);
  }
  names(): string[] {
    return [...this.byName.keys()].sort();
  }
  all(): BuiltinSpec[] {
    return [...this.byName.values()];
  }
}

// ---- helpers for implementations ----------------------------------------------------------------

/** OPA's "<name>: operand N must be <want> but got <got>" (eval_type_error). */
export function operandError(name: string, pos: number, want: string, got: Value): BuiltinError {
  return new BuiltinError(`${name}: operand ${pos} must be ${want} but got ${typeName(got)}`, 'type');
}

export function mustString(name: string, args: Value[], i: number): string {
  const v = args[i];
  if (typeof v !== 'string') throw operandError(name, i + 1, 'string', v);
  return v;
}
export function mustNumber(name: string, args: Value[], i: number): number {
  const v = args[i];
  if (typeof v !== 'number') throw operandError(name, i + 1, 'number', v);
  return v;
}
export function mustInteger(name: string, args: Value[], i: number): number {
  const n = mustNumber(name, args, i);
  if (!Number.isInteger(n)) {
    throw new BuiltinError(`${name}: operand ${i + 1} must be integer number but got floating-point number`, 'type');
  }
  return n;
}
export function mustArray(name: string, args: Value[], i: number): Value[] {
  const v = args[i];
  if (!Array.isArray(v)) throw operandError(name, i + 1, 'array', v);
  return v;
}

/** Does a runtime value match a declared type? (Used for `with` mocks and the type checker.) */
export function matchesType(v: Value, t: TypeDesc): boolean {
  if (t === 'any') return true;
  if (typeof t === 'string') return typeName(v) === t;
  if ('anyOf' in t) return t.anyOf.some((x) => matchesType(v, x));
  if ('array' in t) return Array.isArray(v) && v.every((x) => matchesType(x, t.array));
  if ('set' in t) return isSet(v) && [...v].every((x) => matchesType(x, t.set));
  return isObject(v);
}
