// An Envoy stand-in for the paths nginx cannot carry: it buffers the request body and asks ext-authz
// over real gRPC (envoy.service.auth.v3.Authorization/Check with `body`, as Envoy's ext_authz filter
// does with `with_request_body`), then applies the CheckResponse the way Envoy does: header mutations,
// headers_to_remove, route on the routing header, local reply on deny, fail closed on any error.
// Used by the e2e suite for form_post, SAML POST and webhooks (nginx auth_request never sends bodies).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { loadProtos } from '../ext-authz/src/check/protos';

export interface FrontProxyOptions {
  /** host:port of ext-authz's gRPC listener. */
  grpcAddr: string;
  /**
   * 'grpc' (default): ext_authz grpc_service. 'http': Envoy's http_service contract against ext-authz's
   * HTTP listener (`/envoy/authz` + original path, original method, headers and body).
   */
  authz?: 'grpc' | 'http';
  /** host:port of ext-authz's HTTP listener (authz: 'http'). */
  httpAddr?: string;
  /** Backend id → host:port (the Envoy clusters). */
  backends: Record<string, string>;
  routingHeader?: string;
  /**
   * Envoy `with_request_body.pack_as_bytes` (default true, as envoy/envoy.yaml sets it): the body goes
   * in `raw_body` as the exact bytes; false sends it in the `body` string (read as UTF-8).
   */
  packAsBytes?: boolean;
  /** Envoy `with_request_body.max_request_bytes` (allow_partial_message: false → 413 above it). */
  maxRequestBytes?: number;
  timeoutMs?: number;
}

/** One authorization answer, whichever transport carried it. */
type Verdict =
  | { ok: true; set: Record<string, string>; remove: string[]; responseHeaders: HeaderOption[] }
  | { ok: false; status: number; headers: Record<string, string>; body: string };

export interface RunningFrontProxy {
  port: number;
  url: string;
  stop(): Promise<void>;
}

interface HeaderOption {
  header: { key: string; value: string };
  appendAction?: string;
}

/** envoy.type.v3.StatusCode names (decoded with enums: String) → numbers; unknown → 403. */
const STATUS: Record<string, number> = {
  OK: 200, BadRequest: 400, Unauthorized: 401, Forbidden: 403, NotFound: 404, PayloadTooLarge: 413,
  TooManyRequests: 429, RequestHeaderFieldsTooLarge: 431, InternalServerError: 500, ServiceUnavailable: 503,
};

function statusOf(code: unknown): number {
  if (typeof code === 'number') return code;
  return typeof code === 'string' ? (STATUS[code] ?? 403) : 403;
}

