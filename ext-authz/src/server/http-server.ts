// HTTP listener (node:http, or node:https with --http-tls-*): only what proxies call — the forward-auth
// routes (docs/http-forward-auth.md) and the Pin API as HTTP/JSON. Must only be reachable from the proxy
// hop: forward-auth trusts the proxy-set X-Original-* / X-Forwarded-* headers, and Pin API bearer tokens
// travel on it (TLS, or mTLS with a client CA, keeps them off the wire). Health, readiness and metrics
// are on the admin listener (admin-server.ts).
import * as http from 'node:http';
import * as https from 'node:https';
import { toHttpReply } from '../check/forward-auth';
import type { ForwardAuthMode, HttpReply, RawHttpRequest } from '../check/forward-auth';
import { adaptHttpRequest } from '../check/adapter';
import { localDeny } from '../check/local-deny';
import { fromProtojson } from '../check/protojson-request';
import type { OpaEnvoyCore } from '../check/opa-envoy/core';
import { toOpaEnvoyHttpReply } from '../check/opa-envoy/response';
import type { OpaEnvoyHttpReply } from '../check/opa-envoy/response';
import { PIN_API_STATUS, PinApiError, readPinInput } from './pin-api';
import { splitAddr } from './grpc-server';
import type { ListenerOptions } from './grpc-server';

export const ENVOY_PREFIX = '/envoy/authz';
export const PROXY_ROUTES: readonly string[] = ['/authz', '/forward-auth'];
const PIN_JSON_LIMIT = 16 * 1024;

export interface HttpServerOptions extends Omit<ListenerOptions, 'readiness'> {
  /** Largest body read for a forward-auth check (registry limits.max_body_bytes). */
  maxBodyBytes: () => number;
  envoyPrefix?: string;
  /** node:https options (server/tls.ts httpsOptions): the listener speaks TLS, mTLS with a CA. */
  tls?: https.ServerOptions | null;
}

/** The HTTP listener, plain or TLS (the same request handling either way). */
export type HttpListener = http.Server | https.Server;

/** The body as bytes: forward-auth hands them to the facts untouched (webhook MACs are over them). */
type BodyRead = { body: Buffer; tooLarge: boolean };

const NO_BODY = Buffer.alloc(0);

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
    req.on('end', () => resolve({ body: tooLarge ? NO_BODY : Buffer.concat(chunks), tooLarge }));
    req.on('error', () => resolve({ body: NO_BODY, tooLarge }));
    req.on('close', () => resolve({ body: NO_BODY, tooLarge }));
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

