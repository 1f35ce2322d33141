// HTTP forward-auth adapters: Envoy http_service, nginx auth_request, Traefik/Caddy forward auth.
import { envoyHttpServiceToView, proxyForwardAuthToView, toHttpReply } from '../../ext-authz/src/check/forward-auth';
import { result, CANARY_PATH } from './fixtures';

describe('envoyHttpServiceToView', () => {
  test('strips the prefix and keeps the original method, host and headers', () => {
    const r = envoyHttpServiceToView(
      { method: 'POST', url: `/envoy/authz${CANARY_PATH}`, rawHeaders: ['Host', 'auth.example.com', 'X-Request-Id', 'r1', 'Content-Length', '3'], body: Buffer.from('a=b') },
      '/envoy/authz',
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.view).toMatchObject({ method: 'POST', host: 'auth.example.com', path: CANARY_PATH, body: 'a=b', requestId: 'r1' });
    expect(r.view.headers['content-length']).toBeUndefined();
  });
  test('a path outside the prefix is malformed', () => {
    expect(envoyHttpServiceToView({ method: 'GET', url: '/envoy/authzX', rawHeaders: [] }, '/envoy/authz').ok).toBe(false);
  });
});

describe('proxyForwardAuthToView', () => {
  test('nginx: X-Original-* describe the request; they are not passed on as client headers', () => {
    const r = proxyForwardAuthToView({
      method: 'GET',
      url: '/authz',
      rawHeaders: ['Host', '127.0.0.1:9192', 'X-Original-Method', 'get', 'X-Original-URI', CANARY_PATH, 'X-Original-Host', 'auth.example.com',
        'X-Original-Remote-Addr', '10.9.9.9', 'X-Forwarded-Host', 'new-backend.internal', 'X-Forwarded-For', '10.0.0.5'],
      body: Buffer.from('ignored'),
    });
    expect(r.ok && r.mode).toBe('nginx');
    if (!r.ok) return;
    expect(r.view).toMatchObject({ method: 'GET', host: 'auth.example.com', path: CANARY_PATH, sourceIp: '10.9.9.9' });
    expect(r.view.headers.host).toBe('auth.example.com');
    expect(r.view.headers['x-original-uri']).toBeUndefined();
    // A client X-Forwarded-Host survives as a client header so facts can flag and strip it (T-H3).
    expect(r.view.headers['x-forwarded-host']).toBe('new-backend.internal');
    // nginx never sends the body to auth_request.
    expect(r.view.body).toBeUndefined();
  });
  test('traefik/caddy: X-Forwarded-*; body used when forwarded', () => {
    const r = proxyForwardAuthToView({
      method: 'POST',
      url: '/forward-auth',
      rawHeaders: ['X-Forwarded-Method', 'POST', 'X-Forwarded-Uri', '/oauth2/callback', 'X-Forwarded-Host', 'auth.example.com', 'X-Forwarded-Proto', 'https', 'X-Real-Ip', '10.2.2.2'],
      body: Buffer.from('state=s'),
    });
    expect(r.ok && r.mode).toBe('traefik');
    expect(r.ok && r.view).toMatchObject({ method: 'POST', path: '/oauth2/callback', body: 'state=s', sourceIp: '10.2.2.2', scheme: 'https' });
  });
  test('the body bytes reach the view untouched (not valid UTF-8, not NFC), next to their UTF-8 reading', () => {
    const bytes = Buffer.concat([Buffer.from('{"n":"e\u0301","b":"'), Buffer.from([0xff, 0xc0, 0xaf]), Buffer.from('"}')]);
    for (const r of [
      envoyHttpServiceToView({ method: 'POST', url: '/envoy/authz/webhooks/idp', rawHeaders: ['Host', 'h'], body: bytes }, '/envoy/authz'),
      proxyForwardAuthToView({ method: 'POST', url: '/forward-auth', rawHeaders: ['X-Forwarded-Method', 'POST', 'X-Forwarded-Uri', '/webhooks/idp', 'X-Forwarded-Host', 'h'], body: bytes }),
    ]) {
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      expect(Buffer.from(r.view.rawBody as Uint8Array).equals(bytes)).toBe(true);
      expect(r.view.body).toBe(bytes.toString('utf8'));
      expect(Buffer.from(r.view.body as string, 'utf8').equals(bytes)).toBe(false); // the text alone would lose them
    }
  });
  test('missing or repeated control headers are malformed', () => {
    expect(proxyForwardAuthToView({ method: 'GET', url: '/authz', rawHeaders: ['X-Original-URI', '/x'] }).ok).toBe(false);
    expect(
      proxyForwardAuthToView({
        method: 'GET',
        url: '/authz',
        rawHeaders: ['X-Original-URI', '/x', 'X-Original-Method', 'GET', 'X-Original-Host', 'a', 'X-Original-Host', 'b'],
      }).ok,
    ).toBe(false);
  });
});

describe('toHttpReply', () => {
  test('allow: 200 + routing header + headers to remove', () => {
    const rep = toHttpReply(result({ backend: 'new', action: 'rewrite' }, { headersToRemove: ['x-backend', 'x-callback-backend'] }), 'envoy', 'x-callback-backend');
    expect(rep.status).toBe(200);
    expect(rep.headers['x-callback-backend']).toBe('new');
    expect(rep.headers['x-envoy-auth-headers-to-remove']).toBe('x-backend');
  });
  test('deny: status by reason, generic body; nginx only gets 401/403', () => {
    const r = result({ action: 'deny', backend: null, reasons: ['duplicate_param'], http_status: 400 });
    const e = toHttpReply(r, 'envoy', 'x-callback-backend');
    expect(e.status).toBe(400);
    expect(JSON.parse(e.body)).toEqual({ error: 'request_denied', reason: 'duplicate_param', decision_id: 'd-123' });
    expect(e.headers['x-callback-reason']).toBe('duplicate_param');
    const n = toHttpReply(r, 'nginx', 'x-callback-backend');
    expect(n.status).toBe(403);
    expect(n.headers['x-callback-status']).toBe('400');
    expect(toHttpReply(result({ action: 'deny', backend: null, reasons: ['token_missing'], http_status: 401 }), 'nginx', 'x').status).toBe(401);
  });
});
