// CheckRequest (decoded by the real Envoy protos) → RequestView.
import { loadProtos } from '../../ext-authz/src/check/protos';
import { checkRequestToView } from '../../ext-authz/src/check/request-view';
import type { DecodedCheckRequest } from '../../ext-authz/src/check/check-request-types';
import { checkRequest, CANARY_PATH } from './fixtures';

const check = loadProtos().authorizationService.Check;
/** Encodes and decodes through the wire format, as grpc-js does for a real call. */
function wire(o: unknown): DecodedCheckRequest {
  return check.requestDeserialize(check.requestSerialize(o)) as DecodedCheckRequest;
}

describe('checkRequestToView', () => {
  test('reads method, host, path, scheme, headers and the Envoy peer address', () => {
    const r = checkRequestToView(
      wire(
        checkRequest({
          id: 'rid-1',
          method: 'GET',
          host: 'auth.example.com',
          path: CANARY_PATH,
          scheme: 'https',
          protocol: 'HTTP/1.1',
          headers: { ':authority': 'auth.example.com', 'X-Forwarded-For': '10.0.0.5', 'user-agent': 'ua' },
        }),
      ),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.view.method).toBe('GET');
    expect(r.view.host).toBe('auth.example.com');
    expect(r.view.path).toBe(CANARY_PATH);
    expect(r.view.scheme).toBe('https');
    expect(r.view.protocol).toBe('HTTP/1.1');
    expect(r.view.requestId).toBe('rid-1');
    expect(r.view.headers['x-forwarded-for']).toBe('10.0.0.5');
    // T-H6: the peer comes from source.address, never X-Forwarded-For.
    expect(r.view.sourceIp).toBe('10.1.2.3');
    expect(r.view.body).toBeUndefined();
    expect(r.view.bodyTruncated).toBe(false);
  });

  test('falls back to pseudo-headers when the http fields are empty', () => {
    const r = checkRequestToView(wire(checkRequest({ headers: { ':method': 'POST', ':path': '/saml/acs', ':authority': 'a.example' } })));
    expect(r.ok && r.view.method).toBe('POST');
    expect(r.ok && r.view.path).toBe('/saml/acs');
    expect(r.ok && r.view.host).toBe('a.example');
  });

  test('body from body, else raw_body as UTF-8; truncation from size and the partial-body header', () => {
    const a = checkRequestToView(wire(checkRequest({ method: 'POST', path: '/cb', host: 'h', body: 'state=x', size: '7' })));
    expect(a.ok && a.view.body).toBe('state=x');
    expect(a.ok && a.view.bodyTruncated).toBe(false);
    const b = checkRequestToView(wire(checkRequest({ method: 'POST', path: '/cb', host: 'h', rawBody: Buffer.from('SAMLResponse=é'), size: '900' })));
    expect(b.ok && b.view.body).toBe('SAMLResponse=é');
    expect(b.ok && b.view.bodyTruncated).toBe(true);
    // rawBody: the bytes Envoy sent (raw_body), or the UTF-8 bytes of the `body` string.
    expect(a.ok && Buffer.from(a.view.rawBody as Uint8Array).toString('utf8')).toBe('state=x');
    const bad = Buffer.from([0x61, 0x3d, 0xff, 0xfe]);
    const d = checkRequestToView(wire(checkRequest({ method: 'POST', path: '/cb', host: 'h', rawBody: bad, size: '4' })));
    expect(d.ok && Buffer.from(d.view.rawBody as Uint8Array).equals(bad)).toBe(true);
    // The size is compared with the bytes, not with the re-encoded text (4 bytes, 8 as UTF-8 of U+FFFD twice).
    expect(d.ok && d.view.bodyTruncated).toBe(false);
    const cut = checkRequestToView(wire(checkRequest({ method: 'POST', path: '/cb', host: 'h', rawBody: bad, size: '5' })));
    expect(cut.ok && cut.view.bodyTruncated).toBe(true);
    const c = checkRequestToView(
      wire(checkRequest({ method: 'POST', path: '/cb', host: 'h', body: 'a=b', headers: { 'x-envoy-auth-partial-body': 'true' } })),
    );
    expect(c.ok && c.view.bodyTruncated).toBe(true);
  });

  test('header_map keeps repeats: joined with "," and listed as duplicates', () => {
    const r = checkRequestToView(
      wire(
        checkRequest({
          method: 'GET',
          path: '/cb',
          host: 'h',
          headerMap: {
            headers: [
              { key: 'Host', value: 'a.example' },
              { key: 'host', value: 'b.example' },
              { key: 'cookie', rawValue: Buffer.from('k=v') },
            ],
          },
        }),
      ),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.view.headers.host).toBe('a.example,b.example');
    expect(r.view.duplicateHeaders).toEqual(['host']);
    expect(r.view.headers.cookie).toBe('k=v');
  });

  test('a request without attributes.request.http is malformed_request (never throws)', () => {
    expect(checkRequestToView(wire({}))).toEqual({ ok: false, reason: 'malformed_request' });
    expect(checkRequestToView(wire({ attributes: { request: { http: { host: 'h' } } } }))).toEqual({ ok: false, reason: 'malformed_request' });
  });
});
