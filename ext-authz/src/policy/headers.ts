// Policy phase, decision validation: which header names/values a policy may set. RFC 9110 §5.1
// (field names are tokens), §5.5 (no CR/LF/NUL in values), RFC 9110 §7.6.1 + RFC 9113 §8.2.2
// (hop-by-hop / connection-specific fields), RFC 9113 §8.3 (pseudo-headers are not ours to set).

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/** Connection-specific fields: meaningless (or harmful) to set from a policy. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'content-length',
]);

export type HeaderProblem = 'bad_name' | 'reserved' | 'bad_value';

/**
 * Checks one header a policy wants to set; `reserved` names (the routing header) are ours alone.
 * Returns null when acceptable. Names are compared lower-cased.
 */
export function headerProblem(name: string, value: unknown, reserved: ReadonlySet<string>): HeaderProblem | null {
  const n = name.toLowerCase();
  if (!TOKEN.test(n) || n.length > 256) return 'bad_name';
  if (HOP_BY_HOP.has(n) || reserved.has(n)) return 'reserved';
  if (typeof value !== 'string' || value.length > 8192 || /[\r\n\0]/.test(value)) return 'bad_value';
  return null;
}

/** A header name a policy may ask to remove (OPA-Envoy `request_headers_to_remove`). */
export function removableHeader(name: unknown, reserved: ReadonlySet<string>): name is string {
  if (typeof name !== 'string') return false;
  const n = name.toLowerCase();
  return TOKEN.test(n) && !reserved.has(n) && n !== 'host';
}