function reply(res: http.ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

const DENIED = JSON.stringify({ error: 'request_denied' });

export async function startFrontProxy(opts: FrontProxyOptions): Promise<RunningFrontProxy> {
  const protos = loadProtos();
  const client = new protos.AuthorizationClient(opts.grpcAddr, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    Check(req: unknown, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v: any) => void): void;
  };
  const routing = (opts.routingHeader ?? 'x-callback-backend').toLowerCase();
  const maxBytes = opts.maxRequestBytes ?? 262_144;
  let seq = 0;

  const check = (req: unknown): Promise<any> =>
    new Promise((resolve, reject) => {
      const deadline = new Date(Date.now() + (opts.timeoutMs ?? 2000));
      client.Check(req, new grpc.Metadata(), { deadline }, (e, v) => (e ? reject(e) : resolve(v)));
    });

  function toVerdict(resp: any): Verdict {
    if (resp?.status?.code !== 0 || !resp.okResponse) {
      const d = resp?.deniedResponse ?? {};
      const out: Record<string, string> = {};
      for (const h of (d.headers ?? []) as HeaderOption[]) out[h.header.key] = h.header.value;
      return { ok: false, status: statusOf(d.status?.code), headers: out, body: typeof d.body === 'string' ? d.body : DENIED };
    }
    const ok = resp.okResponse as { headers?: HeaderOption[]; headersToRemove?: string[]; responseHeadersToAdd?: HeaderOption[] };
    const set: Record<string, string> = {};
    for (const h of ok.headers ?? []) set[h.header.key.toLowerCase()] = h.header.value;
    return { ok: true, set, remove: (ok.headersToRemove ?? []).map((n) => n.toLowerCase()), responseHeaders: ok.responseHeadersToAdd ?? [] };
  }

  /** Envoy http_service: 200 = allow (its headers go upstream), anything else is the deny reply. */
  function checkHttp(method: string, path: string, headers: Record<string, string>, body: Buffer): Promise<Verdict> {
    const [host, port] = (opts.httpAddr ?? '').split(':');
    const h: Record<string, string> = {};
    for (const [k, val] of Object.entries(headers)) if (!k.startsWith(':')) h[k] = val;
    h.host = headers[':authority'];
    h['x-forwarded-proto'] = 'http';
    h['content-length'] = String(body.length);
    return new Promise((resolve, reject) => {
      const r = http.request({ host, port: Number(port), method, path: `/envoy/authz${path}`, headers: h, agent: false, timeout: opts.timeoutMs ?? 2000 }, (ar) => {
        const chunks: Buffer[] = [];
        ar.on('data', (c: Buffer) => chunks.push(c));
        ar.on('end', () => {
          const out: Record<string, string> = {};
          for (const [k, val] of Object.entries(ar.headers)) if (typeof val === 'string') out[k] = val;
          if (ar.statusCode !== 200) return resolve({ ok: false, status: ar.statusCode ?? 403, headers: out, body: Buffer.concat(chunks).toString('utf8') });
          const remove = (out['x-envoy-auth-headers-to-remove'] ?? '').split(',').map((x) => x.trim()).filter(Boolean);
          const set: Record<string, string> = {};
          for (const [k, val] of Object.entries(out)) {
            if (!['content-length', 'content-type', 'date', 'connection', 'keep-alive', 'x-envoy-auth-headers-to-remove', 'cache-control', 'set-cookie'].includes(k)) set[k] = val;
          }
          const cookies = ar.headers['set-cookie'] ?? [];
          resolve({ ok: true, set, remove, responseHeaders: cookies.map((c) => ({ header: { key: 'set-cookie', value: c } })) });
        });
      });
      r.on('timeout', () => r.destroy(new Error('authz timeout')));
      r.on('error', reject);
      r.end(body);
    });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    const method = req.method ?? 'GET';
    const authority = req.headers.host ?? '';
    const path = req.url ?? '/';
    const headers: Record<string, string> = { ':authority': authority, ':method': method, ':path': path, ':scheme': 'http' };
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i].toLowerCase();
      if (name === 'host') continue;
      // Envoy joins repeated headers with "," in the CheckRequest.
      headers[name] = name in headers ? `${headers[name]},${req.rawHeaders[i + 1]}` : req.rawHeaders[i + 1];
    }
    const rid = `front-${++seq}`;
    headers['x-request-id'] = rid;
    const httpAttrs: Record<string, unknown> = { id: rid, method, host: authority, path, scheme: 'http', protocol: 'HTTP/1.1', headers };
    if (body.length > 0) {
      if (opts.packAsBytes === false) httpAttrs.body = body.toString('utf8');
      else httpAttrs.rawBody = body;
      httpAttrs.size = String(body.length);
    }
    const checkRequest = {
      attributes: {
        source: { address: { socketAddress: { address: req.socket.remoteAddress ?? '127.0.0.1', portValue: req.socket.remotePort ?? 0 } } },
        destination: { address: { socketAddress: { address: '127.0.0.1', portValue: (req.socket.localPort ?? 0) } } },
        request: { time: { seconds: String(Math.floor(Date.now() / 1000)), nanos: 0 }, http: httpAttrs },
      },
    };
    let v: Verdict;
    try {
      v = opts.authz === 'http' ? await checkHttp(method, path, headers, body) : toVerdict(await check(checkRequest));
    } catch {
      // failure_mode_allow: false — an unreachable or failing authz service denies.
      return reply(res, 403, { 'content-type': 'application/json' }, DENIED);
    }
    if (!v.ok) return reply(res, v.status, v.headers, v.body);
    const ok = v;
    const upstream: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) if (!k.startsWith(':')) upstream[k] = v;
    upstream.host = authority;
    for (const [k, val] of Object.entries(ok.set)) upstream[k] = val;
    for (const name of ok.remove) delete upstream[name];
    // The route: only a backend id we know; anything else is a local 403 (fail closed).
    const target = opts.backends[upstream[routing] ?? ''];
    if (!target) return reply(res, 403, { 'content-type': 'application/json' }, DENIED);
    const [host, port] = target.split(':');
    if (body.length > 0) upstream['content-length'] = String(body.length);
    await new Promise<void>((resolve) => {
      const up = http.request({ host, port: Number(port), method, path, headers: upstream, agent: false }, (ur) => {
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(ur.headers)) if (v !== undefined) out[k] = v;
        for (const h of ok.responseHeaders) {
          const k = h.header.key.toLowerCase();
          const prev = out[k];
          if (k === 'set-cookie' && prev !== undefined) out[k] = [...(Array.isArray(prev) ? prev : [prev]), h.header.value];
          else out[k] = h.header.value;
        }
        res.writeHead(ur.statusCode ?? 502, out);
        ur.pipe(res);
        ur.on('end', () => resolve());
      });
      up.on('error', () => {
        reply(res, 503, { 'content-type': 'application/json' }, JSON.stringify({ error: 'upstream_unavailable' }));
        resolve();
      });
      up.end(body);
    });
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      if (tooLarge) return reply(res, 413, { 'content-type': 'application/json' }, JSON.stringify({ error: 'payload_too_large' }));
      handle(req, res, Buffer.concat(chunks)).catch(() => reply(res, 403, { 'content-type': 'application/json' }, DENIED));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      client.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
