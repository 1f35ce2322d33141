// The CheckResponse straight to protobuf bytes (docs/architecture.md, "A callback, step by step", step
// 10): the object toCheckResponse builds is written field by field, without protobufjs's fromObject (a
// message instance per nested object, enum names looked up) and its forking writer. The bytes are the
// ones protobufjs writes for the same object (fields in number order, set fields only, explicit defaults
// written), which test/check/check-response-encode.test.ts checks against the proto-loader serializer.
//
// Field numbers (Envoy API, envoy/service/auth/v3/external_auth.proto, envoy/config/core/v3/base.proto,
// envoy/type/v3/http_status.proto; google/rpc/status.proto; google/protobuf/struct.proto):
//   CheckResponse       status 1, denied_response 2, ok_response 3, dynamic_metadata 4
//   OkHttpResponse      headers 2, headers_to_remove 5, response_headers_to_add 6
//   DeniedHttpResponse  status 1 (HttpStatus: code 1), headers 2, body 3
//   HeaderValueOption   header 1 (HeaderValue: key 1, value 2), append_action 3
//   google.rpc.Status   code 1, message 2
//   Struct              fields 1 (map entry: key 1, value 2)
//   Value               null_value 1, number_value 2, string_value 3, bool_value 4, struct_value 5, list_value 6
//   ListValue           values 1
import type { CheckResponseObject, DecodedStruct, DecodedValue, HeaderValueOption } from './check-request-types';

const LEN = 2;
const VARINT = 0;
const I64 = 1;

const APPEND_ACTIONS: Readonly<Record<string, number>> = { APPEND_IF_EXISTS_OR_ADD: 0, ADD_IF_ABSENT: 1, OVERWRITE_IF_EXISTS_OR_ADD: 2, OVERWRITE_IF_EXISTS: 3 };

