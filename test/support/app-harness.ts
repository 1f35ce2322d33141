// Test harness: the real App (embedded default) on 127.0.0.1 port 0, a real grpc-js client speaking
// Envoy's protos, HTTP forward-auth requests, Pin API minting, and captured logs / decision logs.
import { PassThrough } from 'node:stream';
import * as http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { App } from '../../ext-authz/src/app';
import type { AppOptions } from '../../ext-authz/src/app';
import { loadProtos } from '../../ext-authz/src/check/protos';
import { createLogger } from '../../ext-authz/src/telemetry/logger';
import { memorySink } from '../../ext-authz/src/telemetry/decision-log';
import { DEMO_PIN_API_TOKEN } from '../../ext-authz/src/config/default';

export const HOST = 'auth.example.com';
export const ISS_LEGACY = 'https://legacy-idp.example.com';
export const ISS_NEW = 'https://new-idp.example.com';

export interface Req {
  method?: string;
  path: string;
  host?: string;
  headers?: Record<string, string>;
  /** A string goes over gRPC in `body` (Envoy without pack_as_bytes); bytes in `raw_body` (with it). */
  body?: string | Buffer;
}

/** What any transport answered, normalised: allowed + backend, or a deny's status/reason/body. */
export interface Answer {
  allowed: boolean;
  backend: string | null;
  status: number;
  reason: string | null;
  body: string;
  headers: Record<string, string>;
  raw: string;
}

export type Transport = 'grpc' | 'http-envoy' | 'http-nginx' | 'http-traefik';

export interface Harness {
  app: App;
  grpcPort: number;
  httpPort: number;
  adminPort: number;
  logs: string[];
  decisionLines: string[];
  client: grpc.Client & Record<string, any>;
  pins: grpc.Client & Record<string, any>;
  ask(t: Transport, r: Req): Promise<Answer>;
  mint(backend: string, opts?: { via?: 'grpc' | 'http'; token?: string; responseMode?: string }): Promise<string>;
  close(): Promise<void>;
}

const HTTP_STATUS: Record<string, number> = { OK: 200, BadRequest: 400, Unauthorized: 401, Forbidden: 403, PayloadTooLarge: 413, TooManyRequests: 429, RequestHeaderFieldsTooLarge: 431, ServiceUnavailable: 503 };

export function checkRequestFor(r: Req, sourceIp = '203.0.113.7'): Record<string, unknown> {
  const host = r.host ?? HOST;
  const method = r.method ?? 'GET';
  const headers: Record<string, string> = { ':authority': host, ':method': method, ':path': r.path, ':scheme': 'https', 'user-agent': 'e2e', ...(r.headers ?? {}) };
  const httpReq: Record<string, unknown> = { id: 'req-1', method, host, path: r.path, scheme: 'https', protocol: 'HTTP/1.1', headers };
  if (typeof r.body === 'string') {
    httpReq.body = r.body;
    httpReq.size = String(Buffer.byteLength(r.body));
  } else if (r.body !== undefined) {
    httpReq.rawBody = r.body;
    httpReq.size = String(r.body.length);
  }
  return {
    attributes: {
      source: { address: { socketAddress: { address: sourceIp, portValue: 50000 } } },
      destination: { address: { socketAddress: { address: '10.0.0.1', portValue: 443 } } },
      request: { time: { seconds: String(Math.floor(Date.now() / 1000)), nanos: 0 }, http: httpReq },
    },
  };
}

export function grpcCheck(client: any, req: unknown): Promise<any> {
  return new Promise((resolve, reject) => client.Check(req, (e: Error | null, v: unknown) => (e ? reject(e) : resolve(v))));
}

