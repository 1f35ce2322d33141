// OTLP export end to end (docs/operations.md, "Traces"): `callback-proxy serve` with
// OTEL_EXPORTER_OTLP_ENDPOINT pointing at a local OTLP/HTTP receiver. A callback that arrives with a W3C
// traceparent becomes a SERVER span in that trace, parented on the caller's span, carrying the decision;
// facts, policy and store calls are its children; log lines and decision-log events carry its ids. A
// canary secret sent in the same callbacks (state, code, cookie, authorization) appears in no span, no
// metric and no log. (A child process: the OTLP HTTP exporters cannot run inside jest's sandbox.)
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { freePort } from '../../demo/ports';
import { loadProtos } from '../../ext-authz/src/check/protos';
import { DEMO_HOST, DEMO_PIN_API_TOKEN } from '../../ext-authz/src/config/default';
import { cb, checkRequestFor, grpcCheck, httpRequest, ISS_LEGACY } from '../support/app-harness';
import { OtlpReceiver } from '../support/otlp-receiver';
import type { ReceivedSpan } from '../support/otlp-receiver';
import { startServe } from '../support/serve-child';
import type { ServeChild } from '../support/serve-child';

jest.setTimeout(120_000);

const CANARY = `CANARY${randomBytes(6).toString('hex')}SECRET`;
const SERVER = 2; // OTLP SpanKind SPAN_KIND_SERVER
const ERROR = 2; // OTLP StatusCode STATUS_CODE_ERROR

function traceparent(sampled = true): { header: string; traceId: string; parentId: string } {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { header: `00-${traceId}-${parentId}-${sampled ? '01' : '00'}`, traceId, parentId };
}

const childrenOf = (spans: ReceivedSpan[], parent: ReceivedSpan): ReceivedSpan[] => spans.filter((s) => s.parentSpanId === parent.spanId && s.traceId === parent.traceId);
const jsonLines = (text: string): Record<string, any>[] => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

async function mint(port: number, backend: string): Promise<string> {
  const r = await httpRequest(port, 'POST', '/v1/pins:mint', { authorization: `Bearer ${DEMO_PIN_API_TOKEN}`, 'content-type': 'application/json' }, JSON.stringify({ connection: 'demo', backend }));
  if (r.status !== 200) throw new Error(`mint: ${r.status} ${r.body}`);
  return JSON.parse(r.body).state;
}

