// JSON text as OPA's json.marshal writes it (Go encoding/json: sorted keys, HTML-safe escapes,
// sets as sorted arrays), plus MarshalIndent layout for json.marshal_with_options.
import { formatNumber, isSet, objEntries, compare, type Value, type ObjectValue } from '../value';

const ESC: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

// Control characters, HTML-significant characters, line/paragraph separators, lone surrogates.
const NEEDS_ESCAPE = /["\\\u0000-\u001f<>&\u2028\u2029\ud800-\udfff]/;

export function goJSONString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    const code = s.charCodeAt(i);
    const e = ESC[ch];
    if (e !== undefined) out += e;
    else if (code < 0x20) out += '\\u' + code.toString(16).padStart(4, '0');
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      out += ch + s[++i];
    } else if (code >= 0xd800 && code <= 0xdfff) out += '\\ufffd';
    else out += ch;
  }
  return out + '"';
}

/** Object members as Go sees them after OPA's conversion: keys as text, sorted by that text. */
function members(o: ObjectValue): [string, Value][] {
  const es = objEntries(o).map(([k, v]): [string, Value] => [typeof k === 'string' ? k : JSON.stringify(keyJSON(k)), v]);
  return es.sort((a, b) => compare(a[0], b[0]));
}

function keyJSON(k: Value): unknown {
  if (k === null || typeof k !== 'object') return k;
  return JSON.parse(goJSON(k));
}

/** Compact JSON (json.Marshal). */
export function goJSON(v: Value): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      return formatNumber(v);
    case 'string':
      return goJSONString(v);
  }
  if (Array.isArray(v)) return '[' + v.map(goJSON).join(',') + ']';
  if (isSet(v)) return '[' + v.sorted().map(goJSON).join(',') + ']';
  return '{' + members(v).map(([k, x]) => goJSONString(k) + ':' + goJSON(x)).join(',') + '}';
}

/** json.MarshalIndent(v, prefix, indent). */
export function goJSONIndent(v: Value, prefix: string, indent: string, depth = 0): string {
  const nl = '\n' + prefix + indent.repeat(depth + 1);
  const close = '\n' + prefix + indent.repeat(depth);
  if (Array.isArray(v) || isSet(v)) {
    const items = Array.isArray(v) ? v : v.sorted();
    if (items.length === 0) return '[]';
    return '[' + items.map((x) => nl + goJSONIndent(x, prefix, indent, depth + 1)).join(',') + close + ']';
  }
  if (v !== null && typeof v === 'object') {
    const ms = members(v);
    if (ms.length === 0) return '{}';
    return '{' + ms.map(([k, x]) => nl + goJSONString(k) + ': ' + goJSONIndent(x, prefix, indent, depth + 1)).join(',') + close + '}';
  }
  return goJSON(v);
}
