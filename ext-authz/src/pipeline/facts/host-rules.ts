// Host and header rules (docs/threat-model.md §5): the connection is chosen by the exact, normalised authority;
// forwarding and routing headers from the client are never trusted, only reported and stripped.
import type { ReasonCode } from '../../model/reasons';
import type { RequestView } from '../../model/request';

/** Lower-cases and drops the scheme's default port (RFC 9110 §4.2.3 normalisation, nothing more). */
export function normaliseAuthority(raw: string, scheme: string): string {
  let a = raw.trim().toLowerCase();
  const s = scheme.toLowerCase();
  if ((s === 'https' && a.endsWith(':443')) || (s === 'http' && a.endsWith(':80'))) {
    a = a.slice(0, a.lastIndexOf(':'));
  }
  if (a.endsWith('.')) a = a.slice(0, -1); // `auth.example.com.` is the same name (RFC 1034 §3.1)
  return a;
}

export interface HeaderCheck {
  violations: ReasonCode[];
  /** Client-sent headers from strip_headers (names only), reported in `input.ignored_headers`. */
  ignored: string[];
}

/**
 * Checks the header section: duplicate Host (T-H2), underscore aliasing (T-H7), and collects the
 * routing/forwarding headers a client may not send (T-H3/T-H4) so they are removed upstream.
 */
export function checkHeaders(req: RequestView, strip: ReadonlySet<string>): HeaderCheck {
  const violations: ReasonCode[] = [];
  const ignored: string[] = [];
  if (req.duplicateHeaders.includes('host') || req.duplicateHeaders.includes(':authority') || req.host.includes(',')) {
    violations.push('duplicate_host');
  }
  let underscored: string[] | null = null;
  for (const name of Object.keys(req.headers)) {
    const under = name.includes('_');
    if (under) (underscored ??= []).push(name);
    if (name.charCodeAt(0) === 0x3a) continue; // ':' — HTTP/2 pseudo-headers as Envoy reports them
    if (under && !violations.includes('bad_header')) violations.push('bad_header');
    if (strip.has(name)) ignored.push(name);
  }
  // An underscore twin of a stripped header (`x_forwarded_host`) is stripped too.
  if (underscored !== null) {
    for (const name of underscored) {
      if (strip.has(name.replace(/_/g, '-')) && !ignored.includes(name)) ignored.push(name);
    }
  }
  return { violations, ignored };
}
