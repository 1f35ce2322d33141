// The CheckRequest straight from protobuf bytes (docs/architecture.md, "A callback, step by step", step
// 2): the fields Envoy sends on every check are read in one pass into the object the proto-loader
// deserializer would build (same names, int64 as decimal strings, enums as names, bytes as Buffers, only
// the fields present on the wire, keys in field-number order), without protobufjs's message instances and
// its second toObject pass. Anything this reader does not handle — a field it does not know, a header
// map, a non-empty metadata context, a pipe or internal address, a malformed length — goes to the
// proto-loader deserializer instead, whole, so the result is always what it gives (test/check/
// check-request-decode.test.ts compares the two on generated requests).
import type { DecodedAttributeContext, DecodedCheckRequest, DecodedHttpRequest, DecodedPeer, DecodedSocketAddress } from './check-request-types';

/**
 * UTF-8 text of a byte range. Node Buffers have the native `utf8Slice` behind `toString('utf8', s, e)`
 * (which adds argument checks measured at a few percent of a check); protobufjs reads strings with it
 * too. Same result, invalid sequences included (U+FFFD).
 */
const utf8: (b: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as { utf8Slice?: unknown }).utf8Slice === 'function'
    ? (b, start, end) => (b as unknown as { utf8Slice(s: number, e: number): string }).utf8Slice(start, end)
    : (b, start, end) => b.toString('utf8', start, end);

/** Thrown inside the reader to hand the whole message to the fallback; never escapes. */
const FALLBACK = Symbol('fallback');

class Reader {
  pos: number;
  constructor(readonly buf: Buffer, start: number, readonly end: number) {
    this.pos = start;
  }

  /** A varint of at most 32 significant bits (tags, lengths, uint32, int32, enums, bools). */
  uint32(): number {
    const b = this.buf;
    let v = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw FALLBACK;
      const byte = b[this.pos++];
      if (shift < 32) v |= (byte & 0x7f) << shift;
      if (byte < 0x80) return v >>> 0;
      shift += 7;
    }
    throw FALLBACK;
  }

  /** An int64 varint as the decimal string protobufjs gives with `longs: String`. */
  int64String(): string {
    const b = this.buf;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw FALLBACK;
      const byte = b[this.pos++];
      const bits = byte & 0x7f;
      if (shift < 28) lo |= bits << shift;
      else if (shift === 28) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (shift - 32);
      if (byte < 0x80) {
        if (hi === 0) return String(lo >>> 0);
        return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString();
      }
      shift += 7;
    }
    throw FALLBACK;
  }

  /** The end of a length-delimited field starting here, which must end within its container's `limit`. */
  sub(limit: number): number {
    const len = this.uint32();
    const end = this.pos + len;
    if (end > limit) throw FALLBACK;
    return end;
  }

  string(limit: number): string {
    const end = this.sub(limit);
    const s = utf8(this.buf, this.pos, end);
    this.pos = end;
    return s;
  }

  bytes(limit: number): Buffer {
    const end = this.sub(limit);
    const v = this.buf.subarray(this.pos, end);
    this.pos = end;
    return v;
  }

  /** A container was read to exactly its end (a varint running past it is malformed). */
  done(end: number): void {
    if (this.pos !== end) throw FALLBACK;
  }
}

const LEN = 2;
const VARINT = 0;

/** One map<string, string> entry into `into` (key and value default to ""). */
function mapEntry(r: Reader, limit: number, into: Record<string, string>): void {
  const end = r.sub(limit);
  let key = '';
  let value = '';
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | LEN)) key = r.string(end);
    else if (tag === ((2 << 3) | LEN)) value = r.string(end);
    else throw FALLBACK;
  }
  r.done(end);
  // protobufjs keeps a `__proto__` key as an own property; a plain object would drop it.
  if (key === '__proto__') throw FALLBACK;
  into[key] = value;
}

const PROTOCOLS = ['TCP', 'UDP'];

