// protojson CheckRequest (the `check` CLI input) → decoded shape + policy attributes.
import { fromProtojson, ProtojsonError } from '../../ext-authz/src/check/protojson-request';
import { checkRequestToView } from '../../ext-authz/src/check/request-view';

test('snake_case and lowerCamelCase names; map keys untouched; time and bytes decoded', () => {
  const { decoded, attributes } = fromProtojson({
    attributes: {
      source: { address: { socket_address: { address: '203.0.113.1', port_value: 1 } } },
      context_extensions: { Route_Name: 'x' },
      request: {
        time: '2025-11-28T12:00:00.25Z',
        http: { method: 'POST', host: 'h', path: '/cb', headers: { 'X_Custom_Header': 'v' }, raw_body: Buffer.from('a=b').toString('base64'), size: 3 },
      },
    },
  });
  expect((attributes as any).contextExtensions).toEqual({ Route_Name: 'x' });
  expect((attributes as any).request.http.headers).toEqual({ X_Custom_Header: 'v' });
  expect((attributes as any).request.time).toBe('2025-11-28T12:00:00.25Z');
  expect(decoded.attributes?.request?.time).toEqual({ seconds: '1764331200', nanos: 250000000 });
  const v = checkRequestToView(decoded);
  expect(v.ok && v.view).toMatchObject({ method: 'POST', body: 'a=b', sourceIp: '203.0.113.1', headers: { x_custom_header: 'v' } });
});

test('a bare AttributeContext is accepted; bad time / bytes are coded errors', () => {
  expect(checkRequestToView(fromProtojson({ request: { http: { method: 'GET', host: 'h', path: '/' } } }).decoded).ok).toBe(true);
  expect(() => fromProtojson({ attributes: { request: { time: 'yesterday' } } })).toThrow(ProtojsonError);
  expect(() => fromProtojson({ attributes: { request: { http: { rawBody: '***' } } } })).toThrow(expect.objectContaining({ code: 'protojson_bad_bytes' }));
  expect(() => fromProtojson([1])).toThrow(expect.objectContaining({ code: 'protojson_not_object' }));
});
