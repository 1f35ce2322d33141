// regex.globs_match: do two "glob-ish" regexes share a matching string? OPA limits the syntax to
// `.`, `*`, `+`, `[...]` (with ranges) and `\` escapes, which keeps the intersection decidable by a
// product walk over the two token lists. Limits: no `?`, groups or alternation (they are literals).
import { BuiltinError } from '../errors';

type Range = [number, number];
interface Token {
  set: Range[];
  star: boolean;
}

const ANY: Range[] = [[0, 0x10ffff]];

function parse(g: string): Token[] {
  const cps = [...g].map((c) => c.codePointAt(0)!);
  const out: Token[] = [];
  let i = 0;
  const bad = (why: string): never => {
    throw new BuiltinError(`regex.globs_match: ${why}: ${JSON.stringify(g)}`);
  };
  while (i < cps.length) {
    const c = String.fromCodePoint(cps[i]);
    let set: Range[];
    if (c === '.') {
      set = ANY;
      i++;
    } else if (c === '[') {
      i++;
      set = [];
      let first = true;
      for (;;) {
        if (i >= cps.length) bad('unterminated character class');
        if (cps[i] === 0x5d && !first) break; // ]
        first = false;
        let lo = cps[i++];
        if (lo === 0x5c) {
          if (i >= cps.length) bad('trailing escape');
          lo = cps[i++];
        }
        let hi = lo;
        if (cps[i] === 0x2d && i + 1 < cps.length && cps[i + 1] !== 0x5d) {
          i++;
          hi = cps[i++];
          if (hi === 0x5c) hi = cps[i++];
          if (hi < lo) bad('invalid character class range');
        }
        set.push([lo, hi]);
      }
      i++;
    } else if (c === '\\') {
      if (i + 1 >= cps.length) bad('trailing escape');
      set = [[cps[i + 1], cps[i + 1]]];
      i += 2;
    } else if (c === '*' || c === '+') {
      bad('missing argument to repetition operator');
    } else {
      set = [[cps[i], cps[i]]];
      i++;
    }
    const q = cps[i] === 0x2a ? '*' : cps[i] === 0x2b ? '+' : '';
    if (q) i++;
    // x+ is x followed by x*.
    if (q === '+') out.push({ set: set!, star: false });
    out.push({ set: set!, star: q !== '' });
  }
  return out;
}

function overlaps(a: Range[], b: Range[]): boolean {
  return a.some(([l1, h1]) => b.some(([l2, h2]) => l1 <= h2 && l2 <= h1));
}

/** True when some string matches both patterns (whole-string match). */
export function globsIntersect(a: string, b: string): boolean {
  const x = parse(a);
  const y = parse(b);
  const seen = new Set<number>();
  const stack: [number, number][] = [[0, 0]];
  const w = y.length + 1;
  while (stack.length > 0) {
    const [i, j] = stack.pop()!;
    const key = i * w + j;
    if (seen.has(key)) continue;
    seen.add(key);
    if (i === x.length && j === y.length) return true;
    if (i < x.length && x[i].star) stack.push([i + 1, j]);
    if (j < y.length && y[j].star) stack.push([i, j + 1]);
    if (i < x.length && j < y.length && overlaps(x[i].set, y[j].set)) {
      stack.push([x[i].star ? i : i + 1, y[j].star ? j : j + 1]);
    }
  }
  return false;
}
