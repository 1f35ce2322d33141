// Policy input, `input.attributes` for requests that did not arrive as a CheckRequest (HTTP
// forward-auth, `check` CLI): the protojson AttributeContext the OPA-Envoy plugin would have built
// (envoy.service.auth.v3.AttributeContext, lowerCamelCase), so one policy serves both transports.
import type { RequestView } from '../model/request';

/** AttributeContext-shaped JSON from a RequestView. Only fields the view actually holds are set. */
export function attributesFromView(req: RequestView): Record<string, unknown> {
  const headers: Record<string, string> = {};
  for (const k of Object.keys(req.headers)) headers[k] = req.headers[k];
  // HTTP/2 pseudo-headers as Envoy reports them, so `headers[":authority"]` works as under Envoy.
  if (headers[':authority'] === undefined) headers[':authority'] = req.host;
  if (headers[':method'] === undefined) headers[':method'] = req.method;
  if (headers[':path'] === undefined) headers[':path'] = req.path;
  if (headers[':scheme'] === undefined && req.scheme) headers[':scheme'] = req.scheme;
  const http: Record<string, unknown> = {
    method: req.method,
    headers,
    path: req.path,
    host: req.host,
    scheme: req.scheme,
  };
  if (req.requestId !== undefined) http.id = req.requestId;
  if (req.protocol !== undefined) http.protocol = req.protocol;
  if (req.body !== undefined) {
    http.body = req.body;
    // int64 fields are strings in protojson (proto3 JSON mapping); the size is of the bytes received.
    http.size = String(req.rawBody !== undefined ? req.rawBody.byteLength : Buffer.byteLength(req.body, 'utf8'));
  }
  const attributes: Record<string, unknown> = { request: { http } };
  if (req.sourceIp !== undefined) attributes.source = { address: { socketAddress: { address: req.sourceIp } } };
  return attributes;
}
