// Builtins: encoding (OPA policy reference, "Encoding"): base64/base64url, hex, urlquery, json, yaml,
// with Go's decoders' strictness and error texts ("illegal base64 data at input byte 4").
import { parseAllDocuments, stringify as stringifyYAML } from 'yaml';
import { BuiltinError } from '../errors';
import { isObject, isSet, objEntries, objGet, objKeys, compareStrings, type Value } from '../value';
import { mustString, operandError, type BuiltinSpec, type TypeDesc } from './registry';
import { goJSON, goJSONIndent } from './go-json';
import { fromYAMLValue, goYAMLMessage } from './yaml-values';

const S = 'string' as const;

function spec(name: string, args: TypeDesc[], result: TypeDesc, fn: BuiltinSpec['fn']): BuiltinSpec {
  return { name, category: 'encoding', args, result, fn };
}
const str = (name: string, f: (s: string) => Value): BuiltinSpec => spec(name, [S], S, (a) => f(mustString(name, a, 0)));

const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Go's base64 Encoding.DecodeString: CR/LF are skipped, padding is required when `padded`, and the
 * first bad position is reported as "illegal base64 data at input byte N".
 */
function goBase64Decode(src: string, alphabet: string, padded: boolean): Buffer {
  const bytes = Buffer.from(src, 'utf8');
  const out: number[] = [];
  const corrupt = (at: number): never => {
    throw new Error(`illegal base64 data at input byte ${at}`);
  };
  const isNL = (b: number) => b === 10 || b === 13;
  let si = 0;
  for (;;) {
    const q: number[] = [];
    let done = false;
    while (q.length < 4) {
      if (si === bytes.length) {
        if (q.length === 0) return Buffer.from(out);
        if (q.length === 1 || padded) corrupt(si - q.length);
        done = true;
        break;
      }
      const b = bytes[si++];
      if (isNL(b)) continue;
      const d = b < 128 ? alphabet.indexOf(String.fromCharCode(b)) : -1;
      if (d >= 0) {
        q.push(d);
        continue;
      }
      if (b !== 61 || !padded) corrupt(si - 1);
      // '=': valid after 2 symbols (as "==") or 3 symbols ("="), then only newlines may follow.
      if (q.length < 2) corrupt(si - 1);
      if (q.length === 2) {
        while (si < bytes.length && isNL(bytes[si])) si++;
        if (si === bytes.length) corrupt(bytes.length);
        if (bytes[si] !== 61) corrupt(si - 1);
        si++;
      }
      while (si < bytes.length && isNL(bytes[si])) si++;
      if (si < bytes.length) corrupt(si);
      done = true;
      break;
    }
    const n = (q[0] << 18) | (q[1] << 12) | ((q[2] ?? 0) << 6) | (q[3] ?? 0);
    out.push((n >> 16) & 0xff);
    if (q.length >= 3) out.push((n >> 8) & 0xff);
    if (q.length === 4) out.push(n & 0xff);
    if (done) return Buffer.from(out);
  }
}

function wrap<T>(name: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof BuiltinError) throw e;
    throw new BuiltinError(`${name}: ${(e as Error).message}`);
  }
}

const utf8 = (b: Buffer): string => b.toString('utf8');

function hexDecode(s: string): string {
  const b = Buffer.from(s, 'utf8');
  const invalid = (x: number): never => {
    const ch = x >= 0x20 && x < 0x7f ? ` '${String.fromCharCode(x)}'` : '';
    throw new Error(`encoding/hex: invalid byte: U+${x.toString(16).toUpperCase().padStart(4, '0')}${ch}`);
  };
  const isHex = (x: number) => (x >= 48 && x <= 57) || (x >= 65 && x <= 70) || (x >= 97 && x <= 102);
  for (let i = 0; i + 1 < b.length; i += 2) {
    if (!isHex(b[i])) invalid(b[i]);
    if (!isHex(b[i + 1])) invalid(b[i + 1]);
  }
  if (b.length % 2 === 1) {
    if (!isHex(b[b.length - 1])) invalid(b[b.length - 1]);
    throw new Error('encoding/hex: odd length hex string');
  }
  return utf8(Buffer.from(s, 'hex'));
}

