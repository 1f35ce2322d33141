// Rego values: the data model shared by the interpreter and every builtin.
// Representation (chosen so JSON input needs no conversion on the hot path):
//   null, boolean, number (JS double), string        -> JS primitives
//   array                                             -> JS array (treat as immutable)
//   object with only string keys                      -> plain JS object (own enumerable props)
//   object with any non-string key                    -> RegoObject
//   set                                               -> RegoSet
// `undefined` (the JS value) means "undefined" in Rego and is never stored inside a value.
// Always go through the helpers below (isObject, objGet, objEntries, makeObject, ...): never index a
// plain object directly, since JSON input carries Object.prototype and keys like "constructor" exist.

export type Value = null | boolean | number | string | Value[] | PlainObject | RegoObject | RegoSet;
export interface PlainObject {
  [key: string]: Value;
}
export type ObjectValue = PlainObject | RegoObject;

const hasOwn = Object.prototype.hasOwnProperty;

/** Map key for a value: primitives are their own key; composites get a canonical text key. */
export function valueKey(v: Value): unknown {
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'string' && v.charCodeAt(0) === 1) return '\u0001s' + v;
    if (typeof v === 'number' && Object.is(v, -0)) return 0;
    return v;
  }
  return '\u0001' + canonicalText(v);
}

/** Deterministic text of a value (sorted keys, sorted set members); also used as the JSON key text. */
export function canonicalText(v: Value): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      return formatNumber(v);
    case 'string':
      return JSON.stringify(v);
  }
  if (Array.isArray(v)) return '[' + v.map(canonicalText).join(',') + ']';
  if (v instanceof RegoSet) return 'set(' + v.sorted().map(canonicalText).join(',') + ')';
  const entries = objEntries(v as ObjectValue).sort((a, b) => compare(a[0], b[0]));
  return '{' + entries.map(([k, x]) => canonicalText(k) + ':' + canonicalText(x)).join(',') + '}';
}

/** Numbers as OPA prints them: integers without exponent up to 1e21, else JS shortest form. */
export function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return BigInt(n).toString();
  return String(n);
}

export class RegoSet {
  private readonly m = new Map<unknown, Value>();
  private sortedCache: Value[] | undefined;

  constructor(items?: Iterable<Value>) {
    if (items) for (const x of items) this.m.set(valueKey(x), x);
  }
  /** Mutates: only while building a new set. */
  add(v: Value): void {
    this.m.set(valueKey(v), v);
    this.sortedCache = undefined;
  }
  has(v: Value): boolean {
    return this.m.has(valueKey(v));
  }
  get size(): number {
    return this.m.size;
  }
  values(): IterableIterator<Value> {
    return this.m.values();
  }
  [Symbol.iterator](): IterableIterator<Value> {
    return this.m.values();
  }
  /** Members in OPA's order (cached; sets are immutable once built). */
  sorted(): Value[] {
    if (!this.sortedCache) this.sortedCache = [...this.m.values()].sort(compare);
    return this.sortedCache;
  }
}

/** An object with at least one non-string key (or built generically); keys are any Value. */
export class RegoObject {
  private readonly m = new Map<unknown, [Value, Value]>();

  constructor(entries?: Iterable<[Value, Value]>) {
    if (entries) for (const [k, v] of entries) this.m.set(valueKey(k), [k, v]);
  }
  set(k: Value, v: Value): void {
    this.m.set(valueKey(k), [k, v]);
  }
  get(k: Value): Value | undefined {
    const e = this.m.get(valueKey(k));
    return e === undefined ? undefined : e[1];
  }
  has(k: Value): boolean {
    return this.m.has(valueKey(k));
  }
  get size(): number {
    return this.m.size;
  }
  entries(): IterableIterator<[Value, Value]> {
    return this.m.values();
  }
}

// ---- type tests ---------------------------------------------------------------------------------

export function isObject(v: Value | undefined): v is ObjectValue {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof RegoSet);
}
export function isSet(v: Value | undefined): v is RegoSet {
  return v instanceof RegoSet;
}
export function isArray(v: Value | undefined): v is Value[] {
  return Array.isArray(v);
}

/** OPA's type names, as `type_name` returns them. */
export type TypeName = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object' | 'set';
export function typeName(v: Value): TypeName {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return 'number';
    case 'string':
      return 'string';
  }
  if (Array.isArray(v)) return 'array';
  if (v instanceof RegoSet) return 'set';
  return 'object';
}

// ---- objects ------------------------------------------------------------------------------------

export function objGet(o: ObjectValue, k: Value): Value | undefined {
  if (o instanceof RegoObject) return o.get(k);
  if (typeof k !== 'string') return undefined;
  return hasOwn.call(o, k) ? (o as PlainObject)[k] : undefined;
}
export function objHas(o: ObjectValue, k: Value): boolean {
  if (o instanceof RegoObject) return o.has(k);
  return typeof k === 'string' && hasOwn.call(o, k);
}
export function objSize(o: ObjectValue): number {
  return o instanceof RegoObject ? o.size : Object.keys(o).length;
}
export function objKeys(o: ObjectValue): Value[] {
  if (o instanceof RegoObject) return [...o.entries()].map((e) => e[0]);
  return Object.keys(o);
}
export function objEntries(o: ObjectValue): [Value, Value][] {
  if (o instanceof RegoObject) return [...o.entries()];
  return Object.entries(o as PlainObject);
}

