// Adapter phase 3 (gRPC): PipelineResult → envoy.service.auth.v3.CheckResponse (docs/architecture.md, "The decision").
// Allow/rewrite: OK + the routing header with OVERWRITE_IF_EXISTS_OR_ADD; deny: DeniedHttpResponse with
// a generic JSON body that carries only the reason code and decision id (threat model T-L4: no reflection).
import type { PipelineResult } from '../model/decision';
import { denyStatus, isReasonCode } from '../model/reasons';
import type { ReasonCode } from '../model/reasons';
import { jsonToValue } from './attributes-json';
import { setOwn } from '../model/own-property';
import type { CheckResponseObject, DecodedStruct, DecodedValue, HeaderValueOption } from './check-request-types';
import type { DynamicMetadataKey } from '../model/dynamic-metadata';

export const REASON_HEADER = 'x-callback-reason';
export const DECISION_ID_HEADER = 'x-callback-decision-id';

/** google.rpc.Code values used in CheckResponse.status. */
export const GRPC_OK = 0;
export const GRPC_PERMISSION_DENIED = 7;

export interface ResponseOptions {
  routingHeader: string;
}

/** The reason a deny is reported with: the first valid code, or internal_error. */
export function primaryReason(result: PipelineResult): ReasonCode {
  const r = result.decision.reasons.find((c) => isReasonCode(c));
  return r ?? 'internal_error';
}

/** Deny status: the decision's when it is an HTTP error status, else the reason table's. */
export function denyHttpStatus(result: PipelineResult): number {
  const s = result.decision.http_status;
  if (Number.isInteger(s) && s >= 400 && s <= 599) return s;
  return denyStatus(primaryReason(result));
}

/**
 * The generic deny body. Only values we generated (reason code from the fixed table, decision id)
 * appear: never a header, parameter or policy-provided string.
 */
export function denyBody(result: PipelineResult): string {
  return JSON.stringify({ error: 'request_denied', reason: primaryReason(result), decision_id: result.decisionId });
}

export const HINT_HEADER = 'x-callback-hint';
const HINT_VALUE = /^[a-z][a-z0-9-]{0,63}$/;

/**
 * Headers a deny may carry besides ours: only the policy's `x-callback-hint` (e.g. `restart-login`
 * after a drained or expired flow), and only as a short lower-case token, so no request value can be
 * reflected through it (threat model T-L4).
 */
export function denyHintHeaders(result: PipelineResult): Record<string, string> {
  const rh = result.decision.response_headers;
  for (const k of Object.keys(rh)) {
    if (k.toLowerCase() !== HINT_HEADER) continue;
    const v = String(rh[k]);
    if (HINT_VALUE.test(v)) return { [HINT_HEADER]: v };
  }
  return {};
}

/** Is this an allow that can be forwarded? (allow/rewrite with a backend; anything else is a deny.) */
export function isForwardable(result: PipelineResult): boolean {
  const d = result.decision;
  return (d.action === 'allow' || d.action === 'rewrite') && typeof d.backend === 'string' && d.backend.length > 0;
}

/**
 * Whether a decision may set this request header towards the upstream: never the routing header (only
 * the decision's backend fills it), a pseudo-header or Host. Names are lower-case.
 */
export function upstreamSettable(name: string, routing: string): boolean {
  return name !== routing && !name.startsWith(':') && name !== 'host';
}

/** The decision's headers to remove, lower-cased and de-duplicated, without the ones no decision may touch. */
export function upstreamRemovals(names: readonly string[], routing: string): string[] {
  const out: string[] = [];
  for (const h of names) {
    const name = h.toLowerCase();
    if (upstreamSettable(name, routing) && !out.includes(name)) out.push(name);
  }
  return out;
}

function opt(key: string, value: string, appendAction: HeaderValueOption['appendAction']): HeaderValueOption {
  return { header: { key, value }, appendAction };
}

