// The direct CheckResponse encoder writes, for every object the service hands to gRPC, exactly the bytes
// the proto-loader (protobufjs) serializer writes, and those bytes decode to the object's meaning with the
// real Envoy protos: checked on the decisions the service makes (allow, rewrite, deny with and without a
// hint, policy metadata of every JSON shape) and on arbitrary objects of the CheckResponse shape.
import fc from 'fast-check';
import { loadProtos } from '../../ext-authz/src/check/protos';
import { toCheckResponse } from '../../ext-authz/src/check/check-response';
import { checkResponseSerializer, directlyEncodable, encodeCheckResponse } from '../../ext-authz/src/check/check-response-encode';
import type { CheckResponseObject, DecodedValue, HeaderValueOption } from '../../ext-authz/src/check/check-request-types';
import { localDeny } from '../../ext-authz/src/check/local-deny';
import { REASONS } from '../../ext-authz/src/model/reasons';
import type { ReasonCode } from '../../ext-authz/src/model/reasons';
import { result } from './fixtures';

const check = loadProtos().authorizationService.Check;
const opts = { routingHeader: 'x-callback-backend' };

const serialize = checkResponseSerializer((r) => Buffer.from(check.responseSerialize(r)));

function same(o: CheckResponseObject): void {
  expect(directlyEncodable(o)).toBe(true);
  const ours = encodeCheckResponse(o);
  const theirs = check.responseSerialize(o);
  expect(ours.toString('hex')).toBe(Buffer.from(theirs).toString('hex'));
  expect(check.responseDeserialize(ours)).toEqual(check.responseDeserialize(theirs));
}

// Strings without lone surrogates: protobuf strings are UTF-8, and protobufjs writes a lone surrogate as
// invalid UTF-8 where Buffer writes U+FFFD (Envoy would refuse the former).
const text = fc.string({ unit: 'grapheme', maxLength: 40 });
const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.double({ noNaN: true }), fc.integer(), text, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(text, tie('v'), { maxKeys: 4 })),
})).v;

test('the service decisions: allow, rewrite, denies with every reason, hints and metadata', () => {
  same(toCheckResponse(result(), opts));
  same(toCheckResponse(result({ action: 'rewrite', backend: 'new', reasons: ['stage_new'] }), opts));
  same(toCheckResponse(result({ action: 'allow', backend: 'legacy', headers: { 'x-extra': 'é✓', 'X-Callback-Backend': 'new' }, response_headers: { 'set-cookie': '__Host-h=v; Secure', 'x-a': 'b' } }, { headersToRemove: ['x-backend', 'X-Forwarded-Host', ':path'] }), opts));
  same(toCheckResponse(result({ action: 'deny', backend: null, reasons: ['state_expired'], http_status: 400, response_headers: { 'x-callback-hint': 'restart-login' } }), opts));
  for (const code of Object.keys(REASONS) as ReasonCode[]) same(toCheckResponse(localDeny(code, `d-${code}`), opts));
  same(toCheckResponse({ ...result(), connection: null }, opts));
});

test('a metadata key named __proto__ stays a field at any depth (it once replaced the object\'s prototype)', () => {
  const meta = JSON.parse('{"__proto__": {"__proto__": null, "a": 1}, "b": {"__proto__": "x"}}') as Record<string, unknown>;
  const o = toCheckResponse(result({ dynamic_metadata: meta }), opts);
  same(o);
  const fields = check.responseDeserialize(encodeCheckResponse(o)).dynamicMetadata.fields;
  expect(Object.prototype.hasOwnProperty.call(fields, '__proto__')).toBe(true);
  expect(Object.keys(fields.b.structValue.fields)).toEqual(['__proto__']);
  // The shape fast-check found: {"": {"": {"__proto__": null}}}.
  same(toCheckResponse(result({ dynamic_metadata: JSON.parse('{"": {"": {"__proto__": null}}}') as Record<string, unknown> }), opts));
});

test('policy metadata of any JSON shape, any header text', () => {
  fc.assert(
    fc.property(fc.dictionary(text, json, { maxKeys: 5 }), fc.dictionary(text, text, { maxKeys: 3 }), fc.array(text, { maxLength: 3 }), fc.constantFrom('allow', 'rewrite', 'deny'), (meta, headers, remove, action) => {
      const r = result({ action: action as 'allow', backend: action === 'deny' ? null : 'legacy', dynamic_metadata: meta as Record<string, unknown>, headers, response_headers: headers }, { headersToRemove: remove });
      same(toCheckResponse(r, opts));
    }),
    { numRuns: 300 },
  );
});

