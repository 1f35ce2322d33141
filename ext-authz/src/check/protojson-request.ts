// A CheckRequest written as protojson (what `callback-proxy check` reads, and what the OPA-Envoy docs
// show) → the decoded shape proto-loader would have produced. Field names may be lowerCamelCase or
// the proto's snake_case (both are valid protojson input); map keys are data and are left alone.
import { CodedError } from '../model/errors';
import type { DecodedCheckRequest, DecodedTimestamp } from './check-request-types';

/** Fields whose values are proto maps or Structs: their keys are data, never renamed. */
const MAP_FIELDS = new Set(['headers', 'labels', 'contextExtensions', 'filterMetadata', 'typedFilterMetadata']);

function camel(k: string): string {
  return k.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function camelize(v: unknown, parentKey: string | null): unknown {
  if (Array.isArray(v)) return v.map((x) => camelize(x, null));
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  const isMap = parentKey !== null && MAP_FIELDS.has(parentKey);
  for (const k of Object.keys(v)) {
    const key = isMap ? k : camel(k);
    const val = (v as Record<string, unknown>)[k];
    // Inside a map the values are plain data (or Structs given as plain JSON): copy as-is.
    out[key] = isMap ? val : camelize(val, key);
  }
  return out;
}

export type ProtojsonErrorCode = 'protojson_not_object' | 'protojson_bad_time' | 'protojson_bad_bytes';

export class ProtojsonError extends CodedError<ProtojsonErrorCode> {}

function parseTime(s: unknown): DecodedTimestamp {
  if (typeof s !== 'string') throw new ProtojsonError('protojson_bad_time', 'attributes.request.time must be an RFC 3339 string');
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) throw new ProtojsonError('protojson_bad_time', 'attributes.request.time must be an RFC 3339 string');
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) throw new ProtojsonError('protojson_bad_time', 'attributes.request.time is not a valid instant');
  return { seconds: String(Math.floor(ms / 1000)), nanos: m[2] ? Number(m[2].padEnd(9, '0')) : 0 };
}

/**
 * Returns the decoded request (for the view) and the protojson attributes (for the policy input).
 * Accepts `{attributes: {...}}` or a bare AttributeContext (`{request: {...}}`).
 */
export function fromProtojson(json: unknown): { decoded: DecodedCheckRequest; attributes: Record<string, unknown> } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ProtojsonError('protojson_not_object', 'the CheckRequest must be a JSON object');
  const c = camelize(json, null) as Record<string, unknown>;
  const attributes = (c.attributes ?? (c.request !== undefined ? c : {})) as Record<string, unknown>;
  if (typeof attributes !== 'object' || attributes === null) throw new ProtojsonError('protojson_not_object', 'attributes must be an object');
  const decodedAttrs = JSON.parse(JSON.stringify(attributes)) as Record<string, any>;
  const req = decodedAttrs.request as Record<string, any> | undefined;
  if (req && req.time !== undefined) req.time = parseTime(req.time);
  const http = req?.http as Record<string, unknown> | undefined;
  if (http && http.rawBody !== undefined) {
    if (typeof http.rawBody !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(http.rawBody)) {
      throw new ProtojsonError('protojson_bad_bytes', 'attributes.request.http.rawBody must be base64');
    }
    http.rawBody = Buffer.from(http.rawBody, 'base64');
  }
  if (http && typeof http.size === 'number') http.size = String(http.size);
  return { decoded: { attributes: decodedAttrs }, attributes };
}
