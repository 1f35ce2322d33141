// The one adapter contract (docs/architecture.md, "Adapters"): every transport — Envoy's gRPC
// CheckRequest, Envoy's HTTP `http_service`, nginx/Traefik/Caddy forward-auth — turns what it received
// into a RequestView plus the protojson `attributes` the policy sees, or into a reason code when the
// request cannot be read. The check core takes it from there.
import type { ReasonCode } from '../model/reasons';
import type { RequestView } from '../model/request';
import { attributesToJson } from './attributes-json';
import { attributesFromView } from './attributes-from-view';
import type { DecodedCheckRequest } from './check-request-types';
import { envoyHttpServiceToView, proxyForwardAuthToView } from './forward-auth';
import type { ForwardAuthMode, RawHttpRequest } from './forward-auth';
import { checkRequestToView } from './request-view';

export type AdaptedRequest =
  | { ok: true; view: RequestView; attributes: unknown }
  | { ok: false; reason: ReasonCode };

/** gRPC: a decoded CheckRequest. Never throws: an unreadable request is `malformed_request`. */
export function adaptCheckRequest(req: DecodedCheckRequest): AdaptedRequest {
  const r = checkRequestToView(req);
  if (!r.ok) return r;
  return { ok: true, view: r.view, attributes: attributesToJson(req.attributes ?? {}) };
}

/**
 * HTTP: Envoy `http_service` (the listener's path prefix + the original path) or a proxy's forward-auth
 * sub-request (X-Original-* / X-Forwarded-*). The attributes are synthesised from the view, in the shape
 * Envoy's CheckRequest would have had, so one policy serves every transport.
 */
export function adaptHttpRequest(raw: RawHttpRequest, envoyPrefix: string | null): AdaptedRequest & { mode: ForwardAuthMode } {
  const r = envoyPrefix !== null ? envoyHttpServiceToView(raw, envoyPrefix) : proxyForwardAuthToView(raw);
  if (!r.ok) return r;
  return { ok: true, view: r.view, attributes: attributesFromView(r.view), mode: r.mode };
}
