// JSON Schema validation for json.match_schema / json.verify_schema. OPA uses gojsonschema, so the
// error objects mirror its shape and wording: {desc, error: "<field>: <desc>", field, type}.
// Supported (draft-04/06/07 keywords): type, enum, const, properties, required, additionalProperties,
// patternProperties, propertyNames, min/maxProperties, dependencies, items (schema or tuple),
// additionalItems, contains, min/maxItems, uniqueItems, min/maxLength, pattern, minimum, maximum,
// exclusiveMinimum/Maximum (number or draft-04 boolean), multipleOf, allOf, anyOf, oneOf, not,
// if/then/else, local $ref ("#", "#/definitions/...", "#/$defs/..."), boolean schemas.
// Not supported: `format` (accepted, never fails), remote $ref, $id-based resolution.
import { BuiltinError } from '../errors';
import { formatNumber, toJSON, type Value } from '../value';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = boolean | { [k: string]: Json };

interface SchemaError {
  field: string;
  type: string;
  desc: string;
}

const TYPES = ['array', 'boolean', 'integer', 'null', 'number', 'object', 'string'];

const isPlain = (x: unknown): x is { [k: string]: Json } => typeof x === 'object' && x !== null && !Array.isArray(x);

function jsonTypeOf(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v === 'object' ? 'object' : typeof v;
}

function deepEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlain(a) && isPlain(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** A document or schema operand: JSON text, or a Rego value converted to JSON. */
function operand(name: string, v: Value, what: string): Json {
  if (typeof v !== 'string') return toJSON(v) as Json;
  try {
    return JSON.parse(v) as Json;
  } catch (e) {
    throw new BuiltinError(`${name}: ${what} is not valid JSON: ${(e as Error).message}`);
  }
}

/** Structural checks of a schema; returns the first problem found. */
function schemaProblem(s: Json, path: string): string | undefined {
  if (typeof s === 'boolean') return undefined;
  if (!isPlain(s)) return `${path}: schema must be an object or a boolean`;
  const t = s.type;
  if (t !== undefined) {
    const list = Array.isArray(t) ? t : [t];
    for (const x of list) {
      if (typeof x !== 'string' || !TYPES.includes(x)) {
        return `has a primitive type that is NOT VALID -- given: /${String(x)}/ Expected valid values are:[${TYPES.join(' ')}]`;
      }
    }
  }
  if (s.required !== undefined && (!Array.isArray(s.required) || s.required.some((x) => typeof x !== 'string'))) {
    return `${path}: required must be an array of strings`;
  }
  for (const k of ['properties', 'patternProperties', 'definitions', '$defs']) {
    const m = s[k];
    if (m === undefined) continue;
    if (!isPlain(m)) return `${path}: ${k} must be an object`;
    for (const [name, sub] of Object.entries(m)) {
      const p = schemaProblem(sub, `${path}.${k}.${name}`);
      if (p) return p;
      if (k === 'patternProperties' && !validRegex(name)) return `${path}: invalid pattern ${name}`;
    }
  }
  for (const k of ['allOf', 'anyOf', 'oneOf']) {
    const l = s[k];
    if (l === undefined) continue;
    if (!Array.isArray(l) || l.length === 0) return `${path}: ${k} must be a non-empty array`;
    for (const sub of l) {
      const p = schemaProblem(sub, `${path}.${k}`);
      if (p) return p;
    }
  }
  for (const k of ['not', 'additionalProperties', 'additionalItems', 'contains', 'propertyNames', 'if', 'then', 'else']) {
    if (s[k] === undefined) continue;
    const p = schemaProblem(s[k], `${path}.${k}`);
    if (p) return p;
  }
  if (s.items !== undefined) {
    for (const sub of Array.isArray(s.items) ? s.items : [s.items]) {
      const p = schemaProblem(sub, `${path}.items`);
      if (p) return p;
    }
  }
  for (const k of ['minimum', 'maximum', 'multipleOf', 'minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties']) {
    if (s[k] !== undefined && typeof s[k] !== 'number') return `${path}: ${k} must be a number`;
  }
  if (typeof s.pattern === 'string' && !validRegex(s.pattern)) return `${path}: invalid pattern ${s.pattern}`;
  if (s.enum !== undefined && !Array.isArray(s.enum)) return `${path}: enum must be an array`;
  return undefined;
}

const regexCache = new Map<string, RegExp | null>();
function regex(p: string): RegExp | null {
  let r = regexCache.get(p);
  if (r === undefined) {
    try {
      r = new RegExp(p, 'u');
    } catch {
      r = null;
    }
    if (regexCache.size > 500) regexCache.clear();
    regexCache.set(p, r);
  }
  return r;
}
function validRegex(p: string): boolean {
  return regex(p) !== null;
}

class Validator {
  readonly errors: SchemaError[] = [];
  constructor(private readonly root: Schema) {}

  private add(ctx: string[], type: string, desc: string): void {
    this.errors.push({ field: ctx.length === 0 ? '(root)' : ctx.join('.'), type, desc });
  }

  private sub(schema: Json, v: Json, ctx: string[]): SchemaError[] {
    const child = new Validator(this.root);
    child.validate(schema, v, ctx);
    return child.errors;
  }

  private resolve(ref: string): Json {
    if (!ref.startsWith('#')) throw new BuiltinError(`json.match_schema: unsupported $ref ${ref}`);
    let cur: Json = this.root;
    for (const raw of ref.slice(1).split('/').slice(1)) {
      const seg = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      if (isPlain(cur) && Object.hasOwn(cur, seg)) cur = cur[seg];
      else if (Array.isArray(cur) && /^\d+$/.test(seg)) cur = cur[Number(seg)];
      else throw new BuiltinError(`json.match_schema: unresolvable $ref ${ref}`);
    }
    return cur;
  }

  validate(schema: Json, v: Json, ctx: string[]): void {
    if (schema === true) return;
    if (schema === false) return this.add(ctx, 'false', 'False always fails validation');
    if (!isPlain(schema)) return;
    if (typeof schema.$ref === 'string') return this.validate(this.resolve(schema.$ref), v, ctx);
    const given = jsonTypeOf(v);
    if (schema.type !== undefined) {
      const types = (Array.isArray(schema.type) ? schema.type : [schema.type]) as string[];
      const ok = types.includes(given) || (given === 'integer' && types.includes('number'));
      if (!ok) {
        const expected = types.length === 1 ? types[0] : `[${types.join(',')}]`;
        return this.add(ctx, 'invalid_type', `Invalid type. Expected: ${expected}, given: ${given}`);
      }
    }
    this.combinators(schema, v, ctx);
    if (given === 'array') this.arrayKeywords(schema, v as Json[], ctx);
    if (given === 'object') this.objectKeywords(schema, v as { [k: string]: Json }, ctx);
    this.common(schema, v, ctx);
    if (given === 'string') this.stringKeywords(schema, v as string, ctx);
    if (given === 'number' || given === 'integer') this.numberKeywords(schema, v as number, ctx);
    if (given === 'object' && isPlain(schema.properties)) {
      const obj = v as { [k: string]: Json };
      for (const k of Object.keys(schema.properties).sort()) {
        if (Object.hasOwn(obj, k)) this.validate(schema.properties[k], obj[k], [...ctx, k]);
      }
    }
  }

  private combinators(s: { [k: string]: Json }, v: Json, ctx: string[]): void {
    if (Array.isArray(s.anyOf)) {
      const results = s.anyOf.map((x) => this.sub(x, v, ctx));
      if (!results.some((r) => r.length === 0)) {
        this.add(ctx, 'number_any_of', 'Must validate at least one schema (anyOf)');
        this.errors.push(...closest(results));
      }
    }
    if (Array.isArray(s.oneOf)) {
      const results = s.oneOf.map((x) => this.sub(x, v, ctx));
      const valid = results.filter((r) => r.length === 0).length;
      if (valid !== 1) {
        this.add(ctx, 'number_one_of', 'Must validate one and only one schema (oneOf)');
        if (valid === 0) this.errors.push(...closest(results));
      }
    }
    if (Array.isArray(s.allOf)) {
      const results = s.allOf.map((x) => this.sub(x, v, ctx));
      for (const r of results) this.errors.push(...r);
      if (results.some((r) => r.length > 0)) this.add(ctx, 'number_all_of', 'Must validate all the schemas (allOf)');
    }
    if (s.not !== undefined && this.sub(s.not, v, ctx).length === 0) {
      this.add(ctx, 'number_not', 'Must not validate the schema (not)');
    }
    if (isPlain(s.dependencies) && isPlain(v)) {
      for (const [k, dep] of Object.entries(s.dependencies)) {
        if (!Object.hasOwn(v, k)) continue;
        if (Array.isArray(dep)) {
          for (const d of dep) {
            if (typeof d === 'string' && !Object.hasOwn(v, d)) this.add(ctx, 'missing_dependency', `Has a dependency on ${d}`);
          }
        } else {
          this.errors.push(...this.sub(dep, v, ctx));
        }
      }
    }
    if (s.if !== undefined) {
      const matched = this.sub(s.if, v, ctx).length === 0;
      const branch = matched ? s.then : s.else;
      if (branch !== undefined) {
        const r = this.sub(branch, v, ctx);
        if (r.length > 0) {
          this.errors.push(...r);
          if (matched) this.add(ctx, 'condition_then', 'Must validate "then" as "if" was valid');
          else this.add(ctx, 'condition_else', 'Must validate "else" as "if" was not valid');
        }
      }
    }
  }

  private arrayKeywords(s: { [k: string]: Json }, a: Json[], ctx: string[]): void {
    if (typeof s.minItems === 'number' && a.length < s.minItems) {
      this.add(ctx, 'array_min_items', `Array must have at least ${formatNumber(s.minItems)} items`);
    }
    if (typeof s.maxItems === 'number' && a.length > s.maxItems) {
      this.add(ctx, 'array_max_items', `Array must have at most ${formatNumber(s.maxItems)} items`);
    }
    if (s.uniqueItems === true) {
      outer: for (let i = 0; i < a.length; i++) {
        for (let j = i + 1; j < a.length; j++) {
          if (deepEqual(a[i], a[j])) {
            this.add(ctx, 'unique', `array items[${i},${j}] must be unique`);
            break outer;
          }
        }
      }
    }
    if (Array.isArray(s.items)) {
      const tuple = s.items;
      a.forEach((x, i) => {
        if (i < tuple.length) this.validate(tuple[i], x, [...ctx, String(i)]);
        else if (s.additionalItems === false) this.add(ctx, 'array_no_additional_items', 'No additional items allowed on array');
        else if (s.additionalItems !== undefined) this.validate(s.additionalItems, x, [...ctx, String(i)]);
      });
    } else if (s.items !== undefined) {
      a.forEach((x, i) => this.validate(s.items, x, [...ctx, String(i)]));
    }
    if (s.contains !== undefined && !a.some((x, i) => this.sub(s.contains, x, [...ctx, String(i)]).length === 0)) {
      this.add(ctx, 'contains', 'At least one of the items must match');
    }
  }

  private objectKeywords(s: { [k: string]: Json }, o: { [k: string]: Json }, ctx: string[]): void {
    const keys = Object.keys(o).sort();
    if (typeof s.minProperties === 'number' && keys.length < s.minProperties) {
      this.add(ctx, 'array_min_properties', `Must have at least ${formatNumber(s.minProperties)} properties`);
    }
    if (typeof s.maxProperties === 'number' && keys.length > s.maxProperties) {
      this.add(ctx, 'array_max_properties', `Must have at most ${formatNumber(s.maxProperties)} properties`);
    }
    if (Array.isArray(s.required)) {
      for (const r of s.required) {
        if (typeof r === 'string' && !Object.hasOwn(o, r)) this.add(ctx, 'required', `${r} is required`);
      }
    }
    const props = isPlain(s.properties) ? s.properties : {};
    const patterns = isPlain(s.patternProperties) ? Object.entries(s.patternProperties) : [];
    for (const k of keys) {
      let matched = Object.hasOwn(props, k);
      for (const [p, sub] of patterns) {
        if (regex(p)?.test(k)) {
          matched = true;
          this.validate(sub, o[k], [...ctx, k]);
        }
      }
      if (matched || s.additionalProperties === undefined) continue;
      if (s.additionalProperties === false) {
        this.add(ctx, 'additional_property_not_allowed', `Additional property ${k} is not allowed`);
      } else {
        this.validate(s.additionalProperties, o[k], [...ctx, k]);
      }
    }
    if (s.propertyNames !== undefined) {
      for (const k of keys) {
        if (this.sub(s.propertyNames, k, ctx).length > 0) {
          this.add(ctx, 'invalid_property_name', `Property name of "${k}" does not match`);
        }
      }
    }
  }

  private common(s: { [k: string]: Json }, v: Json, ctx: string[]): void {
    const field = ctx.length === 0 ? '(root)' : ctx.join('.');
    if (s.const !== undefined && !deepEqual(s.const, v)) {
      this.add(ctx, 'const', `${field} does not match: ${JSON.stringify(s.const)}`);
    }
    if (Array.isArray(s.enum) && !s.enum.some((x) => deepEqual(x, v))) {
      const allowed = s.enum.map((x) => JSON.stringify(x)).join(', ');
      this.add(ctx, 'enum', `${field} must be one of the following: ${allowed}`);
    }
  }

  private stringKeywords(s: { [k: string]: Json }, str: string, ctx: string[]): void {
    const len = [...str].length;
    if (typeof s.minLength === 'number' && len < s.minLength) {
      this.add(ctx, 'string_gte', `String length must be greater than or equal to ${formatNumber(s.minLength)}`);
    }
    if (typeof s.maxLength === 'number' && len > s.maxLength) {
      this.add(ctx, 'string_lte', `String length must be less than or equal to ${formatNumber(s.maxLength)}`);
    }
    if (typeof s.pattern === 'string' && !regex(s.pattern)?.test(str)) {
      this.add(ctx, 'pattern', `Does not match pattern '${s.pattern}'`);
    }
  }

  private numberKeywords(s: { [k: string]: Json }, n: number, ctx: string[]): void {
    if (typeof s.multipleOf === 'number' && s.multipleOf > 0 && !Number.isInteger(Number((n / s.multipleOf).toPrecision(15)))) {
      this.add(ctx, 'multiple_of', `Must be a multiple of ${formatNumber(s.multipleOf)}`);
    }
    const exMin = s.exclusiveMinimum;
    const exMax = s.exclusiveMaximum;
    if (typeof s.minimum === 'number') {
      if (exMin === true ? n <= s.minimum : n < s.minimum) {
        const [t, d] = exMin === true ? ['number_gt', 'greater than'] : ['number_gte', 'greater than or equal to'];
        this.add(ctx, t, `Must be ${d} ${formatNumber(s.minimum)}`);
      }
    }
    if (typeof exMin === 'number' && n <= exMin) this.add(ctx, 'number_gt', `Must be greater than ${formatNumber(exMin)}`);
    if (typeof s.maximum === 'number') {
      if (exMax === true ? n >= s.maximum : n > s.maximum) {
        const [t, d] = exMax === true ? ['number_lt', 'less than'] : ['number_lte', 'less than or equal to'];
        this.add(ctx, t, `Must be ${d} ${formatNumber(s.maximum)}`);
      }
    }
    if (typeof exMax === 'number' && n >= exMax) this.add(ctx, 'number_lt', `Must be less than ${formatNumber(exMax)}`);
  }
}

/** gojsonschema reports the errors of the closest failing alternative (here: the one with fewest). */
function closest(results: SchemaError[][]): SchemaError[] {
  return results.reduce((best, r) => (r.length < best.length ? r : best));
}

function toErrorObject(e: SchemaError): Value {
  return { desc: e.desc, error: `${e.field}: ${e.desc}`, field: e.field, type: e.type };
}

/** json.match_schema(document, schema) -> [valid, errors]; an invalid schema is a builtin error. */
export function matchSchema(document: Value, schemaArg: Value): Value {
  const schema = operand('json.match_schema', schemaArg, 'schema');
  const problem = schemaProblem(schema, '(root)');
  if (problem) throw new BuiltinError(`json.match_schema: ${problem}`);
  const doc = operand('json.match_schema', document, 'document');
  const v = new Validator(schema as Schema);
  v.validate(schema, doc, []);
  return [v.errors.length === 0, v.errors.map(toErrorObject)];
}

/** json.verify_schema(schema) -> [true, null] or [false, "<problem>"]. */
export function verifySchema(schemaArg: Value): Value {
  let schema: Json;
  try {
    schema = operand('json.verify_schema', schemaArg, 'schema');
  } catch (e) {
    return [false, (e as Error).message];
  }
  const problem = schemaProblem(schema, '(root)');
  return problem ? [false, problem] : [true, null];
}
