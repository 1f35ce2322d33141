// The migration cockpit (docs/stages.md, "The cockpit"): a static page, its script and styles, and uPlot
// from its npm package, all read once at start and served with a strict CSP (no inline code). A token
// login (POST /session) gives a Secure, HttpOnly, SameSite=Strict session cookie; the page then talks
// to the stage API (server/admin-api.ts) with the session's CSRF token. Nothing secret is served.
import fs from 'node:fs';
import type * as http from 'node:http';
import path from 'node:path';
import type { RegistryConfig } from '../model/registry';
import type { Logger } from '../telemetry/logger';
import { principalForToken } from '../lifecycle/admin-auth';
import { LifecycleError } from '../lifecycle/errors';
import type { AdminRoutes } from './admin-routes';
import { readJson, send, sendError, sendJson } from './admin-http';
import { CLEAR_SESSION, csrfOk, issueSession, readSession, sameOrigin } from './admin-session';

/** ext-authz/cockpit, from src/server or its compiled twin at the same depth. */
export const COCKPIT_DIR = path.join(__dirname, '..', '..', '..', 'ext-authz', 'cockpit');

interface Asset {
  type: string;
  body: Buffer;
}

export interface CockpitOptions {
  registry: () => RegistryConfig | null;
  logger: Logger;
  clock?: () => number;
  /** Where index.html, cockpit.js and cockpit.css are (default COCKPIT_DIR). */
  dir?: string;
}

function loadAssets(dir: string): Map<string, Asset> {
  const own = (f: string, type: string): Asset => ({ type, body: fs.readFileSync(path.join(dir, f)) });
  const uplot = path.dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  return new Map<string, Asset>([
    ['/', own('index.html', 'text/html; charset=utf-8')],
    ['/cockpit/cockpit.js', own('cockpit.js', 'text/javascript; charset=utf-8')],
    ['/cockpit/cockpit.css', own('cockpit.css', 'text/css; charset=utf-8')],
    ['/cockpit/uPlot.min.js', { type: 'text/javascript; charset=utf-8', body: fs.readFileSync(path.join(uplot, 'uPlot.iife.min.js')) }],
    ['/cockpit/uPlot.min.css', { type: 'text/css; charset=utf-8', body: fs.readFileSync(path.join(uplot, 'uPlot.min.css')) }],
  ]);
}

export function createCockpit(opts: CockpitOptions): AdminRoutes {
  const clock = opts.clock ?? Date.now;
  // Read once, at the first request: a build that left the page out must not stop the service.
  let assets: Map<string, Asset> | null = null;
  let missing = false;
  const loaded = (): Map<string, Asset> | null => {
    if (assets === null && !missing) {
      try {
        assets = loadAssets(opts.dir ?? COCKPIT_DIR);
      } catch {
        missing = true;
        opts.logger.error({ event: 'cockpit_assets_missing', dir: opts.dir ?? COCKPIT_DIR }, 'the cockpit page is not installed; the stage API still works');
      }
    }
    return assets;
  };

  async function login(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const reg = opts.registry();
    if (!reg) throw new LifecycleError('unavailable', 'the service is still loading');
    // Login CSRF: only the cockpit page itself may log in.
    if (!sameOrigin(req)) throw new LifecycleError('csrf_failed', 'log in from the cockpit page');
    const body = (await readJson(req, 4096)) as { token?: unknown };
    const p = typeof body.token === 'string' && body.token.length <= 512 ? principalForToken(reg.keys.admin_tokens ?? [], body.token) : null;
    if (!p) {
      opts.logger.info({ event: 'cockpit_login_refused' }, 'cockpit login refused');
      throw new LifecycleError('unauthenticated', 'unknown admin token');
    }
    const { cookie, session } = issueSession(reg, p, clock());
    opts.logger.info({ event: 'cockpit_login', actor: p.name, role: p.role }, 'cockpit login');
    sendJson(res, 200, { name: p.name, role: p.role, csrf: session.csrf, expires: new Date(session.expires).toISOString() }, { 'set-cookie': cookie });
  }

  function logout(req: http.IncomingMessage, res: http.ServerResponse): void {
    const reg = opts.registry();
    const s = reg ? readSession(reg, req, clock()) : null;
    if (s && !csrfOk(req, s)) throw new LifecycleError('csrf_failed', 'log out from the cockpit page');
    sendJson(res, 200, { ok: true }, { 'set-cookie': CLEAR_SESSION });
  }

  return {
    name: 'cockpit',
    async handle(req, res, url) {
      const p = url.pathname;
      try {
        if (req.method === 'GET' || req.method === 'HEAD') {
          const key = p === '/index.html' ? '/' : p;
          if (key !== '/' && !key.startsWith('/cockpit/')) return false;
          const all = loaded();
          if (all === null) throw new LifecycleError('unavailable', 'the cockpit page is not installed');
          const a = all.get(key);
          if (!a) return false;
          req.resume();
          send(res, 200, { 'content-type': a.type }, req.method === 'HEAD' ? Buffer.alloc(0) : a.body);
          return true;
        }
        if (req.method === 'POST' && p === '/session') {
          await login(req, res);
          return true;
        }
        if (req.method === 'POST' && p === '/session/logout') {
          req.resume();
          logout(req, res);
          return true;
        }
      } catch (e) {
        req.resume();
        sendError(res, e);
        return true;
      }
      return false;
    },
  };
}
