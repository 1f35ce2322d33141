// The stage API (docs/stages.md, "The admin API"), HTTP/JSON routes for the admin listener:
//   GET  /v1/connections                      every connection: file / override / effective stage, …
//   GET  /v1/connections/{name}
//   POST /v1/connections/{name}/stage         {stage, canary_percent?, drain_until?, reason, ticket?, at?, dry_run?}
//   POST /v1/connections/{name}/stage:reset   {reason, ticket?, dry_run?}
//   GET  /v1/connections/{name}/history       the connection's audit records
//   GET  /v1/report[?connection=c]            the removal report
//   GET  /v1/audit[?limit=n]                  the chain's last records and its head
//   GET  /v1/alarms                           sunset, unknown stage, automatic rollbacks
//   GET  /v1/session                          the cockpit session's name, role and CSRF token
// Authentication: `Authorization: Bearer <admin token>` (keys.admin_tokens), or the cockpit's session
// cookie — then a POST needs the CSRF header and a same-origin Origin. Viewer reads, operator changes.
import type * as http from 'node:http';
import type { RegistryConfig } from '../model/registry';
import type { Logger } from '../telemetry/logger';
import { bearerToken, principalForToken } from '../lifecycle/admin-auth';
import type { Principal } from '../lifecycle/admin-auth';
import { LifecycleError } from '../lifecycle/errors';
import type { Lifecycle } from '../lifecycle/lifecycle';
import { readResetRequest, readStageRequest } from '../lifecycle/stage-requests';
import type { AdminRoutes } from './admin-routes';
import { readJson, sendError, sendJson } from './admin-http';
import { csrfOk, readSession } from './admin-session';
import type { Session } from './admin-session';

export interface AdminApiOptions {
  /** The running lifecycle, or null while the service is still loading. */
  lifecycle: () => Lifecycle | null;
  /** The registry file's current content (admin tokens, the session key). */
  registry: () => RegistryConfig | null;
  logger: Logger;
  clock?: () => number;
}

const NAME = '[A-Za-z0-9_-]{1,64}';
const CONNECTION = new RegExp(`^/v1/connections/(${NAME})$`);
const ACTION = new RegExp(`^/v1/connections/(${NAME})/(stage|stage:reset|history)$`);

type Auth = { principal: Principal; session: Session | null };

/** Who is asking: a bearer token or a cockpit session (with CSRF on unsafe methods). */
export function authenticate(reg: RegistryConfig, req: http.IncomingMessage, now: number): Auth {
  const tokens = reg.keys.admin_tokens ?? [];
  if (req.headers.authorization !== undefined) {
    const t = bearerToken(req.headers.authorization);
    const p = t === null ? null : principalForToken(tokens, t);
    if (!p) throw new LifecycleError('unauthenticated', 'a valid admin token is required');
    return { principal: p, session: null };
  }
  const s = readSession(reg, req, now);
  if (!s) throw new LifecycleError('unauthenticated', 'a valid admin token is required');
  if (req.method !== 'GET' && req.method !== 'HEAD' && !csrfOk(req, s)) throw new LifecycleError('csrf_failed', 'a cockpit change needs its CSRF token and a same-origin request');
  return { principal: s.principal, session: s };
}

export function createAdminApi(opts: AdminApiOptions): AdminRoutes {
  const clock = opts.clock ?? Date.now;

  async function route(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const reg = opts.registry();
    const life = opts.lifecycle();
    if (!reg || !life) throw new LifecycleError('unavailable', 'the service is still loading');
    let auth: Auth;
    try {
      auth = authenticate(reg, req, clock());
    } catch (e) {
      // Names the route and the code, never what was presented.
      opts.logger.info({ event: 'admin_refused', code: (e as LifecycleError).code, method: req.method, path: url.pathname }, 'admin request refused');
      throw e;
    }
    const p = auth.principal;
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (method === 'GET') {
      if (path === '/v1/session') {
        if (!auth.session) throw new LifecycleError('invalid_argument', 'no cockpit session: this request used a bearer token');
        return sendJson(res, 200, { name: p.name, role: p.role, csrf: auth.session.csrf, expires: new Date(auth.session.expires).toISOString() });
      }
      if (path === '/v1/connections') return sendJson(res, 200, { connections: await life.connections(), store: life.storeKind });
      if (path === '/v1/report') return sendJson(res, 200, await life.report(url.searchParams.get('connection') ?? undefined).then(found(url.searchParams.get('connection'))));
      if (path === '/v1/audit') {
        const limit = Math.min(500, Math.max(1, Number(url.searchParams.get('limit') ?? '50') || 50));
        return sendJson(res, 200, await life.auditTail(limit));
      }
      if (path === '/v1/alarms') return sendJson(res, 200, { alarms: await life.alarms() });
      const one = CONNECTION.exec(path);
      if (one) {
        const v = await life.connection(one[1]);
        if (!v) throw new LifecycleError('not_found', `no connection named ${one[1]}`);
        return sendJson(res, 200, v);
      }
      const act = ACTION.exec(path);
      if (act && act[2] === 'history') {
        if (!(await life.connection(act[1]))) throw new LifecycleError('not_found', `no connection named ${act[1]}`);
        return sendJson(res, 200, { connection: act[1], records: await life.history(act[1]) });
      }
    } else if (method === 'POST') {
      const act = ACTION.exec(path);
      if (act && act[2] !== 'history') {
        // Roles are checked by the lifecycle, which also records an authenticated caller's refusal.
        const body = await readJson(req);
        const r = act[2] === 'stage' ? await life.change(p, act[1], readStageRequest(body)) : await life.reset(p, act[1], readResetRequest(body));
        const view = await life.connection(act[1]);
        return sendJson(res, r.dry_run ? 200 : r.scheduled ? 202 : 200, { dry_run: r.dry_run, scheduled: r.scheduled, effect: r.effect, audit: r.record, connection: view });
      }
    }
    throw new LifecycleError('not_found', `no admin route ${method} ${path}`);
  }

  return {
    name: 'stage-api',
    async handle(req, res, url) {
      if (!url.pathname.startsWith('/v1/')) return false;
      try {
        await route(req, res, url);
      } catch (e) {
        req.resume();
        sendError(res, e);
      }
      return true;
    },
  };
}

/** A report for one named connection that does not exist is a 404, not an empty report. */
function found(name: string | null) {
  return <T extends { connections: unknown[] }>(r: T): T => {
    if (name !== null && r.connections.length === 0) throw new LifecycleError('not_found', `no connection named ${name}`);
    return r;
  };
}
