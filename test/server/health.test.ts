// grpc.health.v1 and the admin listener's /readyz: NOT_SERVING before load, SERVING after, NOT_SERVING
// while draining, each time naming why; checks before load are denied (fail closed), never allowed. The
// forward-auth listener no longer answers /healthz, /readyz or /metrics.
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { PassThrough } from 'node:stream';
import { App } from '../../ext-authz/src/app';
import { loadProtos } from '../../ext-authz/src/check/protos';
import { createLogger } from '../../ext-authz/src/telemetry/logger';
import { checkRequestFor, grpcCheck, httpRequest } from '../support/app-harness';

jest.setTimeout(60_000);

const HealthClient = grpc.makeClientConstructor(healthService, 'grpc.health.v1.Health');

function health(client: any, service = ''): Promise<string> {
  return new Promise((resolve, reject) => client.Check({ service }, (e: Error | null, v: { status: string }) => (e ? reject(e) : resolve(v.status))));
}

test('health follows load and drain', async () => {
  const app = new App({ grpcAddr: '127.0.0.1:0', httpAddr: '127.0.0.1:0', graceMs: 600, logger: createLogger({ stream: new PassThrough() }), watch: false });
  const { grpcPort, httpPort, adminPort } = await app.listen();
  const hc = new HealthClient(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure()) as any;
  const authz = new (loadProtos().AuthorizationClient)(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure()) as any;
  try {
    expect(await health(hc)).toBe('NOT_SERVING');
    expect(await health(hc, 'envoy.service.auth.v3.Authorization')).toBe('NOT_SERVING');
    const loading = await httpRequest(adminPort, 'GET', '/readyz', {});
    expect(loading.status).toBe(503);
    expect(loading.body).toBe('not ready: policy: loading; registry: loading\n');
    expect(loading.headers['cache-control']).toBe('no-store');
    // Not loaded yet: a check is a deny, not an error and never an allow.
    const early = await grpcCheck(authz, checkRequestFor({ path: '/oauth2/callback?code=a&state=b' }));
    expect(early.status.code).toBe(7);
    expect(early.deniedResponse.headers.find((x: any) => x.header.key === 'x-callback-reason').header.value).toBe('authz_unavailable');

    await app.load();
    expect(await health(hc)).toBe('SERVING');
    expect(await health(hc, 'callbackproxy.v1.Pins')).toBe('SERVING');
    expect(await httpRequest(adminPort, 'GET', '/readyz', {})).toMatchObject({ status: 200, body: 'ready\n' });
    expect(await httpRequest(adminPort, 'GET', '/healthz', {})).toMatchObject({ status: 200, body: 'ok\n' });
    expect((await httpRequest(adminPort, 'GET', '/readyz?verbose', {})).body).toBe('[+] policy ok\n[+] registry ok\n[+] not draining\nready\n');
    // Only what proxies call is on the forward-auth listener.
    for (const p of ['/healthz', '/readyz', '/metrics']) expect((await httpRequest(httpPort, 'GET', p, {})).status).toBe(404);

    const stopping = app.stop();
    // During the grace period the server still answers, but reports NOT_SERVING.
    expect(await health(hc)).toBe('NOT_SERVING');
    const r = await httpRequest(adminPort, 'GET', '/readyz', {});
    expect(r.status).toBe(503);
    expect(r.body).toBe('not ready: draining\n');
    const during = await grpcCheck(authz, checkRequestFor({ path: '/oauth2/callback?code=a' }));
    expect(during.status.code).toBe(7);
    await stopping;
    await expect(health(hc)).rejects.toBeTruthy();
  } finally {
    hc.close();
    authz.close();
    await app.stop();
  }
});

test('/metrics on the admin listener exposes the decision counters after checks', async () => {
  const app = new App({ grpcAddr: '127.0.0.1:0', httpAddr: '127.0.0.1:0', graceMs: 0, logger: createLogger({ stream: new PassThrough() }), watch: false });
  const { grpcPort, adminPort } = await app.start();
  const authz = new (loadProtos().AuthorizationClient)(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure()) as any;
  try {
    await grpcCheck(authz, checkRequestFor({ path: '/oauth2/callback?code=a' }));
    const m = await httpRequest(adminPort, 'GET', '/metrics', {});
    expect(m.status).toBe(200);
    expect(m.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
    expect(m.body).toContain('callback_proxy_decisions_total{action="deny",reason="state_missing",connection="demo",stage="canary",transport="grpc",backend="none"} 1');
    expect(m.body).toContain('callback_proxy_check_duration_seconds_count{transport="grpc"} 1');
    expect(m.body).toContain('callback_proxy_build_info{');
    expect(m.body).toContain('callback_proxy_ready 1');
  } finally {
    authz.close();
    await app.stop();
  }
});

test('an admin route mounted on the listener answers after the built-in routes; unknown paths are 404', async () => {
  const seen: string[] = [];
  const app = new App({
    grpcAddr: '127.0.0.1:0',
    httpAddr: '127.0.0.1:0',
    graceMs: 0,
    logger: createLogger({ stream: new PassThrough() }),
    watch: false,
    adminRoutes: [
      {
        name: 'first',
        handle: async (_req, res, url) => {
          seen.push(`first ${url.pathname}`);
          if (url.pathname !== '/v1/stage') return false;
          res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end('{"stage":"canary"}');
          return true;
        },
      },
      {
        name: 'second',
        handle: async (_req, _res, url) => {
          seen.push(`second ${url.pathname}`);
          if (url.pathname === '/boom') throw new Error('a handler that throws');
          return false;
        },
      },
    ],
  });
  let closed = 0;
  app.addAdminRoutes({
    name: 'third',
    handle: async (_req, res, url) => {
      if (url.pathname !== '/x/connections') return false;
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(app.current?.registry().connections.map((c) => c.name)));
      return true;
    },
    close: async () => {
      closed++;
    },
  });
  const { adminPort } = await app.start();
  expect(() => app.addAdminRoutes({ name: 'late', handle: async () => false })).toThrow('before listen()');
  try {
    expect(await httpRequest(adminPort, 'GET', '/v1/stage', {})).toMatchObject({ status: 200, body: '{"stage":"canary"}' });
    expect(await httpRequest(adminPort, 'GET', '/x/connections', {})).toMatchObject({ status: 200, body: '["demo"]' });
    expect((await httpRequest(adminPort, 'GET', '/nothing', {})).status).toBe(404);
    expect((await httpRequest(adminPort, 'GET', '/boom', {})).status).toBe(500);
    // Built-in routes never reach the handlers.
    await httpRequest(adminPort, 'GET', '/readyz', {});
    expect(seen).toEqual(['first /v1/stage', 'first /x/connections', 'second /x/connections', 'first /nothing', 'second /nothing', 'first /boom', 'second /boom']);
  } finally {
    await app.stop();
  }
  expect(closed).toBe(1);
});
