// Builtins: strings (OPA policy reference, "Strings"). Offsets and lengths count Unicode code points,
// as Go's runes; case mapping and trim_space follow Go's unicode tables rather than JavaScript's.
import { BuiltinError } from '../errors';
import { isSet, isObject, objEntries, compareStrings, typeName, type Value } from '../value';
import {
  mustString, mustNumber, mustInteger, mustArray, operandError, type BuiltinSpec, type TypeDesc,
} from './registry';
import { goSprintf } from './go-fmt';
import { renderTemplate } from './template';

const S = 'string' as const;
const STRINGS: TypeDesc = { anyOf: [{ array: 'string' }, { set: 'string' }] };
const STRING_OR_STRINGS: TypeDesc = { anyOf: ['string', { array: 'string' }, { set: 'string' }] };

function spec(name: string, args: TypeDesc[], result: TypeDesc, fn: BuiltinSpec['fn'], extra?: Partial<BuiltinSpec>): BuiltinSpec {
  return { name, category: 'strings', args, result, fn, ...extra };
}

/** Members of an array or set operand that must all be strings (sets in sorted order). */
function stringMembers(name: string, v: Value, pos: number, allowString: boolean): string[] {
  if (allowString && typeof v === 'string') return [v];
  const items = Array.isArray(v) ? v : isSet(v) ? v.sorted() : undefined;
  if (!items) throw operandError(name, pos, allowString ? 'one of {string, set, array}' : 'one of {set, array}', v);
  for (const x of items) {
    if (typeof x !== 'string') {
      const kind = Array.isArray(v) ? 'array' : 'set';
      throw new BuiltinError(`${name}: operand ${pos} must be ${kind} of strings but got ${kind} containing ${typeName(x)}`, 'type');
    }
  }
  return items as string[];
}

// Go's unicode.IsSpace set (JavaScript's trim also strips U+FEFF, which Go keeps).
const GO_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const LEADING_SPACE = new RegExp(`^[${GO_SPACE}]+`);
const TRAILING_SPACE = new RegExp(`[${GO_SPACE}]+$`);
const ASCII = /^[\x00-\x7f]*$/;

/** Go's simple per-rune case mapping: a rune whose mapping is not a single rune stays as it is. */
function mapCase(s: string, upper: boolean): string {
  if (ASCII.test(s)) return upper ? s.toUpperCase() : s.toLowerCase();
  let out = '';
  for (const ch of s) {
    const m = upper ? ch.toUpperCase() : ch.toLowerCase();
    out += m.length === ch.length || [...m].length === 1 ? m : ch;
  }
  return out;
}

function trimCutset(s: string, cutset: string, left: boolean, right: boolean): string {
  if (cutset === '') return s;
  const cut = new Set(cutset);
  const runes = [...s];
  let a = 0;
  let b = runes.length;
  if (left) while (a < b && cut.has(runes[a])) a++;
  if (right) while (b > a && cut.has(runes[b - 1])) b--;
  return a === 0 && b === runes.length ? s : runes.slice(a, b).join('');
}

/** Rune index of every (overlapping) occurrence of needle. */
function runeIndexes(hay: string, needle: string, all: boolean): number[] {
  const out: number[] = [];
  let from = 0;
  let runeAt = 0;
  let scanned = 0;
  for (;;) {
    const k = hay.indexOf(needle, from);
    if (k < 0) break;
    runeAt += [...hay.slice(scanned, k)].length;
    scanned = k;
    out.push(runeAt);
    if (!all) break;
    // Step one code point so overlapping matches are found (indexof_n("aaaa", "aa") = [0, 1, 2]).
    from = k + (hay.codePointAt(k)! > 0xffff ? 2 : 1);
  }
  return out;
}

/**
 * strings.NewReplacer semantics: at each position the first pattern in argument (sorted key) order
 * that matches wins; an empty pattern matches between runes but not twice at the same position.
 */