/** url.QueryEscape: unreserved characters stay, space becomes '+', the rest %XX (upper-case). */
function queryEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()).replace(/%20/g, '+');
}

/** url.QueryUnescape: '+' is a space; every '%' must start a valid escape. */
function queryUnescape(s: string): string {
  const bytes: number[] = [];
  const src = Buffer.from(s, 'utf8');
  for (let i = 0; i < src.length; i++) {
    const b = src[i];
    if (b === 0x25) {
      const h = src.subarray(i + 1, i + 3).toString('latin1');
      if (!/^[0-9A-Fa-f]{2}$/.test(h)) {
        throw new Error(`invalid URL escape ${JSON.stringify(src.subarray(i, i + 3).toString('utf8'))}`);
      }
      bytes.push(parseInt(h, 16));
      i += 2;
    } else bytes.push(b === 0x2b ? 0x20 : b);
  }
  return utf8(Buffer.from(bytes));
}

/** url.ParseQuery: `&`-separated pairs, values kept in order; `;` is rejected as Go 1.17+ does. */
function parseQuery(q: string): Value {
  const out = new Map<string, string[]>();
  let firstErr: Error | undefined;
  for (const part of q.split('&')) {
    if (part === '') continue;
    if (part.includes(';')) {
      firstErr ??= new Error('invalid semicolon separator in query');
      continue;
    }
    const eq = part.indexOf('=');
    try {
      const k = queryUnescape(eq < 0 ? part : part.slice(0, eq));
      const v = queryUnescape(eq < 0 ? '' : part.slice(eq + 1));
      const list = out.get(k);
      if (list) list.push(v);
      else out.set(k, [v]);
    } catch (e) {
      firstErr ??= e as Error;
    }
  }
  if (firstErr) throw firstErr;
  const obj = Object.create(null) as Record<string, Value>;
  for (const [k, v] of out) obj[k] = v;
  return obj;
}

function encodeObject(o: Value): string {
  if (!isObject(o)) throw operandError('urlquery.encode_object', 1, 'object', o);
  const bad = () => new BuiltinError('urlquery.encode_object: operand 1 values must be string, array[string], or set[string]', 'type');
  const pairs: [string, string[]][] = [];
  for (const [k, v] of objEntries(o)) {
    if (typeof k !== 'string') throw bad();
    const vals = typeof v === 'string' ? [v] : Array.isArray(v) ? v : isSet(v) ? v.sorted() : undefined;
    if (!vals || vals.some((x) => typeof x !== 'string')) throw bad();
    pairs.push([k, vals as string[]]);
  }
  // url.Values.Encode sorts by key.
  pairs.sort((a, b) => compareStrings(a[0], b[0]));
  return pairs.flatMap(([k, vs]) => vs.map((v) => `${queryEscape(k)}=${queryEscape(v)}`)).join('&');
}

const MARSHAL_OPTIONS = new Set(['pretty', 'prefix', 'indent']);

/** json.marshal_with_options: indent defaults to "\t"; `pretty: false` ignores prefix and indent. */
function marshalWithOptions(v: Value, opts: Value): string {
  const name = 'json.marshal_with_options';
  if (!isObject(opts)) throw operandError(name, 2, 'object', opts);
  let pretty: boolean | undefined;
  let prefix = '';
  let indent = '\t';
  for (const k of objKeys(opts)) {
    if (typeof k !== 'string' || !MARSHAL_OPTIONS.has(k)) {
      throw new BuiltinError(`${name}: object contained unknown key ${JSON.stringify(k)}`);
    }
    const x = objGet(opts, k)!;
    if (k === 'pretty') {
      if (typeof x !== 'boolean') throw new BuiltinError(`${name}: pretty is not a boolean`);
      pretty = x;
    } else {
      if (typeof x !== 'string') throw new BuiltinError(`${name}: ${k} is not a string`);
      if (k === 'prefix') prefix = x;
      else indent = x;
      pretty ??= true;
    }
  }
  if (!pretty) return goJSON(v);
  return prefix + goJSONIndent(v, prefix, indent);
}

