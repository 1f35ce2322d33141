// Decoded CheckRequest attributes → the protojson form the OPA-Envoy plugin puts in `input.attributes`
// (lowerCamelCase names, int64 as strings, Timestamp as RFC 3339, bytes as base64, Struct as plain JSON).
// proto-loader already yields the names and int64 strings; only well-known types need rewriting, so this
// copies just the few objects on those paths and shares everything else with the decoded message.
import type { DecodedAttributeContext, DecodedMetadata, DecodedStruct, DecodedTimestamp, DecodedValue } from './check-request-types';
import { setOwn } from '../model/own-property';

let lastSecond: { seconds: number; base: string } = { seconds: Number.NaN, base: '' };

/** `YYYY-MM-DDTHH:MM:SS` of a second; checks arriving in the same second share one Date formatting. */
function secondText(seconds: number): string {
  if (seconds !== lastSecond.seconds) lastSecond = { seconds, base: new Date(seconds * 1000).toISOString().slice(0, 19) };
  return lastSecond.base;
}

/** RFC 3339 with 0, 3, 6 or 9 fractional digits, as protojson writes google.protobuf.Timestamp. */
export function timestampToRfc3339(ts: DecodedTimestamp): string {
  const seconds = Number(ts.seconds ?? 0);
  const nanos = ts.nanos ?? 0;
  const base = secondText(seconds);
  if (nanos === 0) return `${base}Z`;
  let frac = String(nanos).padStart(9, '0');
  if (frac.endsWith('000000')) frac = frac.slice(0, 3);
  else if (frac.endsWith('000')) frac = frac.slice(0, 6);
  return `${base}.${frac}Z`;
}

export function valueToJson(v: DecodedValue): unknown {
  if (v.structValue !== undefined) return structToJson(v.structValue);
  if (v.listValue !== undefined) return (v.listValue.values ?? []).map(valueToJson);
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.numberValue !== undefined) return v.numberValue;
  if (v.boolValue !== undefined) return v.boolValue;
  return null;
}

export function structToJson(s: DecodedStruct): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const fields = s.fields ?? {};
  for (const k of Object.keys(fields)) setOwn(out, k, valueToJson(fields[k]));
  return out;
}

/** Plain JSON → google.protobuf.Struct (for dynamic_metadata). Non-JSON values become null. */
export function jsonToStruct(obj: Record<string, unknown>): DecodedStruct {
  const fields: Record<string, DecodedValue> = {};
  for (const k of Object.keys(obj)) if (obj[k] !== undefined) setOwn(fields, k, jsonToValue(obj[k]));
  return { fields };
}

export function jsonToValue(v: unknown): DecodedValue {
  if (v === null || v === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(jsonToValue) } };
  if (typeof v === 'object') return { structValue: jsonToStruct(v as Record<string, unknown>) };
  return { nullValue: 'NULL_VALUE' };
}

function metadataToJson(m: DecodedMetadata): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (m.filterMetadata) {
    const fm: Record<string, unknown> = {};
    for (const k of Object.keys(m.filterMetadata)) setOwn(fm, k, structToJson(m.filterMetadata[k]));
    out.filterMetadata = fm;
  }
  if (m.typedFilterMetadata) {
    // Any payloads would need their type resolved; the policy gets the type URL only.
    const tm: Record<string, unknown> = {};
    for (const k of Object.keys(m.typedFilterMetadata)) setOwn(tm, k, { '@type': m.typedFilterMetadata[k].typeUrl ?? '' });
    out.typedFilterMetadata = tm;
  }
  return out;
}

function bytesToBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** The protojson `attributes` object; the input is not modified. */
export function attributesToJson(a: DecodedAttributeContext): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  if (a.request) {
    const req: Record<string, unknown> = { ...a.request };
    if (a.request.time) req.time = timestampToRfc3339(a.request.time);
    const http = a.request.http;
    if (http && (http.rawBody !== undefined || http.headerMap !== undefined)) {
      const h: Record<string, unknown> = { ...http };
      if (http.rawBody !== undefined) h.rawBody = bytesToBase64(http.rawBody);
      if (http.headerMap?.headers) {
        h.headerMap = {
          headers: http.headerMap.headers.map((hv) =>
            hv.rawValue !== undefined ? { ...hv, rawValue: bytesToBase64(hv.rawValue) } : hv,
          ),
        };
      }
      req.http = h;
    }
    out.request = req;
  }
  if (a.metadataContext) out.metadataContext = metadataToJson(a.metadataContext);
  if (a.routeMetadataContext) out.routeMetadataContext = metadataToJson(a.routeMetadataContext);
  return out;
}
