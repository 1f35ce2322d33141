// Decoded attributes → protojson (the OPA-Envoy `input.attributes` shape).
import { loadProtos } from '../../ext-authz/src/check/protos';
import { attributesToJson, jsonToStruct, structToJson, timestampToRfc3339 } from '../../ext-authz/src/check/attributes-json';
import type { DecodedCheckRequest } from '../../ext-authz/src/check/check-request-types';
import { checkRequest } from './fixtures';

const check = loadProtos().authorizationService.Check;

describe('attributesToJson', () => {
  test('timestamps are RFC 3339 with 0/3/6/9 fractional digits', () => {
    expect(timestampToRfc3339({ seconds: '1764331200' })).toBe('2025-11-28T12:00:00Z');
    expect(timestampToRfc3339({ seconds: '1764331200', nanos: 123000000 })).toBe('2025-11-28T12:00:00.123Z');
    expect(timestampToRfc3339({ seconds: '1764331200', nanos: 123456000 })).toBe('2025-11-28T12:00:00.123456Z');
    expect(timestampToRfc3339({ seconds: '1764331200', nanos: 1 })).toBe('2025-11-28T12:00:00.000000001Z');
  });

  test('lowerCamelCase names, int64 strings, base64 bytes, Struct as JSON; the input is not modified', () => {
    const req = checkRequest({ method: 'POST', path: '/cb', host: 'h', size: '3', rawBody: Buffer.from('a=b') });
    (req.attributes as Record<string, unknown>).metadataContext = {
      filterMetadata: { 'envoy.filters.http.jwt_authn': jsonToStruct({ sub: 'x', n: 2, ok: true, l: [1, 'a'], o: { k: null } }) },
    };
    (req.attributes as Record<string, unknown>).contextExtensions = { route: 'cb' };
    const decoded = check.requestDeserialize(check.requestSerialize(req)) as DecodedCheckRequest;
    const before = JSON.stringify(decoded);
    const json = attributesToJson(decoded.attributes ?? {}) as Record<string, any>;
    expect(JSON.stringify(decoded)).toBe(before);
    expect(json.request.time).toBe('2025-11-28T12:00:00.123Z');
    expect(json.request.http.size).toBe('3');
    expect(json.request.http.rawBody).toBe(Buffer.from('a=b').toString('base64'));
    expect(json.source.address.socketAddress.portValue).toBe(44123);
    expect(json.contextExtensions).toEqual({ route: 'cb' });
    expect(json.metadataContext.filterMetadata['envoy.filters.http.jwt_authn']).toEqual({ sub: 'x', n: 2, ok: true, l: [1, 'a'], o: { k: null } });
    // Round trip JSON → Struct → JSON.
    expect(structToJson(jsonToStruct({ a: [true, { b: 'c' }] }))).toEqual({ a: [true, { b: 'c' }] });
  });
});
