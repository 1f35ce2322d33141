// grpc.health.v1 and /readyz: NOT_SERVING before load, SERVING after, NOT_SERVING while draining;
// checks before load are denied (fail closed), never allowed.
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
  const { grpcPort, httpPort } = await app.listen();
  const hc = new HealthClient(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure()) as any;
  const authz = new (loadProtos().AuthorizationClient)(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure()) as any;
  try {
    expect(await health(hc)).toBe('NOT_SERVING');
    expect(await health(hc, 'envoy.service.auth.v3.Authorization')).toBe('NOT_SERVING');
    expect((await httpRequest(httpPort, 'GET', '/readyz', {})).status).toBe(503);
    // Not loaded yet: a check is a deny, not an error and never an allow.
    const early = await grpcCheck(authz, checkRequestFor({ path: '/oauth2/callback?code=a&state=b' }));
    expect(early.status.code).toBe(7);
    expect(early.deniedResponse.headers.find((x: any) => x.header.key === 'x-callback-reason').header.value).toBe('authz_unavailable');

    await app.load();
    expect(await health(hc)).toBe('SERVING');
    expect(await health(hc, 'callbackproxy.v1.Pins')).toBe('SERVING');
    expect((await httpRequest(httpPort, 'GET', '/readyz', {})).status).toBe(200);
    expect((await httpRequest(httpPort, 'GET', '/healthz', {})).status).toBe(200);

    const stopping = app.stop();
    // During the grace period the server still answers, but reports NOT_SERVING.
    expect(await health(hc)).toBe('NOT_SERVING');
    const r = await httpRequest(httpPort, 'GET', '/readyz', {});
    expect(r.status).toBe(503);
    expect(r.body).toBe('draining\n');
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

test('/metrics exposes the decision counters after checks', async () => {
  const app = new App({ grpcAddr: '127.0.0.1:0', httpAddr: '127.0.0.1:0', graceMs: 0, logger: createLogger({ stream: new PassThrough() }), watch: false });
  const { grpcPort, httpPort } = await app.start();
  const authz = new (loadProtos().AuthorizationClient)(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure()) as any;
  try {
    await grpcCheck(authz, checkRequestFor({ path: '/oauth2/callback?code=a' }));
    const m = await httpRequest(httpPort, 'GET', '/metrics', {});
    expect(m.status).toBe(200);
    expect(m.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
    expect(m.body).toContain('callback_proxy_decisions_total{action="deny",reason="state_missing",connection="demo",stage="canary",transport="grpc"} 1');
    expect(m.body).toContain('callback_proxy_check_duration_seconds_count{transport="grpc"} 1');
    expect(m.body).toContain('callback_proxy_build_info{');
  } finally {
    authz.close();
    await app.stop();
  }
});