function socketAddress(r: Reader, end: number): DecodedSocketAddress {
  let protocol: string | number | undefined;
  let address: string | undefined;
  let portValue: number | undefined;
  let namedPort: string | undefined;
  let resolverName: string | undefined;
  let ipv4Compat: boolean | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | VARINT: {
        const p = r.uint32() | 0;
        protocol = PROTOCOLS[p] ?? p;
        break;
      }
      case (2 << 3) | LEN:
        address = r.string(end);
        break;
      case (3 << 3) | VARINT:
        portValue = r.uint32();
        break;
      case (4 << 3) | LEN:
        namedPort = r.string(end);
        break;
      case (5 << 3) | LEN:
        resolverName = r.string(end);
        break;
      case (6 << 3) | VARINT:
        ipv4Compat = r.uint32() !== 0;
        break;
      default:
        throw FALLBACK;
    }
  }
  r.done(end);
  const o: Record<string, unknown> = {};
  if (protocol !== undefined) o.protocol = protocol;
  if (address !== undefined) o.address = address;
  if (portValue !== undefined) o.portValue = portValue;
  if (namedPort !== undefined) o.namedPort = namedPort;
  if (resolverName !== undefined) o.resolverName = resolverName;
  if (ipv4Compat !== undefined) o.ipv4Compat = ipv4Compat;
  return o as DecodedSocketAddress;
}

function peer(r: Reader, end: number): DecodedPeer {
  let address: DecodedPeer['address'];
  let service: string | undefined;
  let labels: Record<string, string> | undefined;
  let principal: string | undefined;
  let certificate: string | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | LEN: {
        const aEnd = r.sub(end);
        let socket: DecodedSocketAddress | undefined;
        while (r.pos < aEnd) {
          // Only socket_address; a pipe or an internal address goes to the fallback.
          if (r.uint32() !== ((1 << 3) | LEN)) throw FALLBACK;
          socket = socketAddress(r, r.sub(aEnd));
        }
        r.done(aEnd);
        address = socket === undefined ? {} : { socketAddress: socket };
        break;
      }
      case (2 << 3) | LEN:
        service = r.string(end);
        break;
      case (3 << 3) | LEN:
        labels ??= {};
        mapEntry(r, end, labels);
        break;
      case (4 << 3) | LEN:
        principal = r.string(end);
        break;
      case (5 << 3) | LEN:
        certificate = r.string(end);
        break;
      default:
        throw FALLBACK;
    }
  }
  r.done(end);
  const o: DecodedPeer = {};
  if (address !== undefined) o.address = address;
  if (service !== undefined) o.service = service;
  if (labels !== undefined && Object.keys(labels).length > 0) o.labels = labels;
  if (principal !== undefined) o.principal = principal;
  if (certificate !== undefined) o.certificate = certificate;
  return o;
}

function httpRequest(r: Reader, end: number): DecodedHttpRequest {
  // Field values by number (1..12); header_map (13) goes to the fallback.
  const v: unknown[] = [];
  let headers: Record<string, string> | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 3 && (tag & 7) === LEN) {
      headers ??= {};
      mapEntry(r, end, headers);
    } else if (field === 9 && (tag & 7) === VARINT) v[9] = r.int64String();
    else if (field === 12 && (tag & 7) === LEN) v[12] = r.bytes(end);
    else if (field >= 1 && field <= 11 && field !== 3 && field !== 9 && (tag & 7) === LEN) v[field] = r.string(end);
    else throw FALLBACK;
  }
  r.done(end);
  const o: Record<string, unknown> = {};
  if (v[1] !== undefined) o.id = v[1];
  if (v[2] !== undefined) o.method = v[2];
  if (headers !== undefined && Object.keys(headers).length > 0) o.headers = headers;
  if (v[4] !== undefined) o.path = v[4];
  if (v[5] !== undefined) o.host = v[5];
  if (v[6] !== undefined) o.scheme = v[6];
  if (v[7] !== undefined) o.query = v[7];
  if (v[8] !== undefined) o.fragment = v[8];
  if (v[9] !== undefined) o.size = v[9];
  if (v[10] !== undefined) o.protocol = v[10];
  if (v[11] !== undefined) o.body = v[11];
  if (v[12] !== undefined) o.rawBody = v[12];
  return o as DecodedHttpRequest;
}