/** Bytes of a varint; negative int32 values take ten (sign-extended to 64 bits, as protobuf writes them). */
function varintSize(n: number): number {
  if (n < 0) return 10;
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Size of a length-delimited field with a payload of `len` bytes (our tags are all one byte). */
const lenField = (len: number): number => 1 + varintSize(len) + len;

class Out {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  tag(field: number, wire: number): void {
    this.buf[this.pos++] = (field << 3) | wire;
  }

  varint(n: number): void {
    if (n < 0) {
      // Two's complement over 64 bits (ten bytes), as protobuf writes a negative int32.
      let v = BigInt.asUintN(64, BigInt(n));
      while (v >= 0x80n) {
        this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
        v >>= 7n;
      }
      this.buf[this.pos++] = Number(v);
      return;
    }
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }

  string(field: number, s: string, bytes: number): void {
    this.tag(field, LEN);
    this.varint(bytes);
    this.pos += this.buf.write(s, this.pos, bytes, 'utf8');
  }

  double(field: number, x: number): void {
    this.tag(field, I64);
    this.buf.writeDoubleLE(x, this.pos);
    this.pos += 8;
  }
}

// ---- sizes ----------------------------------------------------------------------------------------

function headerOptionSize(h: HeaderValueOption): number {
  let inner = 0;
  if (h.header != null) {
    let hv = 0;
    if (h.header.key != null) hv += lenField(Buffer.byteLength(h.header.key));
    if (h.header.value != null) hv += lenField(Buffer.byteLength(h.header.value));
    inner += lenField(hv);
  }
  const action = APPEND_ACTIONS[h.appendAction];
  if (action !== undefined) inner += 1 + varintSize(action);
  return inner;
}

function valueSize(v: DecodedValue): number {
  let n = 0;
  if (v.nullValue != null) n += 1 + 1; // NULL_VALUE is 0, the only value
  if (v.numberValue != null) n += 1 + 8;
  if (v.stringValue != null) n += lenField(Buffer.byteLength(v.stringValue));
  if (v.boolValue != null) n += 2;
  if (v.structValue != null) n += lenField(structSize(v.structValue));
  if (v.listValue != null) {
    let l = 0;
    for (const x of v.listValue.values ?? []) l += lenField(valueSize(x));
    n += lenField(l);
  }
  return n;
}

function structSize(s: DecodedStruct): number {
  let n = 0;
  const fields = s.fields;
  if (fields != null) {
    for (const k of Object.keys(fields)) n += lenField(lenField(Buffer.byteLength(k)) + lenField(valueSize(fields[k])));
  }
  return n;
}

function headersSize(field: number, hs: readonly HeaderValueOption[] | undefined): number {
  void field;
  let n = 0;
  if (hs != null) for (const h of hs) n += lenField(headerOptionSize(h));
  return n;
}

// ---- writers --------------------------------------------------------------------------------------

function writeHeaderOption(o: Out, field: number, h: HeaderValueOption): void {
  o.tag(field, LEN);
  o.varint(headerOptionSize(h));
  if (h.header != null) {
    const key = h.header.key;
    const value = h.header.value;
    const kb = key != null ? Buffer.byteLength(key) : 0;
    const vb = value != null ? Buffer.byteLength(value) : 0;
    o.tag(1, LEN);
    o.varint((key != null ? lenField(kb) : 0) + (value != null ? lenField(vb) : 0));
    if (key != null) o.string(1, key, kb);
    if (value != null) o.string(2, value, vb);
  }
  const action = APPEND_ACTIONS[h.appendAction];
  if (action !== undefined) {
    o.tag(3, VARINT);
    o.varint(action);
  }
}

function writeValue(o: Out, v: DecodedValue): void {
  if (v.nullValue != null) {
    o.tag(1, VARINT);
    o.varint(0);
  }
  if (v.numberValue != null) o.double(2, v.numberValue);
  if (v.stringValue != null) o.string(3, v.stringValue, Buffer.byteLength(v.stringValue));
  if (v.boolValue != null) {
    o.tag(4, VARINT);
    o.varint(v.boolValue ? 1 : 0);
  }
  if (v.structValue != null) {
    o.tag(5, LEN);
    o.varint(structSize(v.structValue));
    writeStruct(o, v.structValue);
  }
  if (v.listValue != null) {
    const values = v.listValue.values ?? [];
    let l = 0;
    for (const x of values) l += lenField(valueSize(x));
    o.tag(6, LEN);
    o.varint(l);
    for (const x of values) {
      o.tag(1, LEN);
      o.varint(valueSize(x));
      writeValue(o, x);
    }
  }
}

function writeStruct(o: Out, s: DecodedStruct): void {
  const fields = s.fields;
  if (fields == null) return;
  for (const k of Object.keys(fields)) {
    const kb = Buffer.byteLength(k);
    const vs = valueSize(fields[k]);
    o.tag(1, LEN);
    o.varint(lenField(kb) + lenField(vs));
    o.string(1, k, kb);
    o.tag(2, LEN);
    o.varint(vs);
    writeValue(o, fields[k]);
  }
}

function statusSize(s: CheckResponseObject['status']): number {
  let n = 0;
  if (s.code != null) n += 1 + varintSize(s.code);
  if (s.message != null) n += lenField(Buffer.byteLength(s.message));
  return n;
}

function okSize(ok: NonNullable<CheckResponseObject['okResponse']>): number {
  let n = headersSize(2, ok.headers) + headersSize(6, ok.responseHeadersToAdd);
  if (ok.headersToRemove != null) for (const h of ok.headersToRemove) n += lenField(Buffer.byteLength(h));
  return n;
}

function deniedSize(d: NonNullable<CheckResponseObject['deniedResponse']>): number {
  let n = 0;
  if (d.status != null) n += lenField(d.status.code != null ? 1 + varintSize(d.status.code) : 0);
  n += headersSize(2, d.headers);
  if (d.body != null) n += lenField(Buffer.byteLength(d.body));
  return n;
}

/** envoy.service.auth.v3.CheckResponse bytes for the object toCheckResponse builds. */
export function encodeCheckResponse(r: CheckResponseObject): Buffer {
  const status = r.status != null ? statusSize(r.status) : -1;
  const denied = r.deniedResponse != null ? deniedSize(r.deniedResponse) : -1;
  const ok = r.okResponse != null ? okSize(r.okResponse) : -1;
  const meta = r.dynamicMetadata != null ? structSize(r.dynamicMetadata) : -1;
  let total = 0;
  if (status >= 0) total += lenField(status);
  if (denied >= 0) total += lenField(denied);
  if (ok >= 0) total += lenField(ok);
  if (meta >= 0) total += lenField(meta);
  const o = new Out(Buffer.allocUnsafe(total));
  if (status >= 0) {
    o.tag(1, LEN);
    o.varint(status);
    if (r.status.code != null) {
      o.tag(1, VARINT);
      o.varint(r.status.code);
    }
    if (r.status.message != null) o.string(2, r.status.message, Buffer.byteLength(r.status.message));
  }
  if (denied >= 0) {
    const d = r.deniedResponse!;
    o.tag(2, LEN);
    o.varint(denied);
    if (d.status != null) {
      o.tag(1, LEN);
      o.varint(d.status.code != null ? 1 + varintSize(d.status.code) : 0);
      if (d.status.code != null) {
        o.tag(1, VARINT);
        o.varint(d.status.code);
      }
    }
    for (const h of d.headers ?? []) writeHeaderOption(o, 2, h);
    if (d.body != null) o.string(3, d.body, Buffer.byteLength(d.body));
  }
  if (ok >= 0) {
    const k = r.okResponse!;
    o.tag(3, LEN);
    o.varint(ok);
    for (const h of k.headers ?? []) writeHeaderOption(o, 2, h);
    for (const h of k.headersToRemove ?? []) o.string(5, h, Buffer.byteLength(h));
    for (const h of k.responseHeadersToAdd ?? []) writeHeaderOption(o, 6, h);
  }
  if (meta >= 0) {
    o.tag(4, LEN);
    o.varint(meta);
    writeStruct(o, r.dynamicMetadata!);
  }
  if (o.pos !== total) throw new Error(`CheckResponse encoding wrote ${o.pos} of ${total} bytes`);
  return o.buf;
}

// ---- which objects the direct writer takes ---------------------------------------------------------

const set = (...k: string[]): ReadonlySet<string> => new Set(k);
const RESPONSE_KEYS = set('status', 'okResponse', 'deniedResponse', 'dynamicMetadata');
const STATUS_KEYS = set('code', 'message');
const OK_KEYS = set('headers', 'headersToRemove', 'responseHeadersToAdd');
const DENIED_KEYS = set('status', 'headers', 'body');
const HTTP_STATUS_KEYS = set('code');
const OPTION_KEYS = set('header', 'appendAction');
const HEADER_KEYS = set('key', 'value');
const STRUCT_KEYS = set('fields');
const VALUE_KEYS = set('nullValue', 'numberValue', 'stringValue', 'boolValue', 'structValue', 'listValue');
const LIST_KEYS = set('values');

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x) && !Buffer.isBuffer(x);
function onlyKeys(o: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  for (const k in o) if (!allowed.has(k)) return false;
  return true;
}
const absent = (x: unknown): boolean => x === undefined || x === null;
const optString = (x: unknown): boolean => absent(x) || typeof x === 'string';
const optInt32 = (x: unknown): boolean => absent(x) || (Number.isInteger(x) && (x as number) >= -2147483648 && (x as number) <= 2147483647);
const optArray = (x: unknown, item: (v: unknown) => boolean): boolean => absent(x) || (Array.isArray(x) && x.every(item));

