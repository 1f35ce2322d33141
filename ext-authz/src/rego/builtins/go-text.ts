// Text forms OPA produces through Go: strconv.Quote, and the Rego text of a value (ast.Value.String()),
// which sprintf's %v/%s print for composites ({"a": [2], "b": 1}, {1, 2, 3}, set()).
import { formatNumber, isSet, objEntries, compare, type Value } from '../value';

/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

const SHORT_ESCAPES: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '\\': '\\\\',
  '"': '\\"',
};

/** strconv.Quote: a double-quoted Go string literal, printable runes kept as they are. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const esc = SHORT_ESCAPES[ch];
    if (esc !== undefined) {
      out += esc;
      continue;
    }
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd';
    else if (PRINTABLE.test(ch)) out += ch;
    else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += '\\U' + cp.toString(16).padStart(8, '0');
  }
  return out + '"';
}

/** A value's Rego text: strings quoted, ", " separators, object keys and set members sorted. */
export function regoText(v: Value): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      return formatNumber(v);
    case 'string':
      return goQuote(v);
  }
  if (Array.isArray(v)) return '[' + v.map(regoText).join(', ') + ']';
  if (isSet(v)) return v.size === 0 ? 'set()' : '{' + v.sorted().map(regoText).join(', ') + '}';
  const entries = objEntries(v).sort((a, b) => compare(a[0], b[0]));
  return '{' + entries.map(([k, x]) => regoText(k) + ': ' + regoText(x)).join(', ') + '}';
}