describe.each([['http/protobuf'], ['http/json']])('serve exporting OTLP over %s', (protocol) => {
  let rx: OtlpReceiver;
  let svc: ServeChild;
  let client: any;
  let dir: string;
  const tpAllow = traceparent();
  const tpDeny = traceparent();
  let exitCode: number | null = null;
  let scrape = '';

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-otlp-'));
    rx = await new OtlpReceiver().start();
    svc = await startServe(['--log-level', 'debug', '--decision-log', path.join(dir, 'decisions.jsonl')], {
      OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      OTEL_SERVICE_NAME: 'callback-proxy-test',
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_METRIC_EXPORT_INTERVAL: '500',
    });
    client = new (loadProtos().AuthorizationClient)(`127.0.0.1:${svc.grpcPort}`, grpc.credentials.createInsecure());
    // An allowed gRPC callback, with the trace context inside the CheckRequest's headers (as Envoy sends).
    const state = await mint(svc.httpPort, 'legacy');
    const ok = await grpcCheck(client, checkRequestFor({ path: cb({ code: `c-${randomBytes(4).toString('hex')}`, state, iss: ISS_LEGACY }), headers: { traceparent: tpAllow.header, tracestate: 'vendor=abc' } }));
    expect(ok.status.code).toBe(0);
    // Denied callbacks carrying the canary everywhere a secret travels: forward-auth (nginx) and gRPC.
    const secret = { traceparent: tpDeny.header, cookie: `session=${CANARY}; __Host-cbp=${CANARY}`, authorization: `Bearer ${CANARY}` };
    const uri = cb({ code: CANARY, state: CANARY });
    const denied = await httpRequest(svc.httpPort, 'GET', '/authz', { ...secret, 'x-original-method': 'GET', 'x-original-uri': uri, 'x-original-host': DEMO_HOST });
    expect(denied.status).toBe(403);
    const grpcDenied = await grpcCheck(client, checkRequestFor({ path: cb({ code: `${CANARY}2`, state: `${CANARY}2` }), headers: secret }));
    expect(grpcDenied.status.code).toBe(7);
    await rx.waitFor(() => rx.spans.filter((s) => s.kind === SERVER).length >= 3 && rx.points.some((p) => p.name === 'callback_proxy_decisions'));
    scrape = (await httpRequest(svc.adminPort, 'GET', '/metrics', {})).body;
    client.close();
    exitCode = await svc.stop();
  });

  afterAll(async () => {
    client?.close();
    await svc?.stop();
    await rx?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a callback with a traceparent is one SERVER span in that trace, parented on the caller, with the decision and its phases', () => {
    expect(exitCode).toBe(0);
    const check = rx.spans.find((s) => s.traceId === tpAllow.traceId && s.kind === SERVER)!;
    expect(check).toBeDefined();
    expect(check.parentSpanId).toBe(tpAllow.parentId);
    expect(check.traceState).toBe('vendor=abc');
    expect(check.name).toBe('envoy.service.auth.v3.Authorization/Check');
    const decisions = jsonLines(fs.readFileSync(path.join(dir, 'decisions.jsonl'), 'utf8'));
    const decision = decisions.find((d) => d.trace_id === tpAllow.traceId)!;
    expect(decision).toMatchObject({ span_id: check.spanId, result: { action: 'allow', backend: 'legacy' } });
    expect(check.attributes).toMatchObject({
      'rpc.system.name': 'grpc',
      'rpc.method': 'envoy.service.auth.v3.Authorization/Check',
      'rpc.response.status_code': 'OK',
      'callback.transport': 'grpc',
      'callback.decision': 'allow',
      'callback.reasons': ['pinned_legacy'],
      'callback.connection': 'demo',
      'callback.stage': 'canary',
      'callback.backend': 'legacy',
      'callback.policy.engine': 'rego',
      'callback.decision_id': decision.decision_id,
    });
    expect(check.attributes['callback.policy.revision']).toMatch(/^[0-9a-f]{8,}$/);
    expect(check.status.code).not.toBe(ERROR);
    expect(check.resource['service.name']).toBe('callback-proxy-test');

    // Facts only read the store; the one-time markers are committed after the decision (pipeline/commit.ts).
    expect(childrenOf(rx.spans, check).map((s) => s.name).sort()).toEqual(['callback.facts', 'callback.policy', 'callback.store replay_commit']);
    const facts = childrenOf(rx.spans, check).find((s) => s.name === 'callback.facts')!;
    expect(childrenOf(rx.spans, facts).map((s) => s.name).sort()).toEqual(['callback.store pin_get', 'callback.store replay_peek']);
    expect(childrenOf(rx.spans, facts)[0].attributes).toMatchObject({ 'callback.store': 'memory' });
    // The allow's log line (debug) carries the span's ids.
    expect(jsonLines(svc.stdout()).find((l) => l.event === 'decision' && l.trace_id === tpAllow.traceId)).toMatchObject({ span_id: check.spanId, action: 'allow' });
  });

  test('forward-auth (HTTP) checks are traced too, and denies carry their reasons', () => {
    const servers = rx.spans.filter((s) => s.traceId === tpDeny.traceId && s.kind === SERVER);
    expect(servers.map((s) => s.name).sort()).toEqual(['GET /authz', 'envoy.service.auth.v3.Authorization/Check']);
    const httpSpan = servers.find((s) => s.name === 'GET /authz')!;
    expect(httpSpan.parentSpanId).toBe(tpDeny.parentId);
    expect(httpSpan.attributes).toMatchObject({ 'http.request.method': 'GET', 'http.route': '/authz', 'callback.transport': 'http', 'callback.decision': 'deny' });
    expect(httpSpan.attributes['callback.reasons']).toEqual([expect.stringMatching(/^[a-z_]+$/)]);
    expect(httpSpan.attributes['callback.backend']).toBeUndefined();
    expect(jsonLines(svc.stdout()).find((l) => l.event === 'decision' && l.span_id === httpSpan.spanId)).toMatchObject({ trace_id: tpDeny.traceId, action: 'deny', transport: 'http' });
  });

  test('metrics are pushed over OTLP with the same names and labels as the scrape', () => {
    const allow = rx.points.find((p) => p.name === 'callback_proxy_decisions' && p.attributes.action === 'allow');
    expect(allow?.attributes).toMatchObject({ connection: 'demo', stage: 'canary', transport: 'grpc', backend: 'legacy', reason: 'pinned_legacy' });
    expect(rx.points.some((p) => p.name === 'callback_proxy_check_duration_seconds' && p.unit === 's')).toBe(true);
    expect(scrape).toContain('callback_proxy_decisions_total{action="allow",reason="pinned_legacy",connection="demo",stage="canary",transport="grpc",backend="legacy"} 1');
  });

  test('the canary secret is in no span, no metric, no log line and no decision-log event', () => {
    expect(rx.requests.some((r) => r.path === '/v1/traces')).toBe(true);
    expect(rx.requests.some((r) => r.path === '/v1/metrics')).toBe(true);
    const everything = [
      ...rx.requests.map((r) => r.raw.toString('latin1')),
      scrape,
      svc.stdout(),
      svc.stderr(),
      fs.readFileSync(path.join(dir, 'decisions.jsonl'), 'utf8'),
    ].join('\n');
    expect(everything).toContain('callback.decision'); // the search looks at real payloads
    expect(everything).not.toContain(CANARY);
  });
});

