// Go text/template, the subset deploy/helm/callback-proxy uses: lexing ({{ }}, trim markers, comments),
// pipelines, and the tree of if / else if / else, range, with and define. Anything else is refused with
// the template name and line (see helm-template.ts for what the renderer promises).
import { ChartError, FUNCTION_NAMES } from './go-template-exec';

// ---- lexing ---------------------------------------------------------------------------------------
type Piece = { kind: 'text'; text: string } | { kind: 'action'; src: string; line: number };

function lex(src: string, name: string): Piece[] {
  const out: Piece[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) {
      if (text) out.push({ kind: 'text', text });
      break;
    }
    let j = open + 2;
    const trimLeft = src[j] === '-' && /\s/.test(src[j + 1] ?? '');
    if (trimLeft) {
      text = text.replace(/\s+$/, '');
      j += 1;
    }
    if (text) out.push({ kind: 'text', text });
    const line = src.slice(0, open).split('\n').length;
    // A comment: {{/* … */}}, with optional trim markers.
    const comment = /^\s*\/\*[\s\S]*?\*\/(\s+-)?\}\}/.exec(src.slice(j));
    if (comment) {
      trimNext = comment[1] !== undefined;
      i = j + comment[0].length;
      continue;
    }
    // Find the closing braces outside string literals.
    let k = j;
    let quote: string | null = null;
    for (; k < src.length; k++) {
      const c = src[k];
      if (quote) {
        if (c === '\\' && quote === '"') k++;
        else if (c === quote) quote = null;
      } else if (c === '"' || c === '`') quote = c;
      else if (c === '}' && src[k + 1] === '}') break;
    }
    if (k >= src.length) throw new ChartError(`${name}:${line}: unclosed action`);
    let inner = src.slice(j, k);
    if (/\s-$/.test(inner)) {
      inner = inner.slice(0, -1);
      trimNext = true;
    }
    out.push({ kind: 'action', src: inner.trim(), line });
    i = k + 2;
  }
  return out;
}

// ---- action tokens and pipelines ----------------------------------------------------------------
type Tok =
  | { t: 'str'; v: string }
  | { t: 'num'; v: bigint | number }
  | { t: 'ident'; v: string }
  | { t: 'field'; v: string[] }
  | { t: 'var'; v: string; path: string[] }
  | { t: 'dot' }
  | { t: 'punct'; v: '(' | ')' | '|' | ':=' | '=' | ',' };

function tokenize(s: string, where: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const fieldPath = (): string[] => {
    const p: string[] = [];
    while (s[i] === '.' && /[A-Za-z_]/.test(s[i + 1] ?? '')) {
      const m = /^\.([A-Za-z_][A-Za-z0-9_]*)/.exec(s.slice(i)) as RegExpExecArray;
      p.push(m[1]);
      i += m[0].length;
    }
    return p;
  };
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      toks.push({ t: 'str', v: JSON.parse(s.slice(i, j + 1)) as string });
      i = j + 1;
    } else if (c === '`') {
      const j = s.indexOf('`', i + 1);
      toks.push({ t: 'str', v: s.slice(i + 1, j) });
      i = j + 1;
    } else if (c === ':' && s[i + 1] === '=') {
      toks.push({ t: 'punct', v: ':=' });
      i += 2;
    } else if ('()|=,'.includes(c)) {
      toks.push({ t: 'punct', v: c as '(' });
      i++;
    } else if (c === '.' && /[A-Za-z_]/.test(s[i + 1] ?? '')) {
      toks.push({ t: 'field', v: fieldPath() });
    } else if (c === '.') {
      toks.push({ t: 'dot' });
      i++;
    } else if (c === '$') {
      const m = /^\$[A-Za-z0-9_]*/.exec(s.slice(i)) as RegExpExecArray;
      i += m[0].length;
      toks.push({ t: 'var', v: m[0], path: fieldPath() });
    } else if (/[-0-9]/.test(c)) {
      const m = /^-?[0-9]+(\.[0-9]+)?/.exec(s.slice(i));
      if (!m) throw new ChartError(`${where}: unexpected "${c}"`);
      toks.push({ t: 'num', v: m[1] ? Number(m[0]) : BigInt(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i)) as RegExpExecArray;
      toks.push({ t: 'ident', v: m[0] });
      i += m[0].length;
    } else {
      throw new ChartError(`${where}: unsupported syntax at "${s.slice(i)}"`);
    }
  }
  return toks;
}

export type Operand =
  | { k: 'lit'; v: unknown }
  | { k: 'field'; base: 'dot' | string; path: string[] }
  | { k: 'fn'; name: string }
  | { k: 'pipe'; p: Pipeline };
export interface Pipeline {
  decl?: { vars: string[]; assign: boolean };
  cmds: Operand[][];
}

