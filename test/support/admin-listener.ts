// A minimal admin listener for tests: node:http on 127.0.0.1 port 0 that tries each AdminRoutes handler
// in order (the contract of ext-authz/src/server/admin-routes.ts), 404 when none answers. The service's
// own admin listener (server/admin-server.ts) mounts the same handlers.
import * as http from 'node:http';
import type { AdminRoutes } from '../../ext-authz/src/server/admin-routes';

export interface AdminListener {
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function mountAdmin(routes: readonly AdminRoutes[]): Promise<AdminListener> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    void (async () => {
      for (const r of routes) if (await r.handle(req, res, url)) return;
      req.resume();
      res.writeHead(404, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end('{"error":"not_found"}');
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A JSON request to the admin listener; `token` goes in a Bearer header. */
export async function adminCall(base: string, method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; json: any; headers: Headers }> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}
