// Path rules (docs/threat-model.md §6): callback routes match exactly and case-sensitively on the raw path; any
// encoding trick that a backend might undo differently from Envoy is a violation of its own.
import type { ReasonCode } from '../../model/reasons';

export interface PathCheck {
  /** The raw path without the query string (absolute-form already reduced to origin-form). */
  path: string;
  /** Violations in the order found (may be empty). */
  violations: ReasonCode[];
  /** Segments, percent-decoded where that is safe (for `input.parsed_path`, OPA-Envoy style). */
  segments: string[];
}

const PCT = /%([0-9A-Fa-f]{2})/g;

/**
 * Checks the raw origin-form path. Percent escapes are inspected, never decoded for matching: a route
 * matches only when the raw bytes equal it (RFC 3986 §6.2.2 normalisation is exactly what an attacker
 * exploits when proxy and backend disagree on it).
 */
export function checkPath(path: string): PathCheck {
  const violations: ReasonCode[] = [];
  const add = (r: ReasonCode): void => {
    if (!violations.includes(r)) violations.push(r);
  };
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    // NUL, C0 controls, DEL, space and anything outside ASCII (fullwidth slash, raw UTF-8).
    if (c <= 0x20 || c >= 0x7f) add('bad_path');
    else if (c === 0x3b) add('path_param'); // ';' — Tomcat/Jetty matrix parameters (T-P3)
    else if (c === 0x25) {
      const hex = path.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) {
        add('bad_path');
        continue;
      }
      const b = parseInt(hex, 16);
      if (b === 0x2f || b === 0x5c) add('encoded_slash'); // T-P2
      else if (b === 0x25) add('double_encoding'); // T-P4
      else if (b === 0x3b) add('path_param');
      else if (b < 0x20 || b >= 0x7f) add('bad_path'); // %00, %C0%AF overlong, %EF%BC%8F (T-P7/T-P8)
      i += 2;
    }
  }
  if (!path.startsWith('/')) add('bad_path');
  return { path, violations, segments: violations.length === 0 ? splitSegments(path) : [] };
}

function splitSegments(path: string): string[] {
  const parts = path.split('/').slice(1);
  return parts.map((p) => (p.indexOf('%') < 0 ? p : p.replace(PCT, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))));
}

/**
 * Splits a RequestView path into origin-form path and raw query. An absolute-form target
 * (`https://host/cb?…`, RFC 9112 §3.2.2) also yields its authority for the T-H5 comparison.
 */
export function splitTarget(target: string): { path: string; query: string | null; authority: string | null } {
  let rest = target;
  let authority: string | null = null;
  const abs = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)/.exec(rest);
  if (abs) {
    authority = abs[2];
    rest = rest.slice(abs[0].length) || '/';
  }
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash); // fragments never reach a server; drop defensively
  const q = rest.indexOf('?');
  if (q < 0) return { path: rest, query: null, authority };
  return { path: rest.slice(0, q), query: rest.slice(q + 1), authority };
}