/** The first document (as go-yaml's Unmarshal reads it); every document must still be well-formed. */
function yamlParse(s: string): Value {
  const docs = parseAllDocuments(s, {
    version: '1.1',
    // go-yaml decodes timestamps into interface{} as plain strings.
    customTags: (tags) => tags.filter((t) => typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:timestamp'),
  });
  const list = [...docs];
  for (const d of list) if (d.errors.length > 0) throw d.errors[0];
  return list.length === 0 ? null : fromYAMLValue(list[0].toJS({ maxAliasCount: 1000 }));
}

export const encodingBuiltins: readonly BuiltinSpec[] = [
  str('base64.encode', (s) => Buffer.from(s, 'utf8').toString('base64')),
  str('base64.decode', (s) => wrap('base64.decode', () => utf8(goBase64Decode(s, STD, true)))),
  spec('base64.is_valid', [S], 'boolean', (a) => {
    if (typeof a[0] !== 'string') return false;
    try {
      goBase64Decode(a[0], STD, true);
      return true;
    } catch {
      return false;
    }
  }),
  str('base64url.encode', (s) => Buffer.from(s, 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_')),
  str('base64url.encode_no_pad', (s) => Buffer.from(s, 'utf8').toString('base64url')),
  str('base64url.decode', (s) =>
    wrap('base64url.decode', () => {
      // OPA accepts unpadded input (RFC 7515 appendix C) by restoring the padding first.
      let t = s;
      if (!t.endsWith('=')) {
        if (t.length % 4 === 1) throw new Error(`illegal base64 data at input byte ${t.length - 1}`);
        t += '='.repeat((4 - (t.length % 4)) % 4);
      }
      return utf8(goBase64Decode(t, URL, true));
    }),
  ),
  str('hex.encode', (s) => Buffer.from(s, 'utf8').toString('hex')),
  str('hex.decode', (s) => wrap('hex.decode', () => hexDecode(s))),
  str('urlquery.encode', queryEscape),
  str('urlquery.decode', (s) => wrap('urlquery.decode', () => queryUnescape(s))),
  spec('urlquery.encode_object', [{ object: [S, { anyOf: [S, { array: S }, { set: S }] }] }], S, (a) => encodeObject(a[0])),
  spec('urlquery.decode_object', [S], { object: [S, { array: S }] }, (a) =>
    wrap('urlquery.decode_object', () => parseQuery(mustString('urlquery.decode_object', a, 0))),
  ),
  spec('json.marshal', ['any'], S, (a) => goJSON(a[0])),
  spec('json.marshal_with_options', ['any', { object: [S, 'any'] }], S, (a) => marshalWithOptions(a[0], a[1])),
  spec('json.unmarshal', [S], 'any', (a) => {
    const s = mustString('json.unmarshal', a, 0);
    return wrap('json.unmarshal', () => JSON.parse(s) as Value);
  }),
  // The is_valid builtins answer false for non-string operands rather than raising a type error.
  spec('json.is_valid', [S], 'boolean', (a) => {
    if (typeof a[0] !== 'string') return false;
    try {
      JSON.parse(a[0]);
      return true;
    } catch {
      return false;
    }
  }),
  spec('yaml.marshal', ['any'], S, (a) =>
    wrap('yaml.marshal', () =>
      stringifyYAML(JSON.parse(goJSON(a[0])), { sortMapEntries: true, indentSeq: false, singleQuote: true, version: '1.1' }),
    ),
  ),
  spec('yaml.unmarshal', [S], 'any', (a) => {
    const s = mustString('yaml.unmarshal', a, 0);
    try {
      return yamlParse(s);
    } catch (e) {
      throw new BuiltinError(`yaml.unmarshal: ${goYAMLMessage(e)}`);
    }
  }),
  spec('yaml.is_valid', [S], 'boolean', (a) => {
    const s = a[0];
    if (typeof s !== 'string') return false;
    try {
      yamlParse(s);
      return true;
    } catch {
      return false;
    }
  }),
];
