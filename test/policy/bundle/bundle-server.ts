// A bundle server for tests on 127.0.0.1 (node:http or node:https): serves the current bundle with an
// ETag, answers 304 to a matching If-None-Match, can hold a long poll until the next publish, and
// records every request's headers.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface Published {
  body: Buffer;
  etag: string;
  status?: number;
  contentType?: string;
}

export interface TestBundleServer {
  url: string;
  requests: { path: string; headers: http.IncomingHttpHeaders }[];
  publish(p: Published): void;
  /** Extra route handlers (e.g. an OAuth2 token endpoint), by path. */
  routes: Record<string, (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void>;
  close(): Promise<void>;
}

export async function startBundleServer(opts: { tls?: https.ServerOptions; longPoll?: boolean } = {}): Promise<TestBundleServer> {
  let current: Published = { body: Buffer.alloc(0), etag: '', status: 404 };
  let waiting: (() => void)[] = [];
  const requests: TestBundleServer['requests'] = [];
  const routes: TestBundleServer['routes'] = {};

  const respond = (res: http.ServerResponse, inm: string | undefined): void => {
    const ct = current.contentType ?? (opts.longPoll ? 'application/vnd.openpolicyagent.bundles' : 'application/gzip');
    if (current.etag !== '' && inm === current.etag) {
      res.writeHead(304, { etag: current.etag, 'content-type': ct }).end();
      return;
    }
    const headers: Record<string, string> = { 'content-type': ct };
    if (current.etag !== '') headers.etag = current.etag;
    res.writeHead(current.status ?? 200, headers).end(current.body);
  };

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ path: req.url ?? '', headers: req.headers });
      const route = routes[(req.url ?? '').split('?')[0]];
      if (route) return route(req, Buffer.concat(chunks).toString(), res);
      const inm = req.headers['if-none-match'] as string | undefined;
      const wait = /wait=(\d+)/.exec(String(req.headers.prefer ?? ''));
      if (opts.longPoll && wait && current.etag !== '' && inm === current.etag) {
        const timer = setTimeout(() => respond(res, inm), Number(wait[1]) * 1000);
        waiting.push(() => {
          clearTimeout(timer);
          respond(res, inm);
        });
        return;
      }
      respond(res, inm);
    });
  };
  const server = opts.tls ? https.createServer(opts.tls, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    routes,
    publish(p) {
      current = p;
      const w = waiting;
      waiting = [];
      for (const f of w) f();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const f of waiting) f();
        waiting = [];
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