function request(r: Reader, end: number): NonNullable<DecodedAttributeContext['request']> {
  let time: { seconds?: string; nanos?: number } | undefined;
  let http: DecodedHttpRequest | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | LEN)) {
      const tEnd = r.sub(end);
      let seconds: string | undefined;
      let nanos: number | undefined;
      while (r.pos < tEnd) {
        const t = r.uint32();
        if (t === ((1 << 3) | VARINT)) seconds = r.int64String();
        else if (t === ((2 << 3) | VARINT)) nanos = r.uint32() | 0;
        else throw FALLBACK;
      }
      r.done(tEnd);
      time = {};
      if (seconds !== undefined) time.seconds = seconds;
      if (nanos !== undefined) time.nanos = nanos;
    } else if (tag === ((2 << 3) | LEN)) {
      http = httpRequest(r, r.sub(end));
    } else throw FALLBACK;
  }
  r.done(end);
  const o: NonNullable<DecodedAttributeContext['request']> = {};
  if (time !== undefined) o.time = time;
  if (http !== undefined) o.http = http;
  return o;
}

function attributes(r: Reader, end: number): DecodedAttributeContext {
  let source: DecodedPeer | undefined;
  let destination: DecodedPeer | undefined;
  let req: DecodedAttributeContext['request'];
  let ext: Record<string, string> | undefined;
  let metadata: boolean | undefined;
  let routeMetadata: boolean | undefined;
  let sni: { sni?: string } | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | LEN:
        source = peer(r, r.sub(end));
        break;
      case (2 << 3) | LEN:
        destination = peer(r, r.sub(end));
        break;
      case (4 << 3) | LEN:
        req = request(r, r.sub(end));
        break;
      case (10 << 3) | LEN:
        ext ??= {};
        mapEntry(r, end, ext);
        break;
      case (11 << 3) | LEN:
      case (13 << 3) | LEN: {
        // Only an empty Metadata message is read here; anything in it goes to the fallback.
        if (r.sub(end) !== r.pos) throw FALLBACK;
        if (tag >>> 3 === 11) metadata = true;
        else routeMetadata = true;
        break;
      }
      case (12 << 3) | LEN: {
        const sEnd = r.sub(end);
        sni = {};
        while (r.pos < sEnd) {
          if (r.uint32() !== ((1 << 3) | LEN)) throw FALLBACK;
          sni.sni = r.string(sEnd);
        }
        r.done(sEnd);
        break;
      }
      default:
        throw FALLBACK;
    }
  }
  r.done(end);
  const o: DecodedAttributeContext = {};
  if (source !== undefined) o.source = source;
  if (destination !== undefined) o.destination = destination;
  if (req !== undefined) o.request = req;
  if (ext !== undefined && Object.keys(ext).length > 0) o.contextExtensions = ext;
  if (metadata) o.metadataContext = {};
  if (sni !== undefined) o.tlsSession = sni;
  if (routeMetadata) o.routeMetadataContext = {};
  return o;
}

/**
 * A CheckRequest deserializer: the fast reader for what Envoy sends, `fallback` (the proto-loader
 * deserializer) for everything else.
 */
export function checkRequestDecoder(fallback: (b: Buffer) => unknown): (b: Buffer) => DecodedCheckRequest {
  return (buf: Buffer): DecodedCheckRequest => {
    try {
      const r = new Reader(buf, 0, buf.length);
      let attrs: DecodedAttributeContext | undefined;
      while (r.pos < r.end) {
        if (r.uint32() !== ((1 << 3) | LEN)) throw FALLBACK;
        // A repeated message field is merged by protobufjs; the fallback does that.
        if (attrs !== undefined) throw FALLBACK;
        attrs = attributes(r, r.sub(r.end));
      }
      return attrs === undefined ? {} : { attributes: attrs };
    } catch (e) {
      if (e !== FALLBACK) throw e;
      return fallback(buf) as DecodedCheckRequest;
    }
  };
}