/**
 * Builds an object from entries (later duplicates win, like OPA object literals). Uses a plain
 * null-prototype object when every key is a string, otherwise a RegoObject.
 */
export function makeObject(entries: Iterable<[Value, Value]>): ObjectValue {
  const list = Array.isArray(entries) ? (entries as [Value, Value][]) : [...entries];
  for (const [k] of list) if (typeof k !== 'string') return new RegoObject(list);
  const o = Object.create(null) as PlainObject;
  for (const [k, v] of list) o[k as string] = v;
  return o;
}

// ---- ordering and equality ----------------------------------------------------------------------

const RANK: Record<TypeName, number> = { null: 0, boolean: 1, number: 2, string: 3, array: 4, object: 5, set: 6 };

/** OPA's total order: null < false < true < numbers < strings < arrays < objects < sets. */
export function compare(a: Value, b: Value): number {
  if (a === b) return 0;
  const ta = typeName(a);
  const tb = typeName(b);
  if (ta !== tb) return RANK[ta] - RANK[tb];
  switch (ta) {
    case 'null':
      return 0;
    case 'boolean':
      return (a ? 1 : 0) - (b ? 1 : 0);
    case 'number':
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 'string':
      return compareStrings(a as string, b as string);
    case 'array': {
      const x = a as Value[];
      const y = b as Value[];
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compare(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
    case 'object': {
      // Objects compare by their sorted keys, then by the values of those keys.
      const x = objEntries(a as ObjectValue).sort((p, q) => compare(p[0], q[0]));
      const y = objEntries(b as ObjectValue).sort((p, q) => compare(p[0], q[0]));
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compare(x[i][0], y[i][0]);
        if (c !== 0) return c;
        const d = compare(x[i][1], y[i][1]);
        if (d !== 0) return d;
      }
      return x.length - y.length;
    }
    case 'set': {
      const x = (a as RegoSet).sorted();
      const y = (b as RegoSet).sorted();
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compare(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
  }
}

/** Byte-order (UTF-8) comparison, as Go compares strings. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) {
      // Surrogates (astral chars) sort above all BMP chars in UTF-8 but below U+E000..U+FFFF in UTF-16.
      const sa = ca >= 0xd800 && ca <= 0xdfff;
      const sb = cb >= 0xd800 && cb <= 0xdfff;
      if (sa !== sb) return sa ? 1 : -1;
      return ca - cb;
    }
  }
  return a.length - b.length;
}

export function equals(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equals(a[i], b[i])) return false;
    return true;
  }
  if (a instanceof RegoSet) {
    if (!(b instanceof RegoSet) || a.size !== b.size) return false;
    for (const x of a) if (!b.has(x)) return false;
    return true;
  }
  if (Array.isArray(b) || b instanceof RegoSet) return false;
  if (objSize(a) !== objSize(b)) return false;
  for (const [k, v] of objEntries(a)) {
    const w = objGet(b, k);
    if (w === undefined || !equals(v, w)) return false;
  }
  return true;
}

// ---- JSON conversion ----------------------------------------------------------------------------

/**
 * JSON (as from JSON.parse) to a Value. Plain objects and arrays are already Values, so this is the
 * identity for parsed JSON; it only validates and rejects what JSON cannot hold.
 */
export function fromJSON(x: unknown): Value {
  if (x === null || typeof x === 'string' || typeof x === 'boolean') return x;
  if (typeof x === 'number') {
    if (!Number.isFinite(x)) throw new TypeError('non-finite number is not a Rego value');
    return x;
  }
  if (Array.isArray(x)) {
    for (const e of x) fromJSON(e);
    return x as Value[];
  }
  if (typeof x === 'object' && (x instanceof RegoSet || x instanceof RegoObject)) return x;
  if (typeof x === 'object') {
    for (const k of Object.keys(x as object)) fromJSON((x as Record<string, unknown>)[k]);
    return x as PlainObject;
  }
  throw new TypeError(`${typeof x} is not a Rego value`);
}

/**
 * A Value to plain JSON, the way OPA prints it: sets become arrays sorted in OPA's order, non-string
 * object keys become their JSON text, object keys are emitted sorted.
 */
export function toJSON(v: Value): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(toJSON);
  if (v instanceof RegoSet) return v.sorted().map(toJSON);
  const out: Record<string, unknown> = {};
  const entries = objEntries(v).sort((a, b) => compare(a[0], b[0]));
  for (const [k, x] of entries) {
    const key = typeof k === 'string' ? k : JSON.stringify(toJSON(k));
    Object.defineProperty(out, key, { value: toJSON(x), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
