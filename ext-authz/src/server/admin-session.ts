// Cockpit sessions (docs/stages.md, "The cockpit"): after a token login the browser holds a signed,
// short-lived cookie naming the token (never the token itself); a POST also needs the session's CSRF
// token in a header and a same-origin Origin. Stateless, so any replica accepts any replica's session;
// the key derives from keys.hash_key, and a session dies with its admin token or a changed role.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type * as http from 'node:http';
import type { AdminRole, AdminTokenConfig, RegistryConfig } from '../model/registry';
import { principalByName } from '../lifecycle/admin-auth';
import type { Principal } from '../lifecycle/admin-auth';

export const SESSION_COOKIE = '__Host-cbp_admin';
export const CSRF_HEADER = 'x-csrf-token';
const TTL_MS = 8 * 3_600_000;

interface Claims {
  n: string;
  r: AdminRole;
  sid: string;
  exp: number;
}

export interface Session {
  principal: Principal;
  csrf: string;
  expires: number;
}

const keys = new WeakMap<RegistryConfig, Buffer>();

function sessionKey(reg: RegistryConfig): Buffer {
  let k = keys.get(reg);
  if (!k) {
    k = createHmac('sha256', Buffer.from(reg.keys.hash_key, 'base64url')).update('callback-proxy admin session v1').digest();
    keys.set(reg, k);
  }
  return k;
}

const mac = (key: Buffer, s: string): string => createHmac('sha256', key).update(s).digest('base64url');

function safeEq(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function csrfFor(key: Buffer, sid: string): string {
  return mac(key, `csrf|${sid}`);
}

/** A new session for `p`: the Set-Cookie value and the CSRF token the page sends back. */
export function issueSession(reg: RegistryConfig, p: Principal, now: number): { cookie: string; session: Session } {
  const key = sessionKey(reg);
  const claims: Claims = { n: p.name, r: p.role, sid: randomBytes(16).toString('base64url'), exp: now + TTL_MS };
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const value = `v1.${body}.${mac(key, `v1.${body}`)}`;
  // Secure + HttpOnly + SameSite=Strict, host-only (__Host-): never sent cross-site, never read by script.
  const cookie = `${SESSION_COOKIE}=${value}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=${TTL_MS / 1000}`;
  return { cookie, session: { principal: p, csrf: csrfFor(key, claims.sid), expires: claims.exp } };
}

export const CLEAR_SESSION = `${SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0`;

function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** The session a request's cookie carries, if it verifies, has not expired and its token still holds that role. */
export function readSession(reg: RegistryConfig, req: http.IncomingMessage, now: number): Session | null {
  const v = cookieValue(req.headers.cookie, SESSION_COOKIE);
  if (!v) return null;
  const parts = v.split('.');
  if (parts.length !== 3 || parts[0] !== 'v1') return null;
  const key = sessionKey(reg);
  if (!safeEq(parts[2], mac(key, `v1.${parts[1]}`))) return null;
  let c: Claims;
  try {
    c = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Claims;
  } catch {
    return null;
  }
  if (typeof c.exp !== 'number' || c.exp <= now || typeof c.sid !== 'string') return null;
  const holder = principalByName(reg.keys.admin_tokens ?? ([] as AdminTokenConfig[]), c.n);
  if (!holder || holder.role !== c.r) return null;
  return { principal: holder, csrf: csrfFor(key, c.sid), expires: c.exp };
}

/** The request's own origin as a browser would send it (scheme from the socket, host from Host). */
function ownOrigin(req: http.IncomingMessage): string | null {
  const host = req.headers.host;
  if (!host) return null;
  const tls = (req.socket as { encrypted?: boolean }).encrypted === true;
  return `${tls ? 'https' : 'http'}://${host.toLowerCase()}`;
}

/** A state-changing browser request: same origin (Origin header) and, with a session, its CSRF token. */
export function sameOrigin(req: http.IncomingMessage): boolean {
  const origin = req.headers.origin;
  const own = ownOrigin(req);
  return typeof origin === 'string' && own !== null && origin.toLowerCase() === own;
}

export function csrfOk(req: http.IncomingMessage, s: Session): boolean {
  const h = req.headers[CSRF_HEADER];
  return typeof h === 'string' && safeEq(h, s.csrf) && sameOrigin(req);
}
