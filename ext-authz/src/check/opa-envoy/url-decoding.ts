// URL decoding with the rules opa-envoy-plugin inherits from Go's net/url, so `parsed_path` and
// `parsed_query` (and form bodies) come out as they do there: path unescaping keeps `+`, query
// unescaping turns `+` into a space, a malformed `%` escape is an error, and `;` in a query is an
// error (Go ≥ 1.17 no longer treats it as a separator). Bytes that are not UTF-8 become U+FFFD.
import { OpaEnvoyRequestError } from './request-error';

const utf8 = new TextDecoder('utf-8', { fatal: false });

function unescape(s: string, plusIsSpace: boolean): string {
  if (!s.includes('%') && !(plusIsSpace && s.includes('+'))) return s;
  const bytes: number[] = [];
  const src = Buffer.from(s, 'utf8');
  for (let i = 0; i < src.length; i++) {
    const b = src[i];
    if (b === 0x25) {
      const hex = src.subarray(i + 1, i + 3).toString('latin1');
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new OpaEnvoyRequestError(`invalid URL escape ${JSON.stringify(src.subarray(i, i + 3).toString('latin1'))}`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (b === 0x2b && plusIsSpace) bytes.push(0x20);
    else bytes.push(b);
  }
  return utf8.decode(Uint8Array.from(bytes));
}

/** Go's url.PathUnescape. */
export function pathUnescape(s: string): string {
  return unescape(s, false);
}

/** Go's url.QueryUnescape. */
export function queryUnescape(s: string): string {
  return unescape(s, true);
}

/**
 * Go's url.ParseQuery: `&`-separated `key=value` pairs, each unescaped, values collected in order per
 * key. Throws OpaEnvoyRequestError on the first malformed pair (opa-envoy-plugin then refuses the request).
 */
export function parseQuery(query: string): Record<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of query.split('&')) {
    if (part === '') continue;
    if (part.includes(';')) throw new OpaEnvoyRequestError('invalid semicolon separator in query');
    const eq = part.indexOf('=');
    const key = queryUnescape(eq >= 0 ? part.slice(0, eq) : part);
    const value = queryUnescape(eq >= 0 ? part.slice(eq + 1) : '');
    const list = out.get(key);
    if (list) list.push(value);
    else out.set(key, [value]);
  }
  return Object.fromEntries(out);
}
