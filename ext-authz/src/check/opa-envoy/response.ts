// `--mode opa-envoy` answers, encoded as opa-envoy-plugin encodes them (docs/architecture.md, "OPA-Envoy
// mode"): the gRPC status OK or PERMISSION_DENIED; for an object decision an OkHttpResponse (headers
// without an append action, headers to remove, response headers to add, query parameters to set and to
// remove) or a DeniedHttpResponse (status, headers, body); for a boolean decision no HTTP response at all
// (Envoy answers a denial with its own 403); dry-run's empty OkHttpResponse; and dynamic_metadata with the
// decision's own fields plus `decision_id`. A failure is our generic coded deny (reason header, JSON body
// with only the reason code and decision id), never the plugin's gRPC error: Envoy would deny that too,
// and the code says why (docs/reason-codes.md).
import { denyStatus } from '../../model/reasons';
import { jsonToStruct } from '../attributes-json';
import type { DecodedStruct } from '../check-request-types';
import { DECISION_ID_HEADER, GRPC_OK, GRPC_PERMISSION_DENIED, REASON_HEADER } from '../check-response';
import type { OpaEnvoyCheck } from './core';
import type { HeaderPair } from './decision';

/** A header as the plugin sends it: key and value, no append field (Envoy: overwrite for OK headers). */
export interface PlainHeaderOption {
  header: { key: string; value: string };
}

/** The CheckResponse of this mode (a superset of the callback mode's: query parameters too). */
export interface OpaEnvoyCheckResponse {
  status: { code: number };
  okResponse?: {
    headers: PlainHeaderOption[];
    headersToRemove: string[];
    responseHeadersToAdd: PlainHeaderOption[];
    queryParametersToSet: { key: string; value: string }[];
    queryParametersToRemove: string[];
  };
  deniedResponse?: {
    status: { code: number };
    headers: PlainHeaderOption[];
    body: string;
  };
  dynamicMetadata: DecodedStruct;
}

const plain = (hs: HeaderPair[]): PlainHeaderOption[] => hs.map((h) => ({ header: { key: h.key, value: h.value } }));


/** The generic deny body of a failure: only values we generated (T-L4). */
export function failureBody(reason: string, decisionId: string): string {
  return JSON.stringify({ error: 'request_denied', reason, decision_id: decisionId });
}

export function toOpaEnvoyCheckResponse(check: OpaEnvoyCheck): OpaEnvoyCheckResponse {
  if (!check.ok) {
    return {
      status: { code: GRPC_PERMISSION_DENIED },
      deniedResponse: {
        status: { code: denyStatus(check.reason) },
        headers: [
          { header: { key: 'content-type', value: 'application/json' } },
          { header: { key: REASON_HEADER, value: check.reason } },
          { header: { key: DECISION_ID_HEADER, value: check.decisionId } },
        ],
        body: failureBody(check.reason, check.decisionId),
      },
      dynamicMetadata: jsonToStruct({ decision_id: check.decisionId }),
    };
  }
  const r = check.result;
  const resp: OpaEnvoyCheckResponse = { status: { code: r.allowed ? GRPC_OK : GRPC_PERMISSION_DENIED }, dynamicMetadata: jsonToStruct(r.dynamicMetadata) };
  if (r.ok) {
    resp.okResponse = {
      headers: plain(r.ok.headers),
      headersToRemove: r.ok.headersToRemove,
      responseHeadersToAdd: plain(r.ok.responseHeadersToAdd),
      queryParametersToSet: r.ok.queryParametersToSet.map((q) => ({ key: q.key, value: q.value })),
      queryParametersToRemove: r.ok.queryParametersToRemove,
    };
  } else if (r.denied) {
    resp.deniedResponse = { status: { code: r.denied.status }, headers: plain(r.denied.headers), body: r.denied.body };
  }
  return resp;
}

export interface OpaEnvoyHttpReply {
  status: number;
  /** Header name → values (a name may repeat: Set-Cookie, or a policy's list). */
  headers: [string, string][];
  body: string;
}

/**
 * Over HTTP (Envoy `http_service`, nginx `auth_request`, Traefik, Caddy): an allow is 200 with the
 * decision's upstream headers (the proxy copies them: Envoy's allowed_upstream_headers, nginx
 * auth_request_set) and its response headers; headers to remove go in `x-envoy-auth-headers-to-remove`
 * as Envoy's HTTP client reads them. A denial is the decision's status, headers and body (403 and an
 * empty body for a boolean). Query parameter edits have no HTTP form and are not sent (the docs say so).
 */
export function toOpaEnvoyHttpReply(check: OpaEnvoyCheck): OpaEnvoyHttpReply {
  if (!check.ok) {
    return {
      status: denyStatus(check.reason),
      headers: [['content-type', 'application/json'], ['cache-control', 'no-store'], [REASON_HEADER, check.reason], [DECISION_ID_HEADER, check.decisionId]],
      body: failureBody(check.reason, check.decisionId),
    };
  }
  const r = check.result;
  if (r.allowed) {
    const headers: [string, string][] = [[DECISION_ID_HEADER, check.decisionId]];
    if (r.ok) {
      for (const h of r.ok.headers) headers.push([h.key, h.value]);
      for (const h of r.ok.responseHeadersToAdd) headers.push([h.key, h.value]);
      if (r.ok.headersToRemove.length > 0) headers.push(['x-envoy-auth-headers-to-remove', r.ok.headersToRemove.join(',')]);
    }
    return { status: 200, headers, body: '' };
  }
  const headers: [string, string][] = [[DECISION_ID_HEADER, check.decisionId]];
  if (r.denied) for (const h of r.denied.headers) headers.push([h.key, h.value]);
  return { status: r.denied ? r.denied.status : 403, headers, body: r.denied ? r.denied.body : '' };
}
