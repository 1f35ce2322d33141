// The direct CheckRequest reader gives, for any bytes, what the proto-loader deserializer gives: the same
// object (same keys in the same order, int64 as strings, enums as names, bytes as Buffers) for every
// request Envoy sends, generated here with the real protos; the deserializer's own answer (or its error)
// for anything the reader hands over (header maps, metadata, pipes, unknown fields, broken bytes).
import fc from 'fast-check';
import { loadProtos } from '../../ext-authz/src/check/protos';
import { checkRequestDecoder } from '../../ext-authz/src/check/check-request-decode';
import { checkRequest, CANARY_PATH } from './fixtures';

const check = loadProtos().authorizationService.Check;
const decode = checkRequestDecoder((b) => check.requestDeserialize(b));
let fallbacks = 0;
const counting = checkRequestDecoder((b) => {
  fallbacks++;
  return check.requestDeserialize(b);
});

/** Same object, same key order at every level (JSON text compares order; toEqual the values). */
function same(bytes: Buffer): void {
  let theirs: unknown;
  let err: unknown = null;
  try {
    theirs = check.requestDeserialize(bytes);
  } catch (e) {
    err = e;
  }
  if (err !== null) {
    expect(() => decode(bytes)).toThrow();
    return;
  }
  const ours = decode(bytes);
  expect(ours).toEqual(theirs);
  expect(JSON.stringify(ours)).toBe(JSON.stringify(theirs));
}

const text = fc.string({ unit: 'grapheme', maxLength: 30 });
// A `__proto__` map key is handed to the deserializer (it keeps it as an own key); checked on its own below.
const key = text.filter((k) => k !== '__proto__');
const int64 = fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String), fc.integer({ min: 0, max: 2 ** 31 }).map(String), fc.constantFrom('0', '-1', '4294967296', '9007199254740993'));
const socket = fc.record(
  { protocol: fc.constantFrom('TCP', 'UDP'), address: text, portValue: fc.integer({ min: 0, max: 65535 }), namedPort: text, resolverName: text, ipv4Compat: fc.boolean() },
  { requiredKeys: [] },
);
const peer = fc.record({ address: fc.record({ socketAddress: socket }, { requiredKeys: [] }), service: text, labels: fc.dictionary(key, text, { maxKeys: 3 }), principal: text, certificate: text }, { requiredKeys: [] });
const http = fc.record(
  {
    id: text, method: text, headers: fc.dictionary(key, text, { maxKeys: 12 }), path: text, host: text, scheme: text, query: text, fragment: text,
    size: int64, protocol: text, body: fc.string({ maxLength: 200 }), rawBody: fc.uint8Array({ maxLength: 50 }).map((a) => Buffer.from(a)),
  },
  { requiredKeys: [] },
);
const attributes = fc.record(
  {
    source: peer,
    destination: peer,
    request: fc.record({ time: fc.record({ seconds: int64, nanos: fc.integer({ min: -2147483648, max: 2147483647 }) }, { requiredKeys: [] }), http }, { requiredKeys: [] }),
    contextExtensions: fc.dictionary(key, text, { maxKeys: 3 }),
    metadataContext: fc.constant({}),
    routeMetadataContext: fc.constant({}),
    tlsSession: fc.record({ sni: text }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

test('the requests Envoy sends: read directly, identical to the deserializer', () => {
  fallbacks = 0;
  fc.assert(fc.property(attributes, (a) => {
    const bytes = Buffer.from(check.requestSerialize({ attributes: a }));
    expect(counting(bytes)).toEqual(check.requestDeserialize(bytes));
    same(bytes);
  }), { numRuns: 600 });
  // The generated shapes are the reader's own: none of them needed the fallback.
  expect(fallbacks).toBe(0);
  same(Buffer.from(check.requestSerialize(checkRequest({ method: 'GET', path: CANARY_PATH, host: 'auth.example.com', headers: { ':path': CANARY_PATH, cookie: 'a=b' } }))));
  same(Buffer.alloc(0));
});

test('what the reader hands over comes back as the deserializer gives it', () => {
  const handed: Record<string, unknown>[] = [
    { attributes: { request: { http: { headerMap: { headers: [{ key: 'a', value: 'b' }, { key: 'raw', rawValue: Buffer.from([0xff]) }] } } } } },
    { attributes: { metadataContext: { filterMetadata: { 'envoy.filters.http.jwt_authn': { fields: { sub: { stringValue: 'u' } } } } } } },
    { attributes: { source: { address: { pipe: { path: '/tmp/s', mode: 384 } } } } },
    { attributes: { destination: { address: { envoyInternalAddress: { serverListenerName: 'l' } } } } },
    { attributes: { routeMetadataContext: { typedFilterMetadata: { x: { typeUrl: 't', value: Buffer.from('v') } } } } },
    { attributes: { request: { http: { headers: JSON.parse('{"__proto__":"x","a":"b"}') as Record<string, string> } } } },
  ];
  for (const o of handed) {
    fallbacks = 0;
    const bytes = Buffer.from(check.requestSerialize(o));
    expect(counting(bytes)).toEqual(check.requestDeserialize(bytes));
    expect(fallbacks).toBe(1);
    same(bytes);
  }
  // An unknown field, and a known field with another wire type.
  same(Buffer.concat([Buffer.from(check.requestSerialize({ attributes: { request: { http: { path: '/x' } } } })), Buffer.from([0xf8, 0x01, 0x05])]));
  same(Buffer.from([0x0a, 0x03, 0x22, 0x01, 0x48]));
});

test('arbitrary and mangled bytes: the same object, or both refuse', () => {
  const base = Buffer.from(check.requestSerialize(checkRequest({ method: 'GET', path: CANARY_PATH, host: 'auth.example.com', headers: { ':path': CANARY_PATH, 'x-a': 'b' }, size: '12' })));
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (a) => same(Buffer.from(a))),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(base.length), (i, byte, cut) => {
      const b = Buffer.from(base);
      b[i] = byte;
      same(b);
      same(b.subarray(0, cut));
    }),
    { numRuns: 1000 },
  );
});
