// The gRPC listener on its own, over real loopback with a real grpc-js client speaking Envoy's protos:
// Check never fails the RPC (not ready, unreadable, decided: always a CheckResponse), the routing header
// is the one the server is told, the Pin API maps its errors to gRPC codes and counts them, addresses
// are parsed strictly, and a stop with a check still in flight ends by the deadline.
import * as grpc from '@grpc/grpc-js';
import { loadProtos } from '../../ext-authz/src/check/protos';
import { DEMO_PIN_API_TOKEN } from '../../ext-authz/src/config/default';
import { bindGrpc, createGrpcServer, splitAddr, stopGrpc } from '../../ext-authz/src/server/grpc-server';
import { checkRequestFor, grpcCheck } from '../support/app-harness';
import { serverFixture } from '../support/server-fixture';
import type { ServerFixture } from '../support/server-fixture';

jest.setTimeout(60_000);

interface Running {
  fx: ServerFixture;
  server: grpc.Server;
  authz: grpc.Client & Record<string, any>;
  pins: grpc.Client & Record<string, any>;
  close(): Promise<void>;
}

async function start(routingHeader = 'x-route-to'): Promise<Running> {
  const fx = serverFixture();
  const server = createGrpcServer({ core: fx.core, readiness: fx.readiness, pinApi: fx.pinApi, metrics: fx.metrics, routingHeader: () => routingHeader });
  const port = await bindGrpc(server, '127.0.0.1:0', grpc.ServerCredentials.createInsecure());
  const protos = loadProtos();
  const authz = new protos.AuthorizationClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, any>;
  const pins = new protos.PinsClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, any>;
  return {
    fx,
    server,
    authz,
    pins,
    close: async () => {
      authz.close();
      pins.close();
      await stopGrpc(server, 1000);
    },
  };
}

const header = (resp: any, name: string): string | undefined =>
  [...(resp.okResponse?.headers ?? []), ...(resp.deniedResponse?.headers ?? [])].find((h: any) => h.header.key === name)?.header.value;

function mint(pins: any, token: string | null): Promise<{ state: string }> {
  const md = new grpc.Metadata();
  if (token !== null) md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve, reject) => pins.MintState({ connection: 'demo', backend: 'new' }, md, (e: Error | null, v: { state: string }) => (e ? reject(e) : resolve(v))));
}

test('addresses: host:port and [v6]:port, anything else is refused', () => {
  expect(splitAddr('127.0.0.1:9191')).toEqual({ host: '127.0.0.1', port: 9191 });
  expect(splitAddr('[::1]:0')).toEqual({ host: '[::1]', port: 0 });
  for (const bad of ['127.0.0.1', ':9191', 'host:port', '::1:80']) expect(() => splitAddr(bad)).toThrow('address must be host:port');
});

test('Check always answers with a CheckResponse: not ready, unreadable, decided', async () => {
  const r = await start();
  try {
    // Not ready: a deny, never an RPC error.
    const early = await grpcCheck(r.authz, checkRequestFor({ path: '/login?client_id=demo-client' }));
    expect(early.status.code).toBe(7);
    expect(header(early, 'x-callback-reason')).toBe('authz_unavailable');

    r.fx.readiness.markLoaded();
    // No attributes.request.http at all: the adapter cannot read it.
    const unreadable = await grpcCheck(r.authz, { attributes: { source: { address: { socketAddress: { address: '203.0.113.7', portValue: 1 } } } } });
    expect(unreadable.status.code).toBe(7);
    expect(header(unreadable, 'x-callback-reason')).toBe('malformed_request');
    expect(unreadable.deniedResponse.status.code).toBe('BadRequest');

    // A login start is routed by its canary cohort: the routing header is the one the server was given.
    const ok = await grpcCheck(r.authz, checkRequestFor({ path: '/login?client_id=demo-client' }));
    expect(ok.status.code).toBe(0);
    const routed = ok.okResponse.headers.find((h: any) => h.header.key === 'x-route-to');
    expect(routed).toMatchObject({ appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' });
    expect(['legacy', 'new']).toContain(routed.header.value);
    expect(header(ok, 'x-callback-backend')).toBeUndefined();

    // Every check, allowed or denied, was counted once with its transport.
    expect(r.fx.metrics.render()).toMatch(/callback_proxy_decisions_total\{[^}]*transport="grpc"[^}]*\} 1/);
  } finally {
    await r.close();
  }
});

test('Pin API over gRPC: a backend token mints; no token is UNAUTHENTICATED; not ready is UNAVAILABLE; each counted', async () => {
  const r = await start();
  try {
    await expect(mint(r.pins, DEMO_PIN_API_TOKEN)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    r.fx.readiness.markLoaded();
    expect((await mint(r.pins, DEMO_PIN_API_TOKEN)).state).toMatch(/^v1\./);
    await expect(mint(r.pins, null)).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    const text = r.fx.metrics.render();
    for (const result of ['ok', 'unauthenticated', 'unavailable']) {
      expect(text).toMatch(new RegExp(`callback_proxy_pin_api_requests_total\\{[^}]*method="MintState"[^}]*result="${result}"[^}]*\\} 1`));
    }
  } finally {
    await r.close();
  }
});

test('stop with a check still deciding: at the deadline it is answered with a deny, never left open or allowed later', async () => {
  const r = await start();
  r.fx.readiness.markLoaded();
  const { release, reached } = r.fx.hold();
  const inFlight = grpcCheck(r.authz, checkRequestFor({ path: '/login?client_id=demo-client' }));
  await reached;
  await stopGrpc(r.server, 300);
  const answer = await inFlight;
  expect(answer.status.code).toBe(7);
  expect(header(answer, 'x-callback-reason')).toBe('authz_unavailable');
  // The decision that finishes afterwards has nobody left to answer.
  release();
  await new Promise((res) => setTimeout(res, 50));
  r.authz.close();
  r.pins.close();
});
