// The policy input opa-envoy-plugin builds from a CheckRequest, field for field (its envoyauth
// RequestToInput): `attributes` (the request's AttributeContext as protojson), `parsed_path`,
// `parsed_query` (every value a list), `parsed_body` + `truncated_body` (JSON, url-encoded form or
// multipart form, by Content-Type; both left out with skip-request-body-parse), `version`, and
// `source_principal` when Envoy sent one. A request the plugin cannot read is an error value, which
// the plugin answers with a denial (HTTP 400); the caller decides the response.
import type { DecodedCheckRequest, DecodedHttpRequest } from '../check-request-types';
import { attributesToJson } from '../attributes-json';
import { parseMultipartForm, parseMediaType } from './multipart';
import { parseQuery, pathUnescape } from './url-decoding';
import { OpaEnvoyRequestError } from './request-error';

export interface OpaEnvoyInputOptions {
  /** The plugin's `skip-request-body-parse`: no parsed_body / truncated_body in the input. */
  skipRequestBodyParse?: boolean;
}

export type OpaEnvoyInputResult =
  | { ok: true; input: Record<string, unknown> }
  /** `detail` is for operators (logs), never for the client. */
  | { ok: false; code: 'request_parse_error'; detail: string };

export const OPA_ENVOY_INPUT_VERSION = Object.freeze({ ext_authz: 'v3', encoding: 'protojson' });

/** Envoy sets this request header when the buffered body was cut at max_request_bytes. */
const PARTIAL_BODY_HEADER = 'x-envoy-auth-partial-body';

/** `/a/b%2Fc?x=1` → `{parsed_path: ['a','b/c'], parsed_query: {x: ['1']}}` (leading slashes trimmed). */
export function parsePathAndQuery(path: string): { parsedPath: string[]; parsedQuery: Record<string, string[]> } {
  const q = path.indexOf('?');
  const rawPath = q >= 0 ? path.slice(0, q) : path;
  const rawQuery = q >= 0 ? path.slice(q + 1) : '';
  return { parsedPath: pathUnescape(rawPath).replace(/^\/+/, '').split('/'), parsedQuery: parseQuery(rawQuery) };
}

function bytesToString(b: Uint8Array | undefined): string {
  return b === undefined || b.length === 0 ? '' : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
}

/** Content-Length larger than the body we got → the body was cut (the plugin's rule; -1 = unknown). */
function truncatedBy(headers: Record<string, string>, payload: string): boolean {
  const cl = headers['content-length'];
  if (cl === undefined) return false;
  if (!/^[+-]?\d+$/.test(cl)) throw new OpaEnvoyRequestError('content-length is not an integer');
  const n = Number(cl);
  return n !== -1 && n > Buffer.byteLength(payload, 'utf8');
}

/** The plugin's getParsedBody: [parsed_body, truncated_body]. */
export function parseBody(http: DecodedHttpRequest): [unknown, boolean] {
  const headers = http.headers ?? {};
  if (headers[PARTIAL_BODY_HEADER] === 'true') return [null, true];
  const ct = headers['content-type'];
  if (ct === undefined) return [null, false];
  const payload = typeof http.body === 'string' && http.body !== '' ? http.body : bytesToString(http.rawBody);
  if (ct.includes('application/json')) {
    if (payload === '') return [null, false];
    if (truncatedBy(headers, payload)) return [null, true];
    try {
      return [JSON.parse(payload) as unknown, false];
    } catch {
      throw new OpaEnvoyRequestError('the JSON body does not parse');
    }
  }
  if (ct.includes('application/grpc')) return [null, false]; // needs a proto descriptor set, which this mode does not load
  if (ct.includes('application/x-www-form-urlencoded')) {
    if (payload === '') return [null, false];
    if (truncatedBy(headers, payload)) return [null, true];
    return [parseQuery(payload), false];
  }
  if (ct.includes('multipart/form-data')) {
    if (payload === '') return [null, false];
    if (truncatedBy(headers, payload)) return [null, true];
    const boundary = parseMediaType(ct).params.boundary;
    if (boundary === undefined) return [null, false];
    return [parseMultipartForm(payload, boundary), false];
  }
  return [null, false];
}

/** Builds the input; never throws. */
export function buildOpaEnvoyInput(req: DecodedCheckRequest, opts: OpaEnvoyInputOptions = {}): OpaEnvoyInputResult {
  try {
    const input: Record<string, unknown> = {};
    if (req.attributes) input.attributes = attributesToJson(req.attributes);
    const http: DecodedHttpRequest = req.attributes?.request?.http ?? {};
    input.version = OPA_ENVOY_INPUT_VERSION;
    const { parsedPath, parsedQuery } = parsePathAndQuery(http.path ?? '');
    input.parsed_path = parsedPath;
    input.parsed_query = parsedQuery;
    if (!opts.skipRequestBodyParse) {
      const [body, truncated] = parseBody(http);
      input.parsed_body = body;
      input.truncated_body = truncated;
    }
    const principal = req.attributes?.source?.principal;
    if (principal) input.source_principal = principal;
    return { ok: true, input };
  } catch (e) {
    const what = e instanceof Error ? e.message : 'unreadable request';
    return { ok: false, code: 'request_parse_error', detail: what };
  }
}
