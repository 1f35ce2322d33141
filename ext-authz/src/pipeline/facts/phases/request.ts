// Fact provider `request` (docs/threat-model.md §5–§8): host → connection, the path rules, client headers, the query
// and body through the one strict parser, and the callback facts (kind, keyed hashes, parameter rules).
// Everything later providers read about the request comes from here; no store, no crypto.
import type { PreparedConnection, RouteKind } from '../deps';
import { addViolation } from '../context';
import type { FactsContext, FactsPhase } from '../context';
import { readCallback } from '../callback';
import { checkHeaders, normaliseAuthority } from '../host-rules';
import { parseForm, toRecord } from '../params';
import type { ParsedParams } from '../params';
import { checkPath, splitTarget } from '../path-rules';
import { jsonDepth } from '../../tokens/token-shape';

const MAX_JSON_DEPTH = 32;

function mediaType(ct: string | undefined): string {
  return (ct ?? '').split(';')[0].trim().toLowerCase();
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function run(ctx: FactsContext): void {
  const { req, deps } = ctx;
  const target = splitTarget(req.path);
  const path = checkPath(target.path);
  for (const v of path.violations) addViolation(ctx, v);
  ctx.parsedPath = path.segments;

  // Host (docs/threat-model.md §5): exact normalised authority → connection.
  const host = normaliseAuthority(req.host, req.scheme);
  const conn: PreparedConnection | null = deps.hosts.get(host) ?? null;
  ctx.conn = conn;
  const headers = checkHeaders(req, deps.stripHeaders);
  for (const v of headers.violations) addViolation(ctx, v);
  ctx.ignoredHeaders = headers.ignored;
  if (!conn) addViolation(ctx, 'host_not_allowed');
  if (target.authority !== null && normaliseAuthority(target.authority, req.scheme) !== host) addViolation(ctx, 'authority_mismatch');

  let routeKind: RouteKind | null = null;
  let route: string | null = null;
  if (conn && path.violations.length === 0) {
    routeKind = conn.routes.get(target.path) ?? null;
    if (routeKind === null) addViolation(ctx, 'not_callback_route');
    else route = target.path;
  }

  // Query and body through the one strict parser (docs/threat-model.md §7).
  const query = parseForm(target.query ?? '', deps.limits.max_params);
  let form: ParsedParams | null = null;
  const ct = mediaType(req.headers['content-type']);
  if (req.body !== undefined && req.body.length > 0) {
    if ((req.rawBody?.byteLength ?? Buffer.byteLength(req.body, 'utf8')) > deps.limits.max_body_bytes) addViolation(ctx, 'body_too_large');
    else if (ct === 'application/x-www-form-urlencoded') {
      form = parseForm(req.body, deps.limits.max_params);
      ctx.parsedBody = toRecord(form.values);
    } else if (ct === 'application/json' || ct.endsWith('+json')) {
      ctx.parsedBody = jsonDepth(req.body) > MAX_JSON_DEPTH ? null : safeJson(req.body);
    }
  } else if (req.method === 'POST' && ct === 'application/x-www-form-urlencoded') {
    form = parseForm('', deps.limits.max_params);
  }
  ctx.query = query;
  ctx.form = form;
  if (req.bodyTruncated && routeKind !== null) addViolation(ctx, 'body_truncated');

  const cb = readCallback({
    method: req.method.toUpperCase(),
    route,
    routeKind,
    query,
    form,
    authorization: req.headers['authorization'],
    conn,
    limits: deps.limits,
    hashKey: deps.keys.hash,
  });
  ctx.callback = cb.facts;
  ctx.secrets = cb.secrets;
  for (const v of cb.facts.violations) addViolation(ctx, v);
  // A client_id the connection did not register is not this connection's client (and would otherwise
  // pick a canary cohort of the caller's choosing). Connections that register none make no claim.
  const clientId = cb.facts.client_id;
  if (conn && clientId !== null && conn.clientIds.size > 0 && !conn.clientIds.has(clientId)) addViolation(ctx, 'client_id_unknown');
  ctx.clean = conn !== null && ctx.violations.length === 0;
}

export const requestPhase: FactsPhase = {
  name: 'request',
  applies: () => true,
  run,
};
