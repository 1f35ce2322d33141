// Adapter phases 0 and 3 for HTTP forward-auth (docs/http-forward-auth.md): Envoy `http_service`
// (path prefix + original path, original headers) and nginx auth_request / Traefik ForwardAuth / Caddy
// forward_auth (original request described by proxy-set X-Original-* / X-Forwarded-* headers).
import type { PipelineResult } from '../model/decision';
import type { RequestView } from '../model/request';
import type { ReasonCode } from '../model/reasons';
import { addHeader, emptyHeaders } from './header-collect';
import type { CollectedHeaders } from './header-collect';
import {
  denyBody, denyHintHeaders, denyHttpStatus, isForwardable, primaryReason, REASON_HEADER, DECISION_ID_HEADER, upstreamRemovals, upstreamSettable,
} from './check-response';

export type ForwardAuthMode = 'envoy' | 'nginx' | 'traefik';

/** What the HTTP server hands over: the raw request line, raw header list and buffered body. */
export interface RawHttpRequest {
  method: string;
  /** Request target as received (path + query), e.g. `/envoy/authz/oauth2/callback?code=…`. */
  url: string;
  /** node's rawHeaders: [name, value, name, value, …] (keeps repeats and order). */
  rawHeaders: string[];
  /** The body bytes as read from the socket (never decoded and re-encoded). */
  body?: Uint8Array;
  bodyTruncated?: boolean;
  remoteAddress?: string;
}

export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type ForwardViewResult = { ok: true; view: RequestView; mode: ForwardAuthMode } | { ok: false; reason: ReasonCode; mode: ForwardAuthMode };

/** Headers the forwarding proxy sets to describe the original request; never passed on as client headers. */
const NGINX_CONTROL = ['x-original-method', 'x-original-uri', 'x-original-host', 'x-original-proto', 'x-original-remote-addr'];
const TRAEFIK_CONTROL = ['x-forwarded-method', 'x-forwarded-uri', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip'];

/** Hop-by-hop headers of the authz sub-request itself (RFC 9110 §7.6.1), not of the original request. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'content-length']);

function collect(rawHeaders: string[], skip: readonly string[]): CollectedHeaders {
  const out = emptyHeaders();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    if (!skip.includes(name) && !HOP_BY_HOP.has(name)) addHeader(out, name, rawHeaders[i + 1]);
  }
  return out;
}

/** The exact bytes for the facts and the webhook MAC, and their UTF-8 reading for the parsers. */
function setBody(view: RequestView, body: Uint8Array | undefined): void {
  if (body === undefined || body.byteLength === 0) return;
  view.rawBody = body;
  view.body = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
}

function first(rawHeaders: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === name) return rawHeaders[i + 1];
  return undefined;
}

/** Envoy http_service: the request arrives as `<prefix><original path>` with the original method/headers. */
export function envoyHttpServiceToView(req: RawHttpRequest, prefix: string): ForwardViewResult {
  const mode: ForwardAuthMode = 'envoy';
  if (!req.url.startsWith(prefix)) return { ok: false, reason: 'malformed_request', mode };
  const path = req.url.slice(prefix.length);
  if (!path.startsWith('/')) return { ok: false, reason: 'malformed_request', mode };
  const { headers, duplicates } = collect(req.rawHeaders, []);
  const view: RequestView = {
    method: req.method,
    scheme: headers['x-forwarded-proto'] === 'http' ? 'http' : 'https',
    host: headers.host ?? '',
    path,
    headers,
    duplicateHeaders: duplicates,
    bodyTruncated: req.bodyTruncated === true || headers['x-envoy-auth-partial-body'] === 'true',
  };
  setBody(view, req.body);
  const rid = headers['x-request-id'];
  if (rid) view.requestId = rid;
  return { ok: true, view, mode };
}

/**
 * nginx auth_request (X-Original-*) or Traefik ForwardAuth / Caddy forward_auth (X-Forwarded-*). These
 * headers are trusted only because this listener is reachable from the proxy hop alone (loopback or an
 * internal network); the proxy must overwrite, not append, them.
 */