test('OTLP/gRPC (OTEL_EXPORTER_OTLP_PROTOCOL=grpc) carries the same spans and metrics', async () => {
  const rx = await new OtlpReceiver().startGrpc();
  const svc = await startServe([], { OTEL_EXPORTER_OTLP_ENDPOINT: rx.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_METRIC_EXPORT_INTERVAL: '500' });
  try {
    const tp = traceparent();
    const client = new (loadProtos().AuthorizationClient)(`127.0.0.1:${svc.grpcPort}`, grpc.credentials.createInsecure()) as any;
    await grpcCheck(client, checkRequestFor({ path: cb({ code: 'g1', state: 'g1' }), headers: { traceparent: tp.header } }));
    client.close();
    await rx.waitFor(() => rx.spans.some((s) => s.traceId === tp.traceId && s.kind === SERVER) && rx.points.some((p) => p.name === 'callback_proxy_decisions'));
    const span = rx.spans.find((s) => s.traceId === tp.traceId && s.kind === SERVER)!;
    expect(span).toMatchObject({ parentSpanId: tp.parentId, attributes: expect.objectContaining({ 'callback.decision': 'deny', 'callback.reasons': ['state_unknown'] }) });
    expect(await svc.stop()).toBe(0);
  } finally {
    await svc.stop();
    await rx.stop();
  }
});

test('sampling follows the caller: an unsampled traceparent exports nothing; no traceparent starts a new trace', async () => {
  const rx = await new OtlpReceiver().start();
  const svc = await startServe([], { OTEL_EXPORTER_OTLP_ENDPOINT: rx.url, OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_METRICS_EXPORTER: 'none' });
  try {
    const client = new (loadProtos().AuthorizationClient)(`127.0.0.1:${svc.grpcPort}`, grpc.credentials.createInsecure()) as any;
    const off = traceparent(false);
    await grpcCheck(client, checkRequestFor({ path: cb({ code: 'x1', state: 's1' }), headers: { traceparent: off.header } }));
    client.close();
    const r = await httpRequest(svc.httpPort, 'GET', '/forward-auth', { 'x-forwarded-method': 'GET', 'x-forwarded-uri': cb({ code: 'x2', state: 's2' }), 'x-forwarded-host': DEMO_HOST, 'x-forwarded-proto': 'https' });
    expect(r.status).toBe(403);
    await rx.waitFor(() => rx.spans.some((s) => s.kind === SERVER));
    expect(await svc.stop()).toBe(0);
    const servers = rx.spans.filter((s) => s.kind === SERVER);
    expect(servers).toHaveLength(1);
    expect(servers[0]).toMatchObject({ name: 'GET /forward-auth', parentSpanId: '' });
    expect(rx.spans.some((s) => s.traceId === off.traceId)).toBe(false);
    expect(rx.requests.some((r) => r.path === '/v1/metrics')).toBe(false); // OTEL_METRICS_EXPORTER=none
  } finally {
    await svc.stop();
    await rx.stop();
  }
});

