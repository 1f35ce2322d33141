// The HTTP listener on its own, over real loopback: which path goes where (forward-auth for Envoy's
// http_service prefix and the proxy routes, the Pin API, health, metrics, 404), the body limit of a
// forward-auth check, the Pin API's JSON errors, and a stop that cuts what is still open at its deadline.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEMO_PIN_API_TOKEN } from '../../ext-authz/src/config/default';
import { createHttpServer, listenHttp, stopHttp } from '../../ext-authz/src/server/http-server';
import { httpRequest } from '../support/app-harness';
import { serverFixture } from '../support/server-fixture';
import type { ServerFixture } from '../support/server-fixture';

jest.setTimeout(60_000);

interface Running {
  fx: ServerFixture;
  server: http.Server;
  port: number;
}

async function start(maxBodyBytes = 262_144): Promise<Running> {
  const fx = serverFixture();
  const server = createHttpServer({ core: fx.core, readiness: fx.readiness, pinApi: fx.pinApi, metrics: fx.metrics, routingHeader: () => 'x-route-to', maxBodyBytes: () => maxBodyBytes });
  const port = await listenHttp(server, '127.0.0.1:0');
  return { fx, server, port };
}

const NGINX = { 'x-original-method': 'GET', 'x-original-host': 'auth.example.com', 'x-original-uri': '/login?client_id=demo-client' };

test('listen on port 0 reports the port it got', async () => {
  const r = await start();
  try {
    expect(r.port).toBe((r.server.address() as AddressInfo).port);
    expect(r.port).toBeGreaterThan(0);
  } finally {
    await stopHttp(r.server, 1000);
  }
});

test('routes: health, readiness through load and drain, metrics, 404 for anything else', async () => {
  const r = await start();
  try {
    const get = (p: string) => httpRequest(r.port, 'GET', p, {});
    expect(await get('/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    expect(await get('/readyz')).toMatchObject({ status: 503, body: 'loading\n' });
    r.fx.readiness.markLoaded();
    expect(await get('/readyz')).toMatchObject({ status: 200, body: 'ready\n' });
    r.fx.readiness.markDraining();
    expect(await get('/readyz')).toMatchObject({ status: 503, body: 'draining\n' });
    const m = await get('/metrics');
    expect(m.status).toBe(200);
    expect(m.headers['content-type']).toContain('text/plain; version=0.0.4');
    expect(m.body).toContain('callback_proxy_build_info');
    expect(await get('/nope')).toMatchObject({ status: 404, body: '{"error":"not_found"}' });
    // The Pin API answers POST only; a GET is not a route.
    expect((await get('/v1/pins')).status).toBe(404);
    expect((await httpRequest(r.port, 'POST', '/metrics', {}, '')).status).toBe(404);
  } finally {
    await stopHttp(r.server, 1000);
  }
});

test('forward-auth routes: the proxy routes and the Envoy prefix reach the check; the routing header is the one given', async () => {
  const r = await start();
  r.fx.readiness.markLoaded();
  try {
    for (const p of ['/authz', '/forward-auth']) {
      const a = await httpRequest(r.port, 'GET', p, NGINX);
      expect(a.status).toBe(200);
      expect(['legacy', 'new']).toContain(a.headers['x-route-to']);
      expect(a.headers['x-callback-backend']).toBeUndefined();
    }
    const envoy = await httpRequest(r.port, 'GET', '/envoy/authz/login?client_id=demo-client', { host: 'auth.example.com' });
    expect(envoy.status).toBe(200);
    expect(['legacy', 'new']).toContain(envoy.headers['x-route-to']);
    // A proxy route without the proxy's headers cannot be read: a deny (400, as a Traefik-style
    // sub-request: only nginx needs every deny mapped to 403), not an error.
    const unread = await httpRequest(r.port, 'GET', '/authz', {});
    expect(unread.status).toBe(400);
    expect(unread.headers['x-callback-reason']).toBe('malformed_request');
    expect(unread.headers['cache-control']).toBe('no-store');
    expect(Number(unread.headers['content-length'])).toBe(Buffer.byteLength(unread.body));
  } finally {
    await stopHttp(r.server, 1000);
  }
});

test('T-Z2: a forward-auth body over the limit is a body_too_large deny (413), the rest of the check never runs', async () => {
  const r = await start(64);
  r.fx.readiness.markLoaded();
  try {
    const big = `state=${'x'.repeat(100)}`;
    const d = await httpRequest(r.port, 'POST', '/envoy/authz/oauth2/callback', { host: 'auth.example.com', 'content-type': 'application/x-www-form-urlencoded' }, big);
    expect(d.status).toBe(413);
    expect(d.headers['x-callback-reason']).toBe('body_too_large');
    expect(d.body).not.toContain('xxxx');
  } finally {
    await stopHttp(r.server, 1000);
  }
});

test('Pin API over HTTP/JSON: JSON errors, size limit, bearer challenge, success', async () => {
  const r = await start();
  r.fx.readiness.markLoaded();
  const auth = { authorization: `Bearer ${DEMO_PIN_API_TOKEN}`, 'content-type': 'application/json' };
  try {
    const notJson = await httpRequest(r.port, 'POST', '/v1/pins:mint', auth, '{nope');
    expect(notJson).toMatchObject({ status: 400, body: JSON.stringify({ error: 'invalid_argument', message: 'body must be JSON' }) });
    const huge = await httpRequest(r.port, 'POST', '/v1/pins:mint', auth, JSON.stringify({ connection: 'demo', backend: 'new', pad: 'x'.repeat(20_000) }));
    expect(huge.status).toBe(413);
    const anon = await httpRequest(r.port, 'POST', '/v1/pins:mint', { 'content-type': 'application/json' }, JSON.stringify({ connection: 'demo', backend: 'new' }));
    expect(anon.status).toBe(401);
    expect(anon.headers['www-authenticate']).toBe('Bearer');
    const ok = await httpRequest(r.port, 'POST', '/v1/pins:mint', auth, JSON.stringify({ connection: 'demo', backend: 'new' }));
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).state).toMatch(/^v1\./);
    expect(r.fx.metrics.render()).toMatch(/callback_proxy_pin_api_requests_total\{[^}]*result="unauthenticated"[^}]*\} 1/);
  } finally {
    await stopHttp(r.server, 1000);
  }
});

test('stop: an idle keep-alive connection does not hold it up; one still open at the deadline is cut', async () => {
  const r = await start();
  r.fx.readiness.markLoaded();
  // An idle keep-alive connection (the request is answered, the socket stays open).
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  await new Promise<void>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: r.port, path: '/healthz', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    }).on('error', reject);
  });
  // And a check still deciding.
  const { release, reached } = r.fx.hold();
  const inFlight = httpRequest(r.port, 'GET', '/authz', NGINX).then(
    (x) => `answered:${x.status}`,
    (e: NodeJS.ErrnoException) => `cut:${e.code}`,
  );
  await reached;
  await stopHttp(r.server, 300);
  expect(await inFlight).toBe('cut:ECONNRESET');
  expect(r.server.listening).toBe(false);
  release();
  agent.destroy();
});
