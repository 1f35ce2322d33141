// Adapter phase 0 (gRPC): a decoded Envoy CheckRequest → RequestView (types.ts). Header names are
// lower-cased; the peer address comes from Envoy's source.address only, never from X-Forwarded-For
// (threat model T-H6). A request that cannot be read yields a reason code instead of a view.
import type { RequestView } from '../model/request';
import type { DecodedCheckRequest, DecodedHttpRequest } from './check-request-types';
import { addHeader, emptyHeaders } from './header-collect';
import type { CollectedHeaders } from './header-collect';

export type ViewResult = { ok: true; view: RequestView } | { ok: false; reason: 'malformed_request' };

/**
 * Envoy signals a body cut at `max_request_bytes` (with allow_partial_message) by this request header
 * (ext_authz filter docs, "with_request_body").
 */
const PARTIAL_BODY_HEADER = 'x-envoy-auth-partial-body';

function bytesToUtf8(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
}

function collectHeaders(http: DecodedHttpRequest): CollectedHeaders {
  const out = emptyHeaders();
  const list = http.headerMap?.headers;
  if (list && list.length > 0) {
    // header_map (encode_raw_headers) keeps repeated headers as separate entries.
    for (const hv of list) {
      if (typeof hv.key !== 'string') continue;
      addHeader(out, hv.key, hv.rawValue !== undefined && hv.rawValue.length > 0 ? bytesToUtf8(hv.rawValue) : (hv.value ?? ''));
    }
  } else if (http.headers) {
    const src = http.headers;
    for (const k of Object.keys(src)) {
      const v = src[k];
      if (typeof v === 'string') addHeader(out, k, v);
    }
  }
  return out;
}

/** Builds the view; never throws (a missing attributes.request.http is `malformed_request`). */
export function checkRequestToView(req: DecodedCheckRequest): ViewResult {
  const http = req.attributes?.request?.http;
  if (!http || typeof http !== 'object') return { ok: false, reason: 'malformed_request' };
  const { headers, duplicates } = collectHeaders(http);
  const method = http.method || headers[':method'] || '';
  const path = http.path || headers[':path'] || '';
  const host = http.host || headers[':authority'] || headers.host || '';
  if (method === '' || path === '') return { ok: false, reason: 'malformed_request' };
  // The exact bytes: `raw_body` when Envoy packs the body as bytes (our Envoy config does); the UTF-8
  // bytes of `body` only when Envoy sent a string (a proto3 string is UTF-8, so that is what it sent).
  let body: string | undefined;
  let rawBody: Uint8Array | undefined;
  if (http.rawBody !== undefined && http.rawBody.length > 0) {
    rawBody = http.rawBody;
    body = bytesToUtf8(http.rawBody);
  } else if (typeof http.body === 'string' && http.body.length > 0) {
    body = http.body;
    rawBody = Buffer.from(http.body, 'utf8');
  }
  // `size` is the full body length Envoy saw (-1 when unknown); a shorter buffered body was cut.
  const size = http.size !== undefined ? Number(http.size) : -1;
  const bodyLen = rawBody === undefined ? 0 : rawBody.byteLength;
  const bodyTruncated = headers[PARTIAL_BODY_HEADER] === 'true' || (size > 0 && rawBody !== undefined && bodyLen < size);
  const view: RequestView = {
    method,
    scheme: http.scheme || headers[':scheme'] || '',
    host,
    path,
    headers,
    duplicateHeaders: duplicates,
    bodyTruncated,
  };
  if (body !== undefined && rawBody !== undefined) {
    view.body = body;
    view.rawBody = rawBody;
  }
  const sourceIp = req.attributes?.source?.address?.socketAddress?.address;
  if (sourceIp) view.sourceIp = sourceIp;
  if (http.protocol) view.protocol = http.protocol;
  const requestId = http.id || headers['x-request-id'];
  if (requestId) view.requestId = requestId;
  return { ok: true, view };
}
