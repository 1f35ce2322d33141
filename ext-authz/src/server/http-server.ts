// HTTP listener (node:http): forward-auth routes (docs/http-forward-auth.md), the Pin API as HTTP/JSON,
// /healthz, /readyz and /metrics. Must only be reachable from the proxy hop: forward-auth trusts the
// proxy-set X-Original-* / X-Forwarded-* headers.
import * as http from 'node:http';
import { toHttpReply } from '../check/forward-auth';
import type { RawHttpRequest } from '../check/forward-auth';
import { adaptHttpRequest } from '../check/adapter';
import { localDeny } from '../check/local-deny';
import type { CheckCore } from '../check/check-core';
import type { Readiness } from './health';
import { PIN_API_STATUS, PinApiError, readPinInput } from './pin-api';
import type { PinApi } from './pin-api';
import type { ServiceMetrics } from '../telemetry/metrics';
import { splitAddr } from './grpc-server';

export const ENVOY_PREFIX = '/envoy/authz';
export const PROXY_ROUTES: readonly string[] = ['/authz', '/forward-auth'];
const PIN_JSON_LIMIT = 16 * 1024;

export interface HttpServerOptions {
  core: CheckCore;
  readiness: Readiness;
  pinApi: PinApi;
  metrics: ServiceMetrics;
  routingHeader: () => string;
  /** Largest body read for a forward-auth check (registry limits.max_body_bytes). */
  maxBodyBytes: () => number;
  envoyPrefix?: string;
}

type BodyRead = { body: string; tooLarge: boolean };

function readBody(req: http.IncomingMessage, limit: number): Promise<BodyRead> {
  return new Promise((resolveOnce) => {
    // Exactly one of end / error / close settles it: an aborted request must not leave it pending.
    let settled = false;
    const resolve = (r: BodyRead): void => {
      if (!settled) {
        settled = true;
        resolveOnce(r);
      }
    };
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      if (tooLarge) return;
      size += c.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve({ body: tooLarge ? '' : Buffer.concat(chunks).toString('utf8'), tooLarge }));
    req.on('error', () => resolve({ body: '', tooLarge }));
    req.on('close', () => resolve({ body: '', tooLarge }));
  });
}

function send(res: http.ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

function json(res: http.ServerResponse, status: number, obj: unknown): void {
  send(res, status, { 'content-type': 'application/json', 'cache-control': 'no-store' }, JSON.stringify(obj));
}

export function createHttpServer(opts: HttpServerOptions): http.Server {
  const prefix = opts.envoyPrefix ?? ENVOY_PREFIX;

  async function forwardAuth(req: http.IncomingMessage, res: http.ServerResponse, envoy: boolean): Promise<void> {
    const t0 = process.hrtime.bigint();
    const { body, tooLarge } = await readBody(req, opts.maxBodyBytes());
    const raw: RawHttpRequest = { method: req.method ?? 'GET', url: req.url ?? '/', rawHeaders: req.rawHeaders, body };
    if (req.socket.remoteAddress) raw.remoteAddress = req.socket.remoteAddress;
    const adapted = adaptHttpRequest(raw, envoy ? prefix : null);
    const routing = opts.routingHeader();
    const result = await opts.core.run(tooLarge ? { ok: false, reason: 'body_too_large' } : adapted, 'http', t0);
    const reply = toHttpReply(result, adapted.mode, routing);
    send(res, reply.status, reply.headers, reply.body);
  }

  async function pinRoute(req: http.IncomingMessage, res: http.ServerResponse, method: 'CreatePin' | 'MintState'): Promise<void> {
    const { body, tooLarge } = await readBody(req, PIN_JSON_LIMIT);
    if (tooLarge) return json(res, 413, { error: 'invalid_argument', message: 'request body too large' });
    let parsed: unknown;
    try {
      parsed = body === '' ? {} : JSON.parse(body);
    } catch {
      return json(res, 400, { error: 'invalid_argument', message: 'body must be JSON' });
    }
    const auth = req.headers.authorization;
    try {
      const input = readPinInput(parsed);
      const out = method === 'CreatePin' ? await opts.pinApi.createPin(auth, input) : await opts.pinApi.mintState(auth, input);
      opts.metrics.pinApiCalls.inc({ method, result: 'ok' });
      json(res, 200, out);
    } catch (e) {
      const err = e instanceof PinApiError ? e : new PinApiError('unavailable', 'the pin could not be recorded');
      opts.metrics.pinApiCalls.inc({ method, result: err.code });
      const headers: Record<string, string> = { 'content-type': 'application/json', 'cache-control': 'no-store' };
      if (err.code === 'unauthenticated') headers['www-authenticate'] = 'Bearer';
      send(res, PIN_API_STATUS[err.code].http, headers, JSON.stringify({ error: err.code, message: err.message }));
    }
  }

  const server = http.createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathOnly = q >= 0 ? url.slice(0, q) : url;
    let work: Promise<void> | null = null;
    if (pathOnly.startsWith(`${prefix}/`)) work = forwardAuth(req, res, true);
    else if (PROXY_ROUTES.includes(pathOnly)) work = forwardAuth(req, res, false);
    else if (pathOnly === '/v1/pins' && req.method === 'POST') work = pinRoute(req, res, 'CreatePin');
    else if (pathOnly === '/v1/pins:mint' && req.method === 'POST') work = pinRoute(req, res, 'MintState');
    else if (pathOnly === '/healthz') return send(res, 200, { 'content-type': 'text/plain' }, 'ok\n');
    else if (pathOnly === '/readyz') {
      const ready = opts.readiness.ready;
      return send(res, ready ? 200 : 503, { 'content-type': 'text/plain' }, ready ? 'ready\n' : `${opts.readiness.reasons().join('\n')}\n`);
    } else if (pathOnly === '/metrics' && req.method === 'GET') {
      return send(res, 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }, opts.metrics.render());
    } else {
      req.resume();
      return json(res, 404, { error: 'not_found' });
    }
    work.catch(() => {
      // Fail closed even if something above threw after the decision.
      const reply = toHttpReply(localDeny('internal_error'), 'envoy', opts.routingHeader());
      send(res, reply.status, reply.headers, reply.body);
    });
  });
  // Bound header/idle time so slow clients cannot hold sockets (THREATS T-Z5 is Envoy's, this is ours).
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 65_000;
  return server;
}

export function listenHttp(server: http.Server, addr: string): Promise<number> {
  const { host, port } = splitAddr(addr);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host.replace(/^\[|\]$/g, ''), () => {
      server.off('error', reject);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : port);
    });
  });
}

export function stopHttp(server: http.Server, deadlineMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
      resolve();
    }, deadlineMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