function isOption(h: unknown): boolean {
  if (!isObj(h) || !onlyKeys(h, OPTION_KEYS)) return false;
  if (!absent(h.header) && !(isObj(h.header) && onlyKeys(h.header, HEADER_KEYS) && optString(h.header.key) && optString(h.header.value))) return false;
  return absent(h.appendAction) || (typeof h.appendAction === 'string' && APPEND_ACTIONS[h.appendAction] !== undefined);
}

function isStruct(s: unknown, depth: number): boolean {
  if (depth > 64 || !isObj(s) || !onlyKeys(s, STRUCT_KEYS)) return false;
  if (absent(s.fields)) return true;
  if (!isObj(s.fields)) return false;
  for (const k in s.fields) if (!isValue(s.fields[k], depth + 1)) return false;
  return true;
}

function isValue(v: unknown, depth: number): boolean {
  if (depth > 64 || !isObj(v) || !onlyKeys(v, VALUE_KEYS)) return false;
  if (!absent(v.nullValue) && v.nullValue !== 'NULL_VALUE' && v.nullValue !== 0) return false;
  if (!absent(v.numberValue) && typeof v.numberValue !== 'number') return false;
  if (!optString(v.stringValue)) return false;
  if (!absent(v.boolValue) && typeof v.boolValue !== 'boolean') return false;
  if (!absent(v.structValue) && !isStruct(v.structValue, depth + 1)) return false;
  if (!absent(v.listValue)) {
    const l = v.listValue;
    if (!isObj(l) || !onlyKeys(l, LIST_KEYS) || !optArray(l.values, (x) => isValue(x, depth + 1))) return false;
  }
  return true;
}

/**
 * Whether the direct writer takes this object: only the fields, types and enum names toCheckResponse
 * uses. Anything else (another field such as query parameters, a number where a string goes, an
 * unknown enum name) is for the proto-loader serializer, which knows the whole message.
 */
export function directlyEncodable(r: unknown): r is CheckResponseObject {
  if (!isObj(r) || !onlyKeys(r, RESPONSE_KEYS)) return false;
  if (!absent(r.status) && !(isObj(r.status) && onlyKeys(r.status, STATUS_KEYS) && optInt32(r.status.code) && optString(r.status.message))) return false;
  if (!absent(r.okResponse)) {
    const ok = r.okResponse;
    if (!isObj(ok) || !onlyKeys(ok, OK_KEYS) || !optArray(ok.headers, isOption) || !optArray(ok.responseHeadersToAdd, isOption) || !optArray(ok.headersToRemove, (x) => typeof x === 'string')) return false;
  }
  if (!absent(r.deniedResponse)) {
    const d = r.deniedResponse;
    if (!isObj(d) || !onlyKeys(d, DENIED_KEYS) || !optArray(d.headers, isOption) || !optString(d.body)) return false;
    if (!absent(d.status) && !(isObj(d.status) && onlyKeys(d.status, HTTP_STATUS_KEYS) && optInt32(d.status.code))) return false;
  }
  return absent(r.dynamicMetadata) || isStruct(r.dynamicMetadata, 0);
}

/** The Check response serializer: the direct writer where it applies, `fallback` (proto-loader's) elsewhere. */
export function checkResponseSerializer(fallback: (r: CheckResponseObject) => Buffer): (r: CheckResponseObject) => Buffer {
  return (r) => (directlyEncodable(r) ? encodeCheckResponse(r) : fallback(r));
}
