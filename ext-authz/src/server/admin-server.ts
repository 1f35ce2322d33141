// The admin listener (docs/operations.md, "Admin listener"), default 127.0.0.1:9193: /metrics (Prometheus
// text), /healthz (liveness), /readyz (readiness, naming the failing condition), then every mounted
// AdminRoutes handler in order (the stage API, the cockpit, …). Kept apart from the forward-auth
// listener, which trusts proxy-set headers and must only be reachable from the proxy hop.
import * as http from 'node:http';
import type { AdminRoutes } from './admin-routes';
import type { Readiness } from './health';

export interface AdminServerOptions {
  readiness: Readiness;
  /** The Prometheus text exposition (telemetry/telemetry.ts metricsText). */
  metricsText: () => Promise<string>;
  metricsContentType: string;
  /** Mounted after the built-in routes, tried in order until one answers. */
  routes?: readonly AdminRoutes[];
  /** Extra lines for `/readyz?verbose` (the bundles' status); never secrets. */
  details?: () => string[];
  /** Told about a handler that threw (it should not: handlers answer their own errors). */
  onRouteError?: (name: string, e: unknown) => void;
}

function send(res: http.ServerResponse, status: number, contentType: string, body: string): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  res.writeHead(status, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store' });
  res.end(body);
}

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json';

/**
 * /readyz: `ready` (200), or `not ready: store: redis unreachable; …` (503). With `?verbose` every
 * condition is listed, `[+]` holding and `[-]` failing, as Kubernetes components do.
 */
function readyz(readiness: Readiness, verbose: boolean, details: string[] = []): { status: number; body: string } {
  const ready = readiness.ready;
  const head = ready ? 'ready' : `not ready: ${readiness.reasons().join('; ')}`;
  if (!verbose) return { status: ready ? 200 : 503, body: `${head}\n` };
  const lines = readiness.snapshot().map((c) => (c.ok ? `[+] ${c.name} ok` : `[-] ${c.name} ${c.detail}`));
  lines.push(readiness.isDraining ? '[-] draining' : '[+] not draining');
  lines.push(...details);
  return { status: ready ? 200 : 503, body: `${lines.join('\n')}\n${head}\n` };
}

export function createAdminServer(opts: AdminServerOptions): http.Server {
  const routes = opts.routes ?? [];

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://admin.invalid');
    } catch {
      req.resume();
      return send(res, 400, JSON_TYPE, JSON.stringify({ error: 'bad_request' }));
    }
    const p = url.pathname;
    const read = req.method === 'GET' || req.method === 'HEAD';
    if (read && p === '/metrics') {
      req.resume();
      let text: string;
      try {
        text = await opts.metricsText();
      } catch {
        return send(res, 500, TEXT, '# metrics collection failed\n');
      }
      return send(res, 200, opts.metricsContentType, text);
    }
    if (read && p === '/healthz') {
      req.resume();
      return send(res, 200, TEXT, 'ok\n');
    }
    if (read && p === '/readyz') {
      req.resume();
      const verbose = url.searchParams.has('verbose');
      let details: string[] = [];
      try {
        if (verbose) details = opts.details?.() ?? [];
      } catch {
        details = ['details unavailable'];
      }
      const r = readyz(opts.readiness, verbose, details);
      return send(res, r.status, TEXT, r.body);
    }
    for (const r of routes) {
      let answered: boolean;
      try {
        answered = await r.handle(req, res, url);
      } catch (e) {
        opts.onRouteError?.(r.name, e);
        return send(res, 500, JSON_TYPE, JSON.stringify({ error: 'internal', route: r.name }));
      }
      if (answered) return;
    }
    req.resume();
    send(res, 404, JSON_TYPE, JSON.stringify({ error: 'not_found' }));
  }

  const server = http.createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
    handle(req, res).catch(() => send(res, 500, JSON_TYPE, JSON.stringify({ error: 'internal' })));
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 65_000;
  return server;
}

// Listening and stopping are the HTTP listener's (listenHttp, stopHttp in http-server.ts).
