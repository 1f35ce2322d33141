// multipart/form-data bodies (RFC 7578) and media-type parameters (RFC 2045 §5.1), as far as
// opa-envoy-plugin reads them: parts named by `Content-Disposition: form-data; name="..."`, their bodies
// as strings, or as JSON when the part's Content-Type says application/json. Lines may end in CRLF or
// LF (Go's multipart reader accepts both). A malformed body throws OpaEnvoyRequestError.
import { OpaEnvoyRequestError } from './request-error';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** `; a=b; c="d"` → {a: 'b', c: 'd'} (names lower-cased); throws on malformed or repeated parameters. */
function parseParams(text: string): Record<string, string> {
  const params: Record<string, string> = {};
  let rest = text;
  while (rest.trim() !== '') {
    const m = /^\s*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([!#$%&'*+\-.^_`|~0-9A-Za-z]+))\s*(?:;|$)/.exec(rest);
    if (!m) {
      if (/^\s*;\s*$/.test(rest)) break;
      throw new OpaEnvoyRequestError('malformed media type parameter');
    }
    const name = m[1].toLowerCase();
    if (Object.prototype.hasOwnProperty.call(params, name)) throw new OpaEnvoyRequestError('duplicate media type parameter');
    params[name] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
    rest = rest.slice(m[0].length);
  }
  return params;
}

/** `type/subtype; a=b; c="d"` → {type, params} (lower-cased type and names); throws on malformed input. */
export function parseMediaType(value: string): { type: string; params: Record<string, string> } {
  const semi = value.indexOf(';');
  const type = (semi >= 0 ? value.slice(0, semi) : value).trim().toLowerCase();
  const [major, minor, extra] = type.split('/');
  if (!major || !TOKEN.test(major) || minor === undefined || !TOKEN.test(minor) || extra !== undefined) throw new OpaEnvoyRequestError('malformed media type');
  return { type, params: parseParams(semi >= 0 ? value.slice(semi + 1) : '') };
}

interface Part {
  headers: Record<string, string>;
  body: string;
}

function readParts(payload: string, boundary: string): Part[] {
  const delim = `--${boundary}`;
  const parts: Part[] = [];
  // The first delimiter may start the payload or follow a preamble line.
  let at = payload.startsWith(delim) ? 0 : payload.indexOf(`\n${delim}`);
  if (at < 0) throw new OpaEnvoyRequestError('no boundary in body');
  if (at > 0) at += 1;
  for (;;) {
    let i = at + delim.length;
    if (payload.startsWith('--', i)) return parts; // closing delimiter
    while (payload[i] === ' ' || payload[i] === '\t') i++;
    if (payload.startsWith('\r\n', i)) i += 2;
    else if (payload[i] === '\n') i += 1;
    else throw new OpaEnvoyRequestError('malformed boundary line');
    const headers: Record<string, string> = {};
    for (;;) {
      const nl = payload.indexOf('\n', i);
      if (nl < 0) throw new OpaEnvoyRequestError('unexpected end of part headers');
      const line = payload.slice(i, nl).replace(/\r$/, '');
      i = nl + 1;
      if (line === '') break;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new OpaEnvoyRequestError('malformed part header');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const next = payload.indexOf(`\n${delim}`, i);
    if (next < 0) throw new OpaEnvoyRequestError('unexpected end of multipart body');
    const end = next > i && payload[next - 1] === '\r' ? next - 1 : next;
    parts.push({ headers, body: payload.slice(i, Math.max(i, end)) });
    at = next + 1;
  }
}

/** The `name` of a `Content-Disposition: form-data; name="..."` header ('' for anything else). */
function formName(disposition: string | undefined): string {
  if (disposition === undefined) return '';
  const semi = disposition.indexOf(';');
  if ((semi >= 0 ? disposition.slice(0, semi) : disposition).trim().toLowerCase() !== 'form-data' || semi < 0) return '';
  try {
    return parseParams(disposition.slice(semi + 1)).name ?? '';
  } catch {
    return '';
  }
}

/** `{name: [value, ...]}` for every named part; JSON parts parsed. Throws OpaEnvoyRequestError / SyntaxError. */
export function parseMultipartForm(payload: string, boundary: string): Record<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  for (const p of readParts(payload, boundary)) {
    const name = formName(p.headers['content-disposition']);
    if (name === '') continue;
    const value: unknown = (p.headers['content-type'] ?? '').includes('application/json') ? (JSON.parse(p.body) as unknown) : p.body;
    const list = out.get(name);
    if (list) list.push(value);
    else out.set(name, [value]);
  }
  return Object.fromEntries(out);
}
