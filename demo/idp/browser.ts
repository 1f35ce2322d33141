// A scripted browser for the end-to-end suite: an HTTP client with a cookie jar that follows redirects
// and submits auto-posting forms (form_post, SAML POST), the way a real browser completes a login.
// All requests go to 127.0.0.1; the Host header carries the external name when one is mapped.
import http from 'node:http';

export interface Hop {
  method: string;
  url: string;
  status: number;
  /** The backend that answered, from its X-Served-By header (absent for proxy-local replies). */
  servedBy?: string;
  reason?: string;
  /** X-Callback-Hint of a deny (e.g. restart-login). */
  hint?: string;
}

export interface BrowserResult {
  status: number;
  body: string;
  json?: Record<string, unknown>;
  hops: Hop[];
  /** Set when a `stopBefore` predicate held: the request the browser was about to send. */
  pending?: PendingRequest;
}

/** A request the browser has not sent yet (e.g. a callback held back across a stage change). */
export interface PendingRequest {
  method: string;
  url: string;
  body?: string;
}

/** Holds the flow before sending a matching request (tests deliver the callback later). */
export type StopBefore = (next: PendingRequest) => boolean;

export interface BrowserOptions {
  /** External host name -> 127.0.0.1:port to connect to (e.g. auth.example.com -> the proxy). */
  hostMap?: Record<string, string>;
  maxHops?: number;
  timeoutMs?: number;
}

export class ScriptedBrowser {
  /** cookies per host (name -> value); Secure/SameSite are ignored on loopback, Path is always /. */
  private readonly jar = new Map<string, Map<string, string>>();
  constructor(private readonly opts: BrowserOptions = {}) {}

  async get(url: string, headers: Record<string, string> = {}, stopBefore?: StopBefore): Promise<BrowserResult> {
    return this.run('GET', url, undefined, headers, stopBefore);
  }

  /** Sends a held request (once or again: a replay) and follows the rest of the flow. */
  async resume(p: PendingRequest, headers: Record<string, string> = {}): Promise<BrowserResult> {
    return this.run(p.method, p.url, p.body, headers);
  }

  async post(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<BrowserResult> {
    return this.run('POST', url, new URLSearchParams(form).toString(), headers);
  }

  cookies(host: string): Record<string, string> {
    return Object.fromEntries(this.jar.get(host) ?? []);
  }

  private async run(method: string, url: string, body: string | undefined, extra: Record<string, string>, stopBefore?: StopBefore): Promise<BrowserResult> {
    const hops: Hop[] = [];
    let cur: PendingRequest = { method, url, body };
    for (let i = 0; i < (this.opts.maxHops ?? 10); i++) {
      if (i > 0 && stopBefore?.(cur)) return { status: 0, body: '', hops, pending: cur };
      const r = await this.request(cur.method, cur.url, cur.body, i === 0 ? extra : {});
      hops.push({ method: cur.method, url: redactUrl(cur.url), status: r.status, servedBy: r.headers['x-served-by'] as string | undefined, reason: r.headers['x-callback-reason'] as string | undefined, hint: r.headers['x-callback-hint'] as string | undefined });
      const loc = r.headers.location;
      if (r.status >= 300 && r.status < 400 && typeof loc === 'string') {
        cur = { method: 'GET', url: new URL(loc, cur.url).toString(), body: undefined };
        continue;
      }
      const form = parseAutoPostForm(r.body);
      if (r.status === 200 && form) {
        cur = { method: 'POST', url: new URL(form.action, cur.url).toString(), body: new URLSearchParams(form.fields).toString() };
        continue;
      }
      let json: Record<string, unknown> | undefined;
      try {
        json = JSON.parse(r.body) as Record<string, unknown>;
      } catch {
        json = undefined;
      }
      return { status: r.status, body: r.body, json, hops };
    }
    throw new Error(`too many hops from ${redactUrl(url)}`);
  }

  private request(method: string, url: string, body: string | undefined, extra: Record<string, string>) {
    const u = new URL(url);
    const target = this.opts.hostMap?.[u.host] ?? u.host;
    const [host, port] = target.split(':');
    const cookies = this.jar.get(u.host);
    const headers: Record<string, string> = { Host: u.host, ...extra };
    if (cookies && cookies.size) headers.Cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body !== undefined) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = http.request({ host, port: Number(port || 80), method, path: u.pathname + u.search, headers, timeout: this.opts.timeoutMs ?? 10_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          this.store(u.host, res.headers['set-cookie']);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`timeout ${method} ${redactUrl(url)}`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  private store(host: string, setCookie: string[] | undefined): void {
    if (!setCookie) return;
    let jar = this.jar.get(host);
    if (!jar) this.jar.set(host, (jar = new Map()));
    for (const c of setCookie) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      if (i <= 0) continue;
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      if (/max-age=0/i.test(c) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  }
}

/** Finds `<form method="post" action="...">` with hidden inputs (our mock IdPs' auto-post pages). */
export function parseAutoPostForm(html: string): { action: string; fields: Record<string, string> } | null {
  const m = /<form[^>]*method="post"[^>]*action="([^"]*)"/i.exec(html);
  if (!m) return null;
  const fields: Record<string, string> = {};
  for (const im of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)"\/>/g)) fields[unescapeHtml(im[1])] = unescapeHtml(im[2]);
  return { action: unescapeHtml(m[1]), fields };
}

function unescapeHtml(s: string): string {
  return s.replace(/&#(\d+);/g, (_m, d: string) => String.fromCharCode(Number(d)));
}

/** Query values never appear in hop records (they carry codes and states). */
export function redactUrl(url: string): string {
  const u = new URL(url);
  for (const k of [...u.searchParams.keys()]) u.searchParams.set(k, 'REDACTED');
  return u.toString();
}
