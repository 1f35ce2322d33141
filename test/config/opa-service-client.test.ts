// URL joining and redaction of the OPA service client (the transport itself is exercised against real
// servers in the bundle-download and decision-log-upload tests).
import { joinServiceUrl, OpaServiceClient, safeUrl } from '../../ext-authz/src/config/opa-service-client';

test('service URL + resource join with exactly one slash; an empty resource is the URL itself', () => {
  expect(joinServiceUrl('https://h/api/v1/', '/bundles/a.tar.gz').href).toBe('https://h/api/v1/bundles/a.tar.gz');
  expect(joinServiceUrl('https://h/api/v1', 'bundles/a.tar.gz').href).toBe('https://h/api/v1/bundles/a.tar.gz');
  expect(joinServiceUrl('https://h/b/x.tar.gz?sig=1', '').href).toBe('https://h/b/x.tar.gz?sig=1');
});

test('safeUrl drops the query and any user info (signed URLs carry secrets there)', () => {
  expect(safeUrl(new URL('https://user:pw@h:8443/b/x.tar.gz?X-Amz-Signature=abc'))).toBe('https://h:8443/b/x.tar.gz');
});

test('unreadable TLS files are coded errors naming the file, at construction', () => {
  const cfg = { name: 's', url: 'https://h', headers: {}, responseHeaderTimeoutSeconds: 10, tls: { caCert: '/nonexistent/ca.pem' }, allowInsecureTls: false, credentials: {} };
  expect(() => new OpaServiceClient(cfg)).toThrow(expect.objectContaining({ code: 'service_tls', message: expect.stringContaining('/nonexistent/ca.pem') }));
});

test('a response-header timeout of 0 means none', () => {
  const c = new OpaServiceClient({ name: 's', url: 'http://127.0.0.1:1', headers: {}, responseHeaderTimeoutSeconds: 0, tls: {}, allowInsecureTls: false, credentials: {} });
  expect(c.headerTimeoutMs).toBeNull();
  c.close();
});

test('a server that never answers is service_timeout; an oversized answer is service_response_too_large', async () => {
  const http = await import('node:http');
  const server = http.createServer((req, res) => {
    if (req.url === '/big') res.end(Buffer.alloc(64 * 1024));
    // anything else: never answer
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as import('node:net').AddressInfo).port;
  const c = new OpaServiceClient({ name: 's', url: `http://127.0.0.1:${port}`, headers: {}, responseHeaderTimeoutSeconds: 10, tls: {}, allowInsecureTls: false, credentials: {} });
  try {
    await expect(c.request({ method: 'GET', path: 'hang', headerTimeoutMs: 100 })).rejects.toMatchObject({ code: 'service_timeout' });
    await expect(c.request({ method: 'GET', path: 'big', maxBodyBytes: 1024 })).rejects.toMatchObject({ code: 'service_response_too_large' });
  } finally {
    c.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