function parsePipeline(toks: Tok[], where: string): Pipeline {
  let i = 0;
  let decl: Pipeline['decl'];
  // `$a :=`, `$a =`, `$k, $v :=`
  const varsAhead: string[] = [];
  let j = 0;
  while (toks[j]?.t === 'var' && (toks[j] as { path: string[] }).path.length === 0) {
    varsAhead.push((toks[j] as { v: string }).v);
    j++;
    if (toks[j]?.t === 'punct' && (toks[j] as { v: string }).v === ',') j++;
    else break;
  }
  const op = toks[j];
  if (varsAhead.length > 0 && op?.t === 'punct' && (op.v === ':=' || op.v === '=')) {
    decl = { vars: varsAhead, assign: op.v === '=' };
    i = j + 1;
  }
  const parse = (end: number): { p: Pipeline; next: number } => {
    const cmds: Operand[][] = [[]];
    let k = i;
    while (k < end) {
      const t = toks[k];
      if (t.t === 'punct' && t.v === '|') {
        cmds.push([]);
        k++;
        continue;
      }
      if (t.t === 'punct' && t.v === ')') break;
      if (t.t === 'punct' && t.v === '(') {
        i = k + 1;
        const sub = parse(end);
        if (!(toks[sub.next]?.t === 'punct' && (toks[sub.next] as { v: string }).v === ')')) throw new ChartError(`${where}: unclosed "("`);
        cmds[cmds.length - 1].push({ k: 'pipe', p: sub.p });
        k = sub.next + 1;
        continue;
      }
      cmds[cmds.length - 1].push(operand(t, where));
      k++;
    }
    if (cmds.some((c) => c.length === 0)) throw new ChartError(`${where}: empty command in pipeline`);
    return { p: { cmds }, next: k };
  };
  const { p, next } = parse(toks.length);
  if (next !== toks.length) throw new ChartError(`${where}: unexpected ")"`);
  return { decl, cmds: p.cmds };
}

function operand(t: Tok, where: string): Operand {
  switch (t.t) {
    case 'str':
      return { k: 'lit', v: t.v };
    case 'num':
      return { k: 'lit', v: t.v };
    case 'dot':
      return { k: 'field', base: 'dot', path: [] };
    case 'field':
      return { k: 'field', base: 'dot', path: t.v };
    case 'var':
      return { k: 'field', base: t.v, path: t.path };
    case 'ident':
      if (t.v === 'true' || t.v === 'false') return { k: 'lit', v: t.v === 'true' };
      if (t.v === 'nil') return { k: 'lit', v: null };
      if (!FUNCTION_NAMES.has(t.v)) throw new ChartError(`${where}: function "${t.v}" is not supported by this renderer`);
      return { k: 'fn', name: t.v };
    default:
      throw new ChartError(`${where}: unexpected "${t.v}"`);
  }
}

// ---- tree -----------------------------------------------------------------------------------------
export type Node =
  | { n: 'text'; text: string }
  | { n: 'out'; p: Pipeline; where: string }
  | { n: 'if'; branches: { p: Pipeline; body: Node[] }[]; otherwise: Node[]; where: string }
  | { n: 'range'; p: Pipeline; body: Node[]; otherwise: Node[]; where: string }
  | { n: 'with'; p: Pipeline; body: Node[]; otherwise: Node[]; where: string };

export function parseTemplate(src: string, name: string, defines: Map<string, Node[]>): Node[] {
  const pieces = lex(src, name);
  let pos = 0;
  type Stop = { word: 'end' | 'else'; rest: string; where: string } | null;
  const block = (top: boolean): { nodes: Node[]; stop: Stop } => {
    const nodes: Node[] = [];
    while (pos < pieces.length) {
      const pc = pieces[pos++];
      if (pc.kind === 'text') {
        nodes.push({ n: 'text', text: pc.text });
        continue;
      }
      const where = `${name}:${pc.line}`;
      const m = /^([a-z]+)\b\s*([\s\S]*)$/.exec(pc.src);
      const word = m?.[1] ?? '';
      const rest = m?.[2] ?? '';
      if (word === 'end' || word === 'else') {
        if (top) throw new ChartError(`${where}: unexpected {{${word}}}`);
        return { nodes, stop: { word, rest, where } };
      }
      if (word === 'define') {
        if (!top) throw new ChartError(`${where}: define inside a block`);
        const dn = /^"([^"]+)"$/.exec(rest.trim());
        if (!dn) throw new ChartError(`${where}: define needs a quoted name`);
        const b = block(false);
        if (b.stop?.word !== 'end') throw new ChartError(`${where}: define without end`);
        defines.set(dn[1], b.nodes);
        continue;
      }
      if (word === 'if') {
        const branches: { p: Pipeline; body: Node[] }[] = [];
        let cond = rest;
        let otherwise: Node[] = [];
        for (;;) {
          const b = block(false);
          branches.push({ p: parsePipeline(tokenize(cond, where), where), body: b.nodes });
          if (!b.stop) throw new ChartError(`${where}: if without end`);
          if (b.stop.word === 'end') break;
          const elseIf = /^if\b\s*([\s\S]*)$/.exec(b.stop.rest);
          if (elseIf) {
            cond = elseIf[1];
            continue;
          }
          if (b.stop.rest.trim()) throw new ChartError(`${b.stop.where}: unsupported else form`);
          const e = block(false);
          if (e.stop?.word !== 'end') throw new ChartError(`${where}: if/else without end`);
          otherwise = e.nodes;
          break;
        }
        nodes.push({ n: 'if', branches, otherwise, where });
        continue;
      }
      if (word === 'range' || word === 'with') {
        const b = block(false);
        if (!b.stop) throw new ChartError(`${where}: ${word} without end`);
        let otherwise: Node[] = [];
        if (b.stop.word === 'else') {
          if (b.stop.rest.trim()) throw new ChartError(`${b.stop.where}: unsupported else form`);
          const e = block(false);
          if (e.stop?.word !== 'end') throw new ChartError(`${where}: ${word}/else without end`);
          otherwise = e.nodes;
        }
        nodes.push({ n: word, p: parsePipeline(tokenize(rest, where), where), body: b.nodes, otherwise, where });
        continue;
      }
      if (['template', 'block', 'break', 'continue'].includes(word)) throw new ChartError(`${where}: {{${word}}} is not supported by this renderer (use include)`);
      nodes.push({ n: 'out', p: parsePipeline(tokenize(pc.src, where), where), where });
    }
    if (!top) throw new ChartError(`${name}: unterminated block`);
    return { nodes, stop: null };
  };
  return block(true).nodes;
}