test('arbitrary objects of the CheckResponse shape, edge values included', () => {
  const header: fc.Arbitrary<HeaderValueOption> = fc.record({
    header: fc.record({ key: text, value: text }),
    appendAction: fc.constantFrom('APPEND_IF_EXISTS_OR_ADD', 'ADD_IF_ABSENT', 'OVERWRITE_IF_EXISTS_OR_ADD', 'OVERWRITE_IF_EXISTS'),
  });
  const value: fc.Arbitrary<DecodedValue> = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.constant({ nullValue: 'NULL_VALUE' }),
      fc.record({ numberValue: fc.double() }),
      fc.record({ stringValue: text }),
      fc.record({ boolValue: fc.boolean() }),
      fc.record({ structValue: fc.record({ fields: fc.dictionary(text, tie('v') as fc.Arbitrary<DecodedValue>, { maxKeys: 3 }) }) }),
      fc.record({ listValue: fc.record({ values: fc.array(tie('v') as fc.Arbitrary<DecodedValue>, { maxLength: 3 }) }) }),
    ),
  })).v as fc.Arbitrary<DecodedValue>;
  const code = fc.oneof(fc.integer({ min: -2147483648, max: 2147483647 }), fc.constantFrom(0, 7, 127, 128, 16383, 16384, -1));
  const response: fc.Arbitrary<CheckResponseObject> = fc.oneof(
    fc.record({
      status: fc.record({ code }, { requiredKeys: ['code'] }),
      okResponse: fc.record({ headers: fc.array(header, { maxLength: 4 }), headersToRemove: fc.array(text, { maxLength: 3 }), responseHeadersToAdd: fc.array(header, { maxLength: 3 }) }),
      dynamicMetadata: fc.record({ fields: fc.dictionary(text, value, { maxKeys: 4 }) }),
    }),
    fc.record({
      status: fc.record({ code, message: text }),
      deniedResponse: fc.record({ status: fc.record({ code: fc.integer({ min: 0, max: 599 }) }), headers: fc.array(header, { maxLength: 5 }), body: fc.string({ unit: 'grapheme', maxLength: 300 }) }),
    }, { requiredKeys: ['status', 'deniedResponse'] }),
  );
  fc.assert(fc.property(response, (o) => same(o)), { numRuns: 500 });
});

test('a long body needs a multi-byte length and stays exact', () => {
  same(toCheckResponse(result({ action: 'deny', backend: null, reasons: ['malformed_request'] }, { decisionId: 'x'.repeat(20_000) }), opts));
});

test('anything else goes to the proto-loader serializer: the same bytes either way, no field dropped', () => {
  // The opa-envoy mode's allow carries query parameters and headers without an append action.
  const opa = {
    status: { code: 0 },
    okResponse: { headers: [{ header: { key: 'x-a', value: 'b' } }], headersToRemove: ['x-r'], responseHeadersToAdd: [], queryParametersToSet: [{ key: 'q', value: 'v' }], queryParametersToRemove: ['z'] },
    dynamicMetadata: { fields: { decision_id: { stringValue: 'd' } } },
  } as unknown as CheckResponseObject;
  expect(directlyEncodable(opa)).toBe(false);
  expect(serialize(opa).toString('hex')).toBe(Buffer.from(check.responseSerialize(opa)).toString('hex'));
  expect((check.responseDeserialize(serialize(opa)) as any).okResponse.queryParametersToSet).toEqual([{ key: 'q', value: 'v' }]);
  // Mistyped or unknown values anywhere: never written by the direct writer.
  const odd: unknown[] = [
    { status: { code: 1.5 } },
    { status: { code: 0 }, deniedResponse: { status: { code: 403 }, body: 42 } },
    { status: { code: 0 }, okResponse: { headers: [{ header: { key: 'a', value: 7 }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }] } },
    { status: { code: 0 }, okResponse: { headers: [{ header: { key: 'a', value: 'b' }, appendAction: 'SOMETIMES' }] } },
    { status: { code: 0 }, okResponse: { headers: [{ header: { key: 'a', value: 'b' }, append: { value: true } }] } },
    { status: { code: 0 }, dynamicMetadata: { fields: { a: { stringValue: 'x', extra: 1 } } } },
    { status: { code: 0 }, dynamicMetadata: { fields: { a: { listValue: { values: [{ numberValue: '1' }] } } } } },
  ];
  for (const o of odd) {
    expect(directlyEncodable(o)).toBe(false);
    let theirs: Buffer | null = null;
    try {
      theirs = Buffer.from(check.responseSerialize(o));
    } catch {
      expect(() => serialize(o as CheckResponseObject)).toThrow();
      continue;
    }
    expect(serialize(o as CheckResponseObject).toString('hex')).toBe(theirs.toString('hex'));
  }
});