export function proxyForwardAuthToView(req: RawHttpRequest): ForwardViewResult {
  const nginxUri = first(req.rawHeaders, 'x-original-uri');
  const traefikUri = nginxUri === undefined ? first(req.rawHeaders, 'x-forwarded-uri') : undefined;
  const mode: ForwardAuthMode = nginxUri !== undefined ? 'nginx' : 'traefik';
  const control = mode === 'nginx' ? NGINX_CONTROL : TRAEFIK_CONTROL;
  const g = (n: string): string | undefined => first(req.rawHeaders, n);
  const uri = nginxUri ?? traefikUri;
  const method = mode === 'nginx' ? g('x-original-method') : g('x-forwarded-method');
  const host = mode === 'nginx' ? g('x-original-host') : g('x-forwarded-host');
  const proto = mode === 'nginx' ? g('x-original-proto') : g('x-forwarded-proto');
  if (uri === undefined || method === undefined || host === undefined || !uri.startsWith('/')) {
    return { ok: false, reason: 'malformed_request', mode };
  }
  // A repeated control header means something other than our proxy wrote one: refuse.
  for (const n of control) {
    let count = 0;
    for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i].toLowerCase() === n) count++;
    if (count > 1) return { ok: false, reason: 'malformed_request', mode };
  }
  const { headers, duplicates } = collect(req.rawHeaders, control);
  // The sub-request's own Host is the authz service; the original Host is the proxy-reported one.
  headers.host = host;
  const view: RequestView = {
    method: method.toUpperCase(),
    scheme: proto === 'http' ? 'http' : 'https',
    host,
    path: uri,
    headers,
    duplicateHeaders: duplicates.filter((d) => d !== 'host'),
    bodyTruncated: req.bodyTruncated === true,
  };
  // nginx never forwards the body to auth_request; Traefik does with forwardBody: true.
  if (mode === 'traefik') setBody(view, req.body);
  const peer = mode === 'nginx' ? g('x-original-remote-addr') : g('x-real-ip');
  if (peer) view.sourceIp = peer;
  const rid = headers['x-request-id'];
  if (rid) view.requestId = rid;
  return { ok: true, view, mode };
}

/**
 * nginx auth_request only understands 2xx, 401 and 403 (anything else becomes a 500), so other deny
 * statuses are sent as 403 with the intended one in X-Callback-Status for `error_page` mapping.
 */
function statusForMode(status: number, mode: ForwardAuthMode): number {
  if (mode !== 'nginx') return status;
  return status === 401 || status === 403 ? status : 403;
}

export function toHttpReply(result: PipelineResult, mode: ForwardAuthMode, routingHeader: string): HttpReply {
  const d = result.decision;
  if (isForwardable(result)) {
    const headers: Record<string, string> = { 'cache-control': 'no-store', [DECISION_ID_HEADER]: result.decisionId };
    const routing = routingHeader.toLowerCase();
    for (const k of Object.keys(d.headers)) {
      const name = k.toLowerCase();
      if (upstreamSettable(name, routing)) headers[name] = String(d.headers[k]);
    }
    headers[routing] = d.backend as string;
    const remove = upstreamRemovals(result.headersToRemove, routing);
    // Envoy's HTTP authz client removes these from the upstream request (x-envoy-auth-headers-to-remove).
    if (remove.length > 0) headers['x-envoy-auth-headers-to-remove'] = remove.join(',');
    for (const k of Object.keys(d.response_headers)) headers[k.toLowerCase()] = String(d.response_headers[k]);
    return { status: 200, headers, body: '' };
  }
  const status = denyHttpStatus(result);
  const reason = primaryReason(result);
  return {
    status: statusForMode(status, mode),
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      [REASON_HEADER]: reason,
      [DECISION_ID_HEADER]: result.decisionId,
      'x-callback-status': String(status),
      ...denyHintHeaders(result),
    },
    body: denyBody(result),
  };
}