test('an unreachable collector neither stops start-up nor blocks a decision, and SIGTERM still exits 0', async () => {
  const dead = await freePort(); // nothing listens there
  const svc = await startServe([], { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${dead}`, OTEL_BSP_SCHEDULE_DELAY: '10', OTEL_METRIC_EXPORT_INTERVAL: '100', OTEL_EXPORTER_OTLP_TIMEOUT: '200' });
  try {
    const client = new (loadProtos().AuthorizationClient)(`127.0.0.1:${svc.grpcPort}`, grpc.credentials.createInsecure()) as any;
    for (let i = 0; i < 5; i++) {
      const r = await grpcCheck(client, checkRequestFor({ path: cb({ code: `x${i}`, state: `s${i}` }), headers: { traceparent: traceparent().header } }));
      expect(r.deniedResponse.headers.find((x: any) => x.header.key === 'x-callback-reason').header.value).toBe('state_unknown');
    }
    client.close();
    await new Promise((r) => setTimeout(r, 300)); // failed exports happen meanwhile
    expect((await httpRequest(svc.adminPort, 'GET', '/readyz', {})).status).toBe(200);
    expect(await svc.stop()).toBe(0);
  } finally {
    await svc.stop();
  }
});

test('a bad OTEL_* setting fails start-up with exit 2, naming the variable and not its value', async () => {
  const failed = await startServe([], { OTEL_EXPORTER_OTLP_HEADERS: `api-key${CANARY}`, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' }, 30_000).then(
    () => 'started',
    (e: Error) => e.message,
  );
  expect(failed).toMatch(/exited 2 before it was ready:[\s\S]*OTEL_EXPORTER_OTLP_HEADERS: expected comma-separated key=value pairs/);
  expect(failed).not.toContain(CANARY);
});

test('--mode opa-envoy: a check with a traceparent is one SERVER span in that trace, with the decision and the decision-log event carrying its ids', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-otlp-envoy-'));
  const example = path.join(__dirname, '..', '..', 'policies', 'examples', 'opa-envoy');
  const rx = await new OtlpReceiver().start();
  const svc = await startServe(['--mode', 'opa-envoy', '--policy', example, '--data', path.join(example, 'routes.json'), '--decision-log', path.join(dir, 'd.jsonl')], {
    OTEL_EXPORTER_OTLP_ENDPOINT: rx.url, OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_METRICS_EXPORTER: 'none',
  });
  try {
    const tp = traceparent();
    const client = new (loadProtos().AuthorizationClient)(`127.0.0.1:${svc.grpcPort}`, grpc.credentials.createInsecure()) as any;
    const r = await grpcCheck(client, checkRequestFor({ path: '/admin', headers: { traceparent: tp.header } }));
    client.close();
    expect(r.status.code).toBe(7);
    await rx.waitFor(() => rx.spans.some((s) => s.traceId === tp.traceId && s.kind === SERVER));
    const span = rx.spans.find((s) => s.traceId === tp.traceId && s.kind === SERVER)!;
    expect(span).toMatchObject({ parentSpanId: tp.parentId, attributes: expect.objectContaining({ 'callback.decision': 'deny', 'callback.reasons': ['opa_envoy_denied'], 'callback.policy.engine': 'rego' }) });
    expect(await svc.stop()).toBe(0);
    const ev = JSON.parse(fs.readFileSync(path.join(dir, 'd.jsonl'), 'utf8').trim().split('\n')[0]);
    expect(ev).toMatchObject({ path: 'envoy/authz/allow', result: false, trace_id: tp.traceId, span_id: span.spanId });
  } finally {
    await svc.stop();
    await rx.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
