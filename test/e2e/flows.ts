// Shared steps of the end-to-end suite: a full login through a proxy, a login held just before its
// callback (so a stage change can happen in between), raw proxy requests, and hop assertions.
import http from 'node:http';
import type { Stack } from '../../demo/harness';
import { EXTERNAL_BASE, EXTERNAL_HOST } from '../../demo/harness';
import type { BrowserResult, PendingRequest, ScriptedBrowser } from '../../demo/idp/browser';

export type Via = 'nginx' | 'front';
export type Mode = 'query' | 'form_post' | 'saml';

export interface Login {
  browser: ScriptedBrowser;
  result: BrowserResult;
}

/** Where a login starts: OAuth (query / form_post response mode) or SAML POST. */
export function startUrl(user: string, mode: Mode = 'query'): string {
  if (mode === 'saml') return `${EXTERNAL_BASE}/saml/login?login_hint=${user}`;
  return `${EXTERNAL_BASE}/login?login_hint=${user}${mode === 'form_post' ? '&response_mode=form_post' : ''}`;
}

const isCallback = (p: PendingRequest): boolean => {
  const u = new URL(p.url);
  return u.host === EXTERNAL_HOST && (u.pathname === '/oauth2/callback' || u.pathname === '/saml/acs');
};

/** A complete login: start → IdP → callback → session. */
export async function login(stack: Stack, user: string, opts: { via?: Via; mode?: Mode } = {}): Promise<Login> {
  const browser = stack.browser(opts.via ?? 'nginx');
  return { browser, result: await browser.get(startUrl(user, opts.mode)) };
}

export interface HeldLogin {
  browser: ScriptedBrowser;
  /** The backend that served the login start (it owns the flow). */
  startedOn: string | undefined;
  callback: PendingRequest;
  deliver(headers?: Record<string, string>): Promise<BrowserResult>;
}

/** Runs a login up to (not including) its callback: the user is still at the IdP. */
export async function holdLogin(stack: Stack, user: string, opts: { via?: Via; mode?: Mode } = {}): Promise<HeldLogin> {
  const browser = stack.browser(opts.via ?? 'nginx');
  const r = await browser.get(startUrl(user, opts.mode), {}, isCallback);
  if (!r.pending) throw new Error(`login of ${user} ended before its callback (status ${r.status})`);
  const callback = r.pending;
  return { browser, startedOn: r.hops[0]?.servedBy, callback, deliver: (headers = {}) => browser.resume(callback, headers) };
}

/** The hop that delivered the callback (last hop to the external host). */
export function callbackHop(r: BrowserResult) {
  return r.hops[r.hops.length - 1];
}

/** Backends that served each hop to the external host, in order. */
export function servedBy(r: BrowserResult): (string | undefined)[] {
  return r.hops.filter((h) => new URL(h.url).host === EXTERNAL_HOST).map((h) => h.servedBy);
}

/** The state and code values of a held callback (the secrets that must never reach a log). */
export function secretsOf(p: PendingRequest): string[] {
  const params = p.body !== undefined ? new URLSearchParams(p.body) : new URL(p.url).searchParams;
  return ['state', 'code', 'RelayState', 'SAMLResponse'].map((k) => params.get(k)).filter((v): v is string => !!v);
}

export interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One raw request to a proxy with Host: auth.example.com. */
export function send(stack: Stack, via: Via, method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<RawReply> {
  const u = new URL(stack.proxyUrl(via));
  const h: Record<string, string> = { host: EXTERNAL_HOST, ...headers };
  if (body !== undefined) h['content-length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: Number(u.port), method, path, headers: h, agent: false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
