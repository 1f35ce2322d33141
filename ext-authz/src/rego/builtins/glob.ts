// Builtins: glob (OPA policy reference, "Glob"): gobwas/glob syntax — `*` (within delimiters), `**`
// (across them), `?`, `[a-z]`, `[!a]`, `{a,b}`, `\` escapes — compiled once to an anchored RegExp.
import { BuiltinError } from '../errors';
import { typeName, type Value } from '../value';
import { mustString, operandError, type BuiltinSpec } from './registry';

const cache = new Map<string, RegExp | string>();
const CACHE_LIMIT = 500;

const hex = (cp: number): string => `\\u{${cp.toString(16)}}`;
const lit = (ch: string): string => (/^[0-9A-Za-z_]$/.test(ch) ? ch : hex(ch.codePointAt(0)!));

/** Translates a glob into RegExp source; throws gobwas's lexer message on bad syntax. */
function translate(pattern: string, delims: string[]): string {
  const cs = [...pattern];
  const notDelim = delims.length === 0 ? '[^]' : '[^' + delims.map(lit).join('') + ']';
  let i = 0;
  let depth = 0; // open {…} alternatives
  let out = '';
  while (i < cs.length) {
    const c = cs[i++];
    switch (c) {
      case '*':
        if (cs[i] === '*') {
          while (cs[i] === '*') i++;
          out += '[^]*';
        } else out += notDelim + '*';
        break;
      case '?':
        out += notDelim;
        break;
      case '\\':
        if (i >= cs.length) throw new Error('unexpected end of input');
        out += lit(cs[i++]);
        break;
      case '[': {
        const negate = cs[i] === '!';
        if (negate) i++;
        let body = '';
        while (cs[i] !== ']') {
          if (i >= cs.length) throw new Error('unexpected end of input');
          let lo = cs[i++];
          if (lo === '\\') {
            if (i >= cs.length) throw new Error('unexpected end of input');
            lo = cs[i++];
          }
          if (cs[i] === '-' && i + 1 < cs.length && cs[i + 1] !== ']') {
            const hi = cs[i + 1];
            i += 2;
            if (hi.codePointAt(0)! < lo.codePointAt(0)!) throw new Error('hi character should be greater than lo character');
            body += `${hex(lo.codePointAt(0)!)}-${hex(hi.codePointAt(0)!)}`;
          } else body += hex(lo.codePointAt(0)!);
        }
        i++;
        out += '[' + (negate ? '^' : '') + body + ']';
        break;
      }
      case '{':
        depth++;
        out += '(?:';
        break;
      case '}':
        if (depth === 0) {
          out += lit(c);
          break;
        }
        depth--;
        out += ')';
        break;
      case ',':
        out += depth > 0 ? '|' : lit(c);
        break;
      default:
        out += lit(c);
    }
  }
  if (depth > 0) throw new Error('unexpected end of input');
  return '^' + out + '$';
}

function compileGlob(pattern: string, delims: string[]): RegExp {
  const key = pattern + '\u0000' + delims.join('\u0000');
  let hit = cache.get(key);
  if (hit === undefined) {
    try {
      hit = new RegExp(translate(pattern, delims), 'u');
    } catch (e) {
      hit = (e as Error).message;
    }
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(key, hit);
  }
  if (typeof hit === 'string') throw new BuiltinError(`glob.match: ${hit}`);
  return hit;
}

/** OPA: `[]` means the default delimiter "."; `null` means no delimiters at all. */
function delimiters(v: Value): string[] {
  if (v === null) return [];
  if (!Array.isArray(v)) throw operandError('glob.match', 2, 'one of {array, null}', v);
  const out: string[] = [];
  for (const d of v) {
    if (typeof d !== 'string') {
      throw new BuiltinError(`glob.match: operand 2 must be array of strings but got array containing ${typeName(d)}`, 'type');
    }
    out.push(...d);
  }
  return v.length === 0 ? ['.'] : out;
}

export const globBuiltins: readonly BuiltinSpec[] = [
  {
    name: 'glob.match',
    category: 'glob',
    args: ['string', { anyOf: [{ array: 'string' }, 'null'] }, 'string'],
    result: 'boolean',
    fn: (args) => {
      const pattern = mustString('glob.match', args, 0);
      const delims = delimiters(args[1]);
      const s = mustString('glob.match', args, 2);
      return compileGlob(pattern, delims).test(s);
    },
  },
  {
    name: 'glob.quote_meta',
    category: 'glob',
    args: ['string'],
    result: 'string',
    // gobwas QuoteMeta escapes exactly its special characters: * ? \ [ ] { }
    fn: (args) => mustString('glob.quote_meta', args, 0).replace(/[*?\\[\]{}]/g, '\\$&'),
  },
];