/**
 * Low-cardinality metadata for Envoy access logs and later filters (no request values), built straight
 * into google.protobuf.Struct fields: this runs on every check, and going through an intermediate
 * object (spread + conversion) cost several µs per call.
 */
export function dynamicMetadataStruct(result: PipelineResult): DecodedStruct {
  const d = result.decision;
  const fields: Record<string, DecodedValue> = {};
  const extra = d.dynamic_metadata;
  for (const k in extra) if (Object.prototype.hasOwnProperty.call(extra, k) && extra[k] !== undefined) setOwn(fields, k, jsonToValue(extra[k]));
  const forward = isForwardable(result);
  const reasons: DecodedValue[] = [];
  for (const c of d.reasons) if (isReasonCode(c)) reasons.push({ stringValue: c });
  // Our keys overwrite a policy's; only DYNAMIC_METADATA_KEYS type-check here (the access-log lint's list).
  const own = fields as Record<DynamicMetadataKey, DecodedValue>;
  own.decision_id = { stringValue: result.decisionId };
  own.action = { stringValue: forward ? d.action : 'deny' };
  own.reasons = { listValue: { values: reasons } };
  own.backend = forward ? { stringValue: d.backend as string } : NULL_VALUE;
  own.stage = result.connection ? { stringValue: result.connection.stage } : NULL_VALUE;
  own.connection = result.connection ? { stringValue: result.connection.name } : NULL_VALUE;
  return { fields };
}

const NULL_VALUE: DecodedValue = Object.freeze({ nullValue: 'NULL_VALUE' });

export function toCheckResponse(result: PipelineResult, opts: ResponseOptions): CheckResponseObject {
  const d = result.decision;
  const routing = opts.routingHeader.toLowerCase();
  const dynamicMetadata = dynamicMetadataStruct(result);
  if (isForwardable(result)) {
    // The routing header is overwritten, which replaces any client-sent copy. It is deliberately not
    // listed in headers_to_remove: Envoy's ext_authz filter applies removals after the header
    // mutations, so listing it would strip our own value as well.
    const headers: HeaderValueOption[] = [opt(routing, d.backend as string, 'OVERWRITE_IF_EXISTS_OR_ADD')];
    for (const k of Object.keys(d.headers)) {
      const name = k.toLowerCase();
      if (upstreamSettable(name, routing)) headers.push(opt(name, String(d.headers[k]), 'OVERWRITE_IF_EXISTS_OR_ADD'));
    }
    const headersToRemove = upstreamRemovals(result.headersToRemove, routing);
    const responseHeadersToAdd: HeaderValueOption[] = [];
    for (const k of Object.keys(d.response_headers)) {
      const name = k.toLowerCase();
      // Several cookies may be set; everything else replaces the upstream's value.
      responseHeadersToAdd.push(
        opt(name, String(d.response_headers[k]), name === 'set-cookie' ? 'APPEND_IF_EXISTS_OR_ADD' : 'OVERWRITE_IF_EXISTS_OR_ADD'),
      );
    }
    return {
      status: { code: GRPC_OK },
      okResponse: { headers, headersToRemove, responseHeadersToAdd },
      dynamicMetadata,
    };
  }
  const reason = primaryReason(result);
  return {
    status: { code: GRPC_PERMISSION_DENIED },
    deniedResponse: {
      status: { code: denyHttpStatus(result) },
      headers: [
        opt('content-type', 'application/json', 'OVERWRITE_IF_EXISTS_OR_ADD'),
        opt('cache-control', 'no-store', 'OVERWRITE_IF_EXISTS_OR_ADD'),
        opt(REASON_HEADER, reason, 'OVERWRITE_IF_EXISTS_OR_ADD'),
        opt(DECISION_ID_HEADER, result.decisionId, 'OVERWRITE_IF_EXISTS_OR_ADD'),
        ...Object.entries(denyHintHeaders(result)).map(([k, v]) => opt(k, v, 'OVERWRITE_IF_EXISTS_OR_ADD')),
      ],
      body: denyBody(result),
    },
    dynamicMetadata,
  };
}