export function createHttpServer(opts: HttpServerOptions): HttpListener {
  const prefix = opts.envoyPrefix ?? ENVOY_PREFIX;

  /**
   * `--mode opa-envoy` over HTTP: the same adapters build the request in a CheckRequest's shape, the
   * plugin's input and answers follow (check/opa-envoy/response.ts toOpaEnvoyHttpReply).
   */
  async function opaEnvoyAuth(core: OpaEnvoyCore, req: http.IncomingMessage, raw: RawHttpRequest, tooLarge: boolean, envoy: boolean, route: string, t0: bigint, res: http.ServerResponse): Promise<void> {
    const check = await core.run(
      () => {
        if (tooLarge) return null;
        const adapted = adaptHttpRequest(raw, envoy ? prefix : null);
        return adapted.ok ? fromProtojson({ attributes: adapted.attributes }).decoded : null;
      },
      'http',
      t0,
      core.traced ? { headers: req.headers, httpMethod: req.method, httpRoute: route } : undefined,
    );
    let reply: OpaEnvoyHttpReply;
    try {
      reply = toOpaEnvoyHttpReply(check);
    } catch (e) {
      core.reportFailure(e, check.decisionId, 'http');
      reply = toOpaEnvoyHttpReply({ decisionId: check.decisionId, ok: false, reason: 'internal_error' });
    }
    if (res.headersSent) return;
    const flat: string[] = [];
    for (const [k, v] of reply.headers) flat.push(k, v);
    flat.push('content-length', String(Buffer.byteLength(reply.body)));
    res.writeHead(reply.status, flat);
    res.end(reply.body);
  }

  async function forwardAuth(req: http.IncomingMessage, res: http.ServerResponse, envoy: boolean, route: string): Promise<void> {
    const t0 = process.hrtime.bigint();
    const { body, tooLarge } = await readBody(req, opts.maxBodyBytes());
    const raw: RawHttpRequest = { method: req.method ?? 'GET', url: req.url ?? '/', rawHeaders: req.rawHeaders, body };
    if (req.socket.remoteAddress) raw.remoteAddress = req.socket.remoteAddress;
    if (opts.opaEnvoy) return opaEnvoyAuth(opts.opaEnvoy, req, raw, tooLarge, envoy, route, t0, res);
    const routing = opts.routingHeader();
    let mode: ForwardAuthMode = envoy ? 'envoy' : 'nginx';
    const result = await opts.core.run(
      () => {
        const adapted = adaptHttpRequest(raw, envoy ? prefix : null);
        mode = adapted.mode;
        return tooLarge ? { ok: false, reason: 'body_too_large' } : adapted;
      },
      'http',
      t0,
      opts.core.traced ? { headers: req.headers, httpMethod: req.method, httpRoute: route } : undefined,
    );
    let reply: HttpReply;
    try {
      reply = toHttpReply(result, mode, routing);
    } catch (e) {
      opts.core.reportFailure(e, result.decisionId, 'http');
      reply = toHttpReply(localDeny('internal_error', result.decisionId), mode, routing);
    }
    send(res, reply.status, reply.headers, reply.body);
  }

  async function pinRoute(req: http.IncomingMessage, res: http.ServerResponse, method: 'CreatePin' | 'MintState'): Promise<void> {
    const { body, tooLarge } = await readBody(req, PIN_JSON_LIMIT);
    if (tooLarge) return json(res, 413, { error: 'invalid_argument', message: 'request body too large' });
    let parsed: unknown;
    try {
      parsed = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch {
      return json(res, 400, { error: 'invalid_argument', message: 'body must be JSON' });
    }
    const auth = req.headers.authorization;
    try {
      const input = readPinInput(parsed);
      const out = method === 'CreatePin' ? await opts.pinApi.createPin(auth, input) : await opts.pinApi.mintState(auth, input);
      opts.metrics.pinApiCall(method, 'ok');
      json(res, 200, out);
    } catch (e) {
      const err = e instanceof PinApiError ? e : new PinApiError('unavailable', 'the pin could not be recorded');
      opts.metrics.pinApiCall(method, err.code);
      const headers: Record<string, string> = { 'content-type': 'application/json', 'cache-control': 'no-store' };
      if (err.code === 'unauthenticated') headers['www-authenticate'] = 'Bearer';
      send(res, PIN_API_STATUS[err.code].http, headers, JSON.stringify({ error: err.code, message: err.message }));
    }
  }

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathOnly = q >= 0 ? url.slice(0, q) : url;
    let work: Promise<void> | null = null;
    if (pathOnly.startsWith(`${prefix}/`)) work = forwardAuth(req, res, true, `${prefix}/*`);
    else if (PROXY_ROUTES.includes(pathOnly)) work = forwardAuth(req, res, false, pathOnly);
    // No Pin API in opa-envoy mode: there are no pins (404 below).
    else if (pathOnly === '/v1/pins' && req.method === 'POST' && !opts.opaEnvoy) work = pinRoute(req, res, 'CreatePin');
    else if (pathOnly === '/v1/pins:mint' && req.method === 'POST' && !opts.opaEnvoy) work = pinRoute(req, res, 'MintState');
    else {
      req.resume();
      return json(res, 404, { error: 'not_found' });
    }
    work.catch((e: unknown) => {
      // Only a bug gets here (the check core and the Pin API handler answer their own failures): say so
      // once, and still answer with a deny.
      const deny = localDeny('internal_error');
      opts.core.reportFailure(e, deny.decisionId, 'http');
      const reply = toHttpReply(deny, 'envoy', opts.routingHeader());
      send(res, reply.status, reply.headers, reply.body);
    });
  };
  const server: HttpListener = opts.tls
    ? https.createServer({ ...opts.tls, maxHeaderSize: 64 * 1024 }, handler)
    : http.createServer({ maxHeaderSize: 64 * 1024 }, handler);
  // Bound header/idle time so slow clients cannot hold sockets (threat model T-Z5 is Envoy's, this is ours).
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 65_000;
  return server;
}

/** `exclusive`: in a cluster worker, a listener of this process only (not shared through the primary). */
export function listenHttp(server: HttpListener, addr: string, exclusive = false): Promise<number> {
  const { host, port } = splitAddr(addr);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: host.replace(/^\[|\]$/g, ''), exclusive }, () => {
      server.off('error', reject);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : port);
    });
  });
}

export function stopHttp(server: HttpListener, deadlineMs: number): Promise<void> {
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
