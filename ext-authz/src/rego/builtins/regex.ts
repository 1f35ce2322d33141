// Builtins: regex (OPA policy reference, "Regex"). Patterns are Go RE2 (see re2.ts); the match loops
// below reproduce Go's FindAll/ReplaceAll/Split handling of empty matches.
import { BuiltinError } from '../errors';
import { mustString, mustInteger, type BuiltinSpec, type TypeDesc } from './registry';
import { compileRe2, quoteMeta, type CompiledRe } from './re2';
import { goQuote } from './go-text';
import type { Value } from '../value';
import { globsIntersect } from './globs-intersect';

const S = 'string' as const;

function spec(name: string, args: TypeDesc[], result: TypeDesc, fn: BuiltinSpec['fn'], extra?: Partial<BuiltinSpec>): BuiltinSpec {
  return { name, category: 'regex', args, result, fn, ...extra };
}

function execAt(c: CompiledRe, s: string, pos: number): RegExpExecArray | null {
  c.re.lastIndex = pos;
  return c.re.exec(s);
}

function runeWidth(s: string, i: number): number {
  return i < s.length && s.codePointAt(i)! > 0xffff ? 2 : 1;
}

/** Go's allMatches: successive matches, skipping an empty match that abuts the previous match. */
function allMatches(c: CompiledRe, s: string, n: number): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  let pos = 0;
  let prevEnd = -1;
  while ((n < 0 || out.length < n) && pos <= s.length) {
    const m = execAt(c, s, pos);
    if (!m) break;
    const end = m.index + m[0].length;
    let accept = true;
    if (end === pos) {
      if (m.index === prevEnd) accept = false;
      pos += runeWidth(s, pos);
    } else {
      pos = end;
    }
    prevEnd = end;
    if (accept) out.push(m);
  }
  return out;
}

/** Regexp.Expand: $1, ${1}, $name, ${name}, $$; unknown or unmatched groups expand to "". */
function expand(template: string, m: RegExpExecArray, c: CompiledRe): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    if (ch !== '$' || i + 1 >= template.length) {
      out += ch;
      continue;
    }
    if (template[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    const mm = /^\{([A-Za-z0-9_]+)\}|^[A-Za-z0-9_]+/.exec(template.slice(i + 1));
    if (!mm) {
      out += '$';
      continue;
    }
    const name = mm[1] ?? mm[0];
    const idx = /^\d+$/.test(name) ? Number(name) : c.names.get(name);
    if (idx !== undefined && idx <= c.groups) out += m[idx] ?? '';
    i += mm[0].length;
  }
  return out;
}

/** Regexp.ReplaceAllString, with Go's rule of not replacing an empty match right after a match. */
function replaceAll(c: CompiledRe, s: string, repl: string): string {
  let out = '';
  let lastEnd = 0;
  let pos = 0;
  while (pos <= s.length) {
    const m = execAt(c, s, pos);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    out += s.slice(lastEnd, start);
    if (end > lastEnd || start === 0) out += expand(repl, m, c);
    lastEnd = end;
    const w = runeWidth(s, pos);
    pos = pos + w > end ? pos + w : pos + 1 > end ? pos + 1 : end;
  }
  return out + s.slice(lastEnd);
}

/** Regexp.Split(s, -1). */
function split(c: CompiledRe, s: string): string[] {
  if (s === '') return [''];
  const out: string[] = [];
  let beg = 0;
  let end = 0;
  for (const m of allMatches(c, s, -1)) {
    end = m.index;
    const mEnd = m.index + m[0].length;
    if (mEnd !== 0) out.push(s.slice(beg, end));
    beg = mEnd;
  }
  if (end !== s.length) out.push(s.slice(beg));
  return out;
}

function match(name: string, args: Value[]): boolean {
  const c = compileRe2(name, mustString(name, args, 0));
  const s = mustString(name, args, 1);
  return execAt(c, s, 0) !== null;
}

/**
 * regex.template_match: literal text between {…} parts is quoted, the parts are regexes; braces
 * must balance (the gorilla/mux rule OPA adopts).
 */
function templatePattern(template: string, open: string, close: string): string {
  let level = 0;
  let idx = 0;
  const spans: [number, number][] = [];
  for (let i = 0; i < template.length; i++) {
    if (template[i] === open) {
      if (++level === 1) idx = i;
    } else if (template[i] === close) {
      if (--level === 0) spans.push([idx, i + 1]);
      else if (level < 0) throw new BuiltinError(`regex.template_match: unbalanced braces in ${goQuote(template)}`);
    }
  }
  if (level !== 0) throw new BuiltinError(`regex.template_match: unbalanced braces in ${goQuote(template)}`);
  let pattern = '^';
  let end = 0;
  for (const [a, b] of spans) {
    pattern += quoteMeta(template.slice(end, a)) + '(' + template.slice(a + 1, b - 1) + ')';
    end = b;
  }
  return pattern + quoteMeta(template.slice(end)) + '$';
}

export const regexBuiltins: readonly BuiltinSpec[] = [
  spec('regex.match', [S, S], 'boolean', (args) => match('regex.match', args)),
  spec('re_match', [S, S], 'boolean', (args) => match('re_match', args), { deprecated: true }),
  spec('regex.is_valid', ['any'], 'boolean', (args) => {
    const p = args[0];
    if (typeof p !== 'string') return false;
    try {
      compileRe2('regex.is_valid', p);
      return true;
    } catch {
      return false;
    }
  }),
  spec('regex.split', [S, S], { array: S }, (args) => {
    const c = compileRe2('regex.split', mustString('regex.split', args, 0));
    return split(c, mustString('regex.split', args, 1));
  }),
  spec('regex.find_n', [S, S, 'number'], { array: S }, (args) => {
    const c = compileRe2('regex.find_n', mustString('regex.find_n', args, 0));
    const s = mustString('regex.find_n', args, 1);
    const n = mustInteger('regex.find_n', args, 2);
    return allMatches(c, s, n).map((m) => m[0]);
  }),
  spec('regex.find_all_string_submatch_n', [S, S, 'number'], { array: { array: S } }, (args) => {
    const name = 'regex.find_all_string_submatch_n';
    const c = compileRe2(name, mustString(name, args, 0));
    const s = mustString(name, args, 1);
    const n = mustInteger(name, args, 2);
    return allMatches(c, s, n).map((m) => Array.from(m, (g) => g ?? ''));
  }),
  spec('regex.replace', [S, S, S], S, (args) => {
    const s = mustString('regex.replace', args, 0);
    const c = compileRe2('regex.replace', mustString('regex.replace', args, 1));
    return replaceAll(c, s, mustString('regex.replace', args, 2));
  }),
  spec('regex.globs_match', [S, S], 'boolean', (args) => {
    const a = mustString('regex.globs_match', args, 0);
    const b = mustString('regex.globs_match', args, 1);
    return globsIntersect(a, b);
  }),
  spec('regex.template_match', [S, S, S, S], 'boolean', (args) => {
    const name = 'regex.template_match';
    const template = mustString(name, args, 0);
    const value = mustString(name, args, 1);
    const open = [...mustString(name, args, 2)][0] ?? '';
    const close = [...mustString(name, args, 3)][0] ?? '';
    const c = compileRe2(name, templatePattern(template, open, close));
    return execAt(c, value, 0) !== null;
  }),
];
