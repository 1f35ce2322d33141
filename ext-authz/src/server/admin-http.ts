// Small HTTP helpers shared by the admin routes (stage API, cockpit): bounded JSON bodies, JSON and
// error replies with `cache-control: no-store` and the security headers every admin response carries.
import type * as http from 'node:http';
import { LIFECYCLE_STATUS, LifecycleError } from '../lifecycle/errors';

/** Strict CSP for the cockpit and every API reply: our own scripts and styles only, no inline code. */
export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

export function send(res: http.ServerResponse, status: number, headers: Record<string, string | string[]>, body: string | Buffer): void {
  if (res.headersSent) return;
  res.writeHead(status, { ...SECURITY_HEADERS, ...headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

export function sendJson(res: http.ServerResponse, status: number, obj: unknown, headers: Record<string, string | string[]> = {}): void {
  send(res, status, { 'content-type': 'application/json; charset=utf-8', ...headers }, JSON.stringify(obj));
}

export function sendError(res: http.ServerResponse, e: unknown): void {
  const err = e instanceof LifecycleError ? e : new LifecycleError('unavailable', 'the request could not be completed');
  const headers: Record<string, string> = err.code === 'unauthenticated' ? { 'www-authenticate': 'Bearer' } : {};
  sendJson(res, LIFECYCLE_STATUS[err.code], { error: err.code, message: err.message }, headers);
}

/** Reads a JSON body of at most `limit` bytes; an empty body is `{}`. */
export function readJson(req: http.IncomingMessage, limit = 16 * 1024): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (e: LifecycleError): void => {
      if (!done) {
        done = true;
        reject(e);
      }
    };
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        fail(new LifecycleError('invalid_argument', `body: larger than ${limit} bytes`));
        req.resume();
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new LifecycleError('invalid_argument', 'body: not JSON'));
      }
    });
    req.on('error', () => fail(new LifecycleError('invalid_argument', 'body: unreadable')));
  });
}