function replaceN(pairs: [string, string][], s: string): string {
  let out = '';
  let last = 0;
  let prevEmpty = false;
  let i = 0;
  while (i <= s.length) {
    const at = i;
    const hit = pairs.find((p) => (p[0] === '' ? !prevEmpty : s.startsWith(p[0], at)));
    prevEmpty = hit !== undefined && hit[0] === '';
    if (hit) {
      out += s.slice(last, i) + hit[1];
      i += hit[0].length;
      last = i;
      continue;
    }
    i += i < s.length && s.codePointAt(i)! > 0xffff ? 2 : 1;
  }
  return out + s.slice(last);
}

function anyMatch(name: string, args: Value[], test: (s: string, affix: string) => boolean): boolean {
  const inputs = stringMembers(name, args[0], 1, true);
  const affixes = stringMembers(name, args[1], 2, true);
  return inputs.some((s) => affixes.some((a) => test(s, a)));
}

export const stringsBuiltins: readonly BuiltinSpec[] = [
  spec('concat', [S, STRINGS], S, (args) => {
    const delim = mustString('concat', args, 0);
    return stringMembers('concat', args[1], 2, false).join(delim);
  }),
  spec('contains', [S, S], 'boolean', (a) => mustString('contains', a, 0).includes(mustString('contains', a, 1))),
  spec('startswith', [S, S], 'boolean', (a) => mustString('startswith', a, 0).startsWith(mustString('startswith', a, 1))),
  spec('endswith', [S, S], 'boolean', (a) => mustString('endswith', a, 0).endsWith(mustString('endswith', a, 1))),
  spec('format_int', ['number', 'number'], S, (args) => {
    const n = mustNumber('format_int', args, 0);
    const base = mustNumber('format_int', args, 1);
    if (base !== 2 && base !== 8 && base !== 10 && base !== 16) {
      throw new BuiltinError('format_int: operand 2 must be one of {2, 8, 10, 16}', 'type');
    }
    // OPA truncates towards zero: format_int(-3.9, 10) is "-3".
    return BigInt(Math.trunc(n)).toString(base);
  }),
  spec('indexof', [S, S], 'number', (args) => {
    const hay = mustString('indexof', args, 0);
    const needle = mustString('indexof', args, 1);
    if (needle === '') throw new BuiltinError('indexof: empty search character');
    return runeIndexes(hay, needle, false)[0] ?? -1;
  }),
  spec('indexof_n', [S, S], { array: 'number' }, (args) => {
    const hay = mustString('indexof_n', args, 0);
    const needle = mustString('indexof_n', args, 1);
    if (needle === '') throw new BuiltinError('indexof_n: empty search character');
    return runeIndexes(hay, needle, true);
  }),
  spec('lower', [S], S, (a) => mapCase(mustString('lower', a, 0), false)),
  spec('upper', [S], S, (a) => mapCase(mustString('upper', a, 0), true)),
  spec('replace', [S, S, S], S, (args) => {
    const s = mustString('replace', args, 0);
    const old = mustString('replace', args, 1);
    const rep = mustString('replace', args, 2);
    // Go's strings.ReplaceAll with an empty `old` inserts at every rune boundary.
    if (old === '') return rep + [...s].join(rep) + (s === '' ? '' : rep);
    return s.split(old).join(rep);
  }),
  spec('strings.replace_n', [{ object: [S, S] }, S], S, (args) => {
    const m = args[0];
    if (!isObject(m)) throw operandError('strings.replace_n', 1, 'object', m);
    const s = mustString('strings.replace_n', args, 1);
    const pairs: [string, string][] = [];
    for (const [k, v] of objEntries(m)) {
      if (typeof k !== 'string') throw new BuiltinError('strings.replace_n: operand 1 non-string key found in pattern object', 'type');
      if (typeof v !== 'string') throw new BuiltinError('strings.replace_n: operand 1 non-string value found in pattern object', 'type');
      pairs.push([k, v]);
    }
    pairs.sort((x, y) => compareStrings(x[0], y[0]));
    return pairs.length === 0 ? s : replaceN(pairs, s);
  }),
  spec('split', [S, S], { array: S }, (args) => {
    const s = mustString('split', args, 0);
    const d = mustString('split', args, 1);
    return d === '' ? [...s] : s.split(d);
  }),
  spec('strings.split_n', [S, S, 'number'], { array: S }, (args) => {
    const s = mustString('strings.split_n', args, 0);
    const d = mustString('strings.split_n', args, 1);
    const n = mustInteger('strings.split_n', args, 2);
    // Newer OPA builtin (not in 0.61): the first n parts, or the last -n parts when n is negative.
    const parts = d === '' ? [...s] : s.split(d);
    return n >= 0 ? parts.slice(0, n) : parts.slice(Math.max(parts.length + n, 0));
  }),
  spec('substring', [S, 'number', 'number'], S, (args) => {
    const s = mustString('substring', args, 0);
    const off = mustInteger('substring', args, 1);
    const len = mustInteger('substring', args, 2);
    if (off < 0) throw new BuiltinError('substring: negative offset');
    const runes = [...s];
    if (off >= runes.length) return '';
    return runes.slice(off, len < 0 ? undefined : off + len).join('');
  }),
  spec('trim', [S, S], S, (a) => trimCutset(mustString('trim', a, 0), mustString('trim', a, 1), true, true)),
  spec('trim_left', [S, S], S, (a) => trimCutset(mustString('trim_left', a, 0), mustString('trim_left', a, 1), true, false)),
  spec('trim_right', [S, S], S, (a) => trimCutset(mustString('trim_right', a, 0), mustString('trim_right', a, 1), false, true)),
  spec('trim_prefix', [S, S], S, (args) => {
    const s = mustString('trim_prefix', args, 0);
    const p = mustString('trim_prefix', args, 1);
    return s.startsWith(p) ? s.slice(p.length) : s;
  }),
  spec('trim_suffix', [S, S], S, (args) => {
    const s = mustString('trim_suffix', args, 0);
    const p = mustString('trim_suffix', args, 1);
    return p !== '' && s.endsWith(p) ? s.slice(0, s.length - p.length) : s;
  }),
  spec('trim_space', [S], S, (a) => mustString('trim_space', a, 0).replace(LEADING_SPACE, '').replace(TRAILING_SPACE, '')),
  spec('strings.reverse', [S], S, (a) => [...mustString('strings.reverse', a, 0)].reverse().join('')),
  spec('strings.count', [S, S], 'number', (args) => {
    const s = mustString('strings.count', args, 0);
    const sub = mustString('strings.count', args, 1);
    // Go's strings.Count: non-overlapping; an empty substring counts every rune boundary.
    if (sub === '') return [...s].length + 1;
    return s.split(sub).length - 1;
  }),
  spec('strings.any_prefix_match', [STRING_OR_STRINGS, STRING_OR_STRINGS], 'boolean', (args) =>
    anyMatch('strings.any_prefix_match', args, (s, p) => s.startsWith(p)),
  ),
  spec('strings.any_suffix_match', [STRING_OR_STRINGS, STRING_OR_STRINGS], 'boolean', (args) =>
    anyMatch('strings.any_suffix_match', args, (s, p) => s.endsWith(p)),
  ),
  spec('strings.render_template', [S, { object: [S, 'any'] }], S, (args) => {
    const tmpl = mustString('strings.render_template', args, 0);
    const vars = args[1];
    if (!isObject(vars)) throw operandError('strings.render_template', 2, 'object', vars);
    try {
      return renderTemplate(tmpl, vars);
    } catch (e) {
      throw new BuiltinError(`strings.render_template: ${(e as Error).message}`);
    }
  }),
  spec('sprintf', [S, { array: 'any' }], S, (args) => {
    const format = mustString('sprintf', args, 0);
    return goSprintf(format, mustArray('sprintf', args, 1));
  }),
  spec('cast_string', ['any'], S, (a) => mustString('cast_string', a, 0), { deprecated: true }),
];