export function httpRequest(port: number, method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const h: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) h[k] = Array.isArray(v) ? v.join(',') : String(v);
        resolve({ status: res.statusCode ?? 0, headers: h, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function fromGrpc(resp: any): Answer {
  const raw = JSON.stringify(resp);
  if (resp.status?.code === 0 && resp.okResponse) {
    const hs: Record<string, string> = {};
    for (const h of resp.okResponse.headers ?? []) hs[h.header.key] = h.header.value;
    return { allowed: true, backend: hs['x-callback-backend'] ?? null, status: 200, reason: null, body: '', headers: hs, raw };
  }
  const hs: Record<string, string> = {};
  for (const h of resp.deniedResponse?.headers ?? []) hs[h.header.key] = h.header.value;
  const code = resp.deniedResponse?.status?.code;
  return { allowed: false, backend: null, status: typeof code === 'number' ? code : (HTTP_STATUS[code] ?? 403), reason: hs['x-callback-reason'] ?? null, body: resp.deniedResponse?.body ?? '', headers: hs, raw };
}

function fromHttp(r: { status: number; headers: Record<string, string>; body: string }): Answer {
  const raw = JSON.stringify(r);
  const allowed = r.status >= 200 && r.status < 300;
  return {
    allowed,
    backend: allowed ? (r.headers['x-callback-backend'] ?? null) : null,
    status: allowed ? r.status : Number(r.headers['x-callback-status'] ?? r.status),
    reason: allowed ? null : (r.headers['x-callback-reason'] ?? null),
    body: r.body,
    headers: r.headers,
    raw,
  };
}

export async function startHarness(over: Partial<AppOptions> = {}): Promise<Harness> {
  const logs: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (c) => logs.push(String(c)));
  const sink = memorySink();
  const app = new App({ grpcAddr: '127.0.0.1:0', httpAddr: '127.0.0.1:0', graceMs: 0, logger: createLogger({ stream, level: over.logLevel ?? 'info' }), decisionLog: sink, watch: false, ...over });
  const { grpcPort, httpPort, adminPort } = await app.start();
  const protos = loadProtos();
  const client = new protos.AuthorizationClient(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure()) as any;
  const pins = new protos.PinsClient(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure()) as any;

  async function ask(t: Transport, r: Req): Promise<Answer> {
    const method = r.method ?? 'GET';
    const host = r.host ?? HOST;
    if (t === 'grpc') return fromGrpc(await grpcCheck(client, checkRequestFor(r)));
    if (t === 'http-envoy') {
      return fromHttp(await httpRequest(httpPort, method, `/envoy/authz${r.path}`, { host, ...(r.headers ?? {}) }, r.body));
    }
    if (t === 'http-nginx') {
      const h = { ...(r.headers ?? {}), 'x-original-method': method, 'x-original-uri': r.path, 'x-original-host': host, 'x-original-remote-addr': '203.0.113.7' };
      return fromHttp(await httpRequest(httpPort, 'GET', '/authz', h));
    }
    const h = { ...(r.headers ?? {}), 'x-forwarded-method': method, 'x-forwarded-uri': r.path, 'x-forwarded-host': host, 'x-forwarded-proto': 'https', 'x-real-ip': '203.0.113.7' };
    return fromHttp(await httpRequest(httpPort, r.body !== undefined ? 'POST' : 'GET', '/forward-auth', h, r.body));
  }

  async function mint(backend: string, o: { via?: 'grpc' | 'http'; token?: string; responseMode?: string } = {}): Promise<string> {
    const token = o.token ?? DEMO_PIN_API_TOKEN;
    if (o.via === 'http') {
      const r = await httpRequest(httpPort, 'POST', '/v1/pins:mint', { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, JSON.stringify({ connection: 'demo', backend, responseMode: o.responseMode ?? '' }));
      if (r.status !== 200) throw new Error(`mint failed: ${r.status} ${r.body}`);
      return (JSON.parse(r.body) as { state: string }).state;
    }
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token}`);
    return new Promise((resolve, reject) =>
      pins.MintState({ connection: 'demo', backend, responseMode: o.responseMode ?? '' }, md, (e: Error | null, v: { state: string }) => (e ? reject(e) : resolve(v.state))),
    );
  }

  return {
    app,
    grpcPort,
    httpPort,
    adminPort,
    logs,
    decisionLines: sink.lines,
    client,
    pins,
    ask,
    mint,
    close: async () => {
      client.close();
      pins.close();
      await app.stop();
    },
  };
}

/** A gRPC check as if the request came from `sourceIp` (Envoy's source.address). */
export async function askFrom(h: Harness, sourceIp: string, r: Req): Promise<Answer> {
  return fromGrpc(await grpcCheck(h.client, checkRequestFor(r, sourceIp)));
}

export function cb(params: Record<string, string | string[]>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) parts.push(`${k}=${encodeURIComponent(x)}`);
  return `/oauth2/callback?${parts.join('&')}`;
}
