// `helm template` for our own chart, for tests on machines without helm (no npm package ships a helm
// binary). It implements the subset of Go text/template + Sprig/Helm functions that
// deploy/helm/callback-proxy uses, and refuses anything else, so a template it accepts means the same
// thing to helm:
//   * actions {{ }}, trim markers {{- -}}, comments {{/* */}}; if / else if / else, range (lists and
//     maps in key order, with $k, $v :=), with, define, variables := and =, parenthesised pipelines;
//   * Go's typing where it changes results: values from YAML are float64 and template literals are int,
//     so comparing them without `int` is an error (as in helm); printing a float uses Go's %v (1e+06);
//     field access on a missing map key yields nil and on nil is an error;
//   * functions: include, toYaml, toJson, nindent, indent, quote, default, required, fail, printf (%s %d
//     %v %q), eq, ne, lt, le, gt, ge, and, or (short-circuit), not, empty, trunc, trimSuffix, contains,
//     replace, int, toString, list, append, join, dict, hasKey, len.
// Helm's value handling is reproduced: chart values deep-merged with the given ones (null deletes a key),
// then validated against values.schema.json (draft-07, with ajv) before rendering.
// Stricter than helm on purpose: printing nil or a map is an error (helm prints "<no value>"/map[…]).
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import YAML from 'yaml';

export class ChartError extends Error {}

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

type Operand =
  | { k: 'lit'; v: unknown }
  | { k: 'field'; base: 'dot' | string; path: string[] }
  | { k: 'fn'; name: string }
  | { k: 'pipe'; p: Pipeline };
interface Pipeline {
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
      if (!(t.v in FUNCS) && t.v !== 'and' && t.v !== 'or') throw new ChartError(`${where}: function "${t.v}" is not supported by this renderer`);
      return { k: 'fn', name: t.v };
    default:
      throw new ChartError(`${where}: unexpected "${t.v}"`);
  }
}

// ---- tree -----------------------------------------------------------------------------------------
type Node =
  | { n: 'text'; text: string }
  | { n: 'out'; p: Pipeline; where: string }
  | { n: 'if'; branches: { p: Pipeline; body: Node[] }[]; otherwise: Node[]; where: string }
  | { n: 'range'; p: Pipeline; body: Node[]; otherwise: Node[]; where: string }
  | { n: 'with'; p: Pipeline; body: Node[]; otherwise: Node[]; where: string };

function parseTemplate(src: string, name: string, defines: Map<string, Node[]>): Node[] {
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

// ---- values: Go kinds ----------------------------------------------------------------------------
// JS number = Go float64 (every number in values), bigint = Go int (literals, `int`).
type Map_ = Record<string, unknown>;
const isMap = (v: unknown): v is Map_ => typeof v === 'object' && v !== null && !Array.isArray(v);

function truth(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return Object.keys(v).length > 0;
  return true;
}

/**
 * Go's %v for a float64: strconv's 'g' format with the shortest digits, which switches to an exponent
 * (at least two digits) when the decimal exponent is < -4 or >= 6, hence helm's infamous "1e+06".
 */
function goFloat(f: number): string {
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : f < 0 ? '-Inf' : 'NaN';
  if (f === 0) return '0';
  const [mant, expStr] = f.toExponential().split('e');
  const exp = Number(expStr);
  if (exp < -4 || exp >= 6) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(f);
}

function show(v: unknown, where: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return goFloat(v);
  if (typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) throw new ChartError(`${where}: printing a nil value (helm would print "<no value>")`);
  throw new ChartError(`${where}: printing a ${Array.isArray(v) ? 'list' : 'map'} (use toYaml)`);
}

function kind(v: unknown): string {
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float64';
  if (v === null || v === undefined) return 'nil';
  return Array.isArray(v) ? 'list' : typeof v === 'object' ? 'map' : typeof v;
}

function compare(a: unknown, b: unknown, where: string): number {
  const ka = kind(a);
  const kb = kind(b);
  if (ka !== kb || !['int', 'float64', 'string', 'boolean'].includes(ka)) throw new ChartError(`${where}: incompatible types for comparison (${ka} and ${kb})`);
  if (ka === 'boolean') return a === b ? 0 : NaN;
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

function toInt(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'string') return /^-?[0-9]+$/.test(v.trim()) ? BigInt(v.trim()) : 0n;
  return 0n;
}

function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

function goQuote(s: string): string {
  return JSON.stringify(s);
}

function strval(v: unknown, where: string): string {
  return show(v, where);
}

type Fn = (where: string, args: unknown[], r: Renderer) => unknown;
const FUNCS: Record<string, Fn> = {
  include: (w, [name, ctx], r) => r.include(String(name), ctx, w),
  toYaml: (_w, [v]) => (v === null || v === undefined ? 'null' : YAML.stringify(plain(v), { version: '1.1', sortMapEntries: true, lineWidth: 0 }).replace(/\n$/, '')),
  toJson: (_w, [v]) => JSON.stringify(plain(v)),
  indent: (w, [n, s]) => {
    const pad = ' '.repeat(Number(toInt(n)));
    return pad + strval(s, w).replace(/\n/g, `\n${pad}`);
  },
  nindent: (w, [n, s]) => {
    const pad = ' '.repeat(Number(toInt(n)));
    return `\n${pad}${strval(s, w).replace(/\n/g, `\n${pad}`)}`;
  },
  quote: (w, args) => args.filter((a) => a !== null && a !== undefined).map((a) => goQuote(strval(a, w))).join(' '),
  default: (_w, [d, v]) => (truth(v) ? v : d),
  required: (_w, [msg, v]) => {
    if (v === null || v === undefined || v === '') throw new ChartError(String(msg));
    return v;
  },
  fail: (_w, [msg]) => {
    throw new ChartError(String(msg));
  },
  printf: (w, [fmt, ...args]) => {
    let i = 0;
    return String(fmt).replace(/%([sdvq%])/g, (_m, verb: string) => {
      if (verb === '%') return '%';
      const a = args[i++];
      if (verb === 'd') {
        if (typeof a !== 'bigint') throw new ChartError(`${w}: printf %d of a ${kind(a)}`);
        return a.toString();
      }
      return verb === 'q' ? goQuote(strval(a, w)) : strval(a, w);
    });
  },
  eq: (w, [a, ...bs]) => bs.some((b) => compare(a, b, w) === 0),
  ne: (w, [a, b]) => compare(a, b, w) !== 0,
  lt: (w, [a, b]) => compare(a, b, w) < 0,
  le: (w, [a, b]) => compare(a, b, w) <= 0,
  gt: (w, [a, b]) => compare(a, b, w) > 0,
  ge: (w, [a, b]) => compare(a, b, w) >= 0,
  not: (_w, [a]) => !truth(a),
  empty: (_w, [a]) => !truth(a),
  trunc: (w, [n, s]) => {
    const str = strval(s, w);
    const k = Number(toInt(n));
    return k >= 0 ? str.slice(0, k) : str.slice(Math.max(0, str.length + k));
  },
  trimSuffix: (w, [suf, s]) => {
    const str = strval(s, w);
    const x = strval(suf, w);
    return x && str.endsWith(x) ? str.slice(0, -x.length) : str;
  },
  contains: (w, [sub, s]) => strval(s, w).includes(strval(sub, w)),
  replace: (w, [a, b, s]) => strval(s, w).split(strval(a, w)).join(strval(b, w)),
  int: (_w, [v]) => toInt(v),
  toString: ((w, [v]) => strval(v, w)) as Fn,
  list: (_w, args) => [...args],
  append: (w, [l, v]) => {
    if (!Array.isArray(l)) throw new ChartError(`${w}: append to a ${kind(l)}`);
    return [...l, v];
  },
  join: (w, [sep, l]) => (Array.isArray(l) ? l.map((x) => strval(x, w)).join(strval(sep, w)) : strval(l, w)),
  dict: (w, args) => {
    const d: Map_ = {};
    for (let i = 0; i < args.length; i += 2) d[strval(args[i], w)] = args[i + 1] ?? null;
    return d;
  },
  hasKey: (_w, [m, k]) => isMap(m) && Object.prototype.hasOwnProperty.call(m, String(k)),
  len: (w, [v]) => {
    if (typeof v === 'string' || Array.isArray(v)) return BigInt(v.length);
    if (isMap(v)) return BigInt(Object.keys(v).length);
    throw new ChartError(`${w}: len of a ${kind(v)}`);
  },
};

// ---- execution ------------------------------------------------------------------------------------
class Scope {
  private readonly vars = new Map<string, unknown>();
  constructor(private readonly parent: Scope | null) {}
  declare(name: string, v: unknown): void {
    this.vars.set(name, v);
  }
  assign(name: string, v: unknown, where: string): void {
    for (let s: Scope | null = this; s; s = s.parent) {
      if (s.vars.has(name)) {
        s.vars.set(name, v);
        return;
      }
    }
    throw new ChartError(`${where}: assignment to undeclared ${name}`);
  }
  get(name: string, where: string): unknown {
    for (let s: Scope | null = this; s; s = s.parent) if (s.vars.has(name)) return s.vars.get(name);
    throw new ChartError(`${where}: undefined variable ${name}`);
  }
}

class Renderer {
  private depth = 0;
  constructor(private readonly defines: Map<string, Node[]>) {}

  include(name: string, ctx: unknown, where: string): string {
    const body = this.defines.get(name);
    if (!body) throw new ChartError(`${where}: no template "${name}"`);
    if (++this.depth > 50) throw new ChartError(`${where}: include nested too deeply`);
    try {
      const scope = new Scope(null);
      scope.declare('$', ctx);
      return this.exec(body, ctx, scope);
    } finally {
      this.depth--;
    }
  }

  exec(nodes: Node[], dot: unknown, scope: Scope): string {
    let out = '';
    for (const node of nodes) {
      switch (node.n) {
        case 'text':
          out += node.text;
          break;
        case 'out': {
          const v = this.pipeline(node.p, dot, scope, node.where);
          if (!node.p.decl) out += show(v, node.where);
          break;
        }
        case 'if': {
          const inner = new Scope(scope);
          const hit = node.branches.find((b) => truth(this.pipeline(b.p, dot, inner, node.where)));
          out += this.exec(hit ? hit.body : node.otherwise, dot, inner);
          break;
        }
        case 'with': {
          const inner = new Scope(scope);
          const v = this.pipeline(node.p, dot, inner, node.where);
          out += truth(v) ? this.exec(node.body, v, inner) : this.exec(node.otherwise, dot, inner);
          break;
        }
        case 'range': {
          const vars = node.p.decl?.vars ?? [];
          const v = this.pipeline({ cmds: node.p.cmds }, dot, scope, node.where);
          let entries: [unknown, unknown][];
          if (Array.isArray(v)) entries = v.map((x, i) => [BigInt(i), x]);
          else if (isMap(v)) entries = Object.keys(v).sort().map((k) => [k, v[k]]);
          else if (v === null || v === undefined) entries = [];
          else throw new ChartError(`${node.where}: range over a ${kind(v)}`);
          if (entries.length === 0) {
            out += this.exec(node.otherwise, dot, scope);
            break;
          }
          for (const [k, x] of entries) {
            const inner = new Scope(scope);
            if (vars.length === 1) inner.declare(vars[0], x);
            if (vars.length === 2) {
              inner.declare(vars[0], k);
              inner.declare(vars[1], x);
            }
            out += this.exec(node.body, x, inner);
          }
          break;
        }
      }
    }
    return out;
  }

  pipeline(p: Pipeline, dot: unknown, scope: Scope, where: string): unknown {
    let value: unknown;
    let piped = false;
    for (const cmd of p.cmds) {
      value = this.command(cmd, dot, scope, where, piped ? { v: value } : undefined);
      piped = true;
    }
    if (p.decl) {
      if (p.decl.vars.length !== 1) throw new ChartError(`${where}: only range declares two variables`);
      if (p.decl.assign) scope.assign(p.decl.vars[0], value, where);
      else scope.declare(p.decl.vars[0], value);
    }
    return value;
  }

  private command(cmd: Operand[], dot: unknown, scope: Scope, where: string, piped?: { v: unknown }): unknown {
    const [head, ...rest] = cmd;
    if (head.k === 'fn') {
      if (head.name === 'and' || head.name === 'or') {
        const thunks = rest.map((o) => () => this.operand(o, dot, scope, where));
        if (piped) thunks.push(() => piped.v);
        let last: unknown;
        for (const t of thunks) {
          last = t();
          if (head.name === 'and' ? !truth(last) : truth(last)) return last;
        }
        return last;
      }
      const args = rest.map((o) => this.operand(o, dot, scope, where));
      if (piped) args.push(piped.v);
      return FUNCS[head.name](where, args, this);
    }
    if (rest.length > 0 || piped) throw new ChartError(`${where}: can't give an argument to a non-function`);
    return this.operand(head, dot, scope, where);
  }

  private operand(o: Operand, dot: unknown, scope: Scope, where: string): unknown {
    switch (o.k) {
      case 'lit':
        return o.v;
      case 'pipe':
        return this.pipeline(o.p, dot, scope, where);
      case 'fn':
        return this.command([o], dot, scope, where);
      case 'field': {
        let v = o.base === 'dot' ? dot : scope.get(o.base, where);
        for (const key of o.path) {
          if (v === null || v === undefined) throw new ChartError(`${where}: nil pointer evaluating .${key}`);
          if (!isMap(v)) throw new ChartError(`${where}: can't evaluate field ${key} in a ${kind(v)}`);
          v = Object.prototype.hasOwnProperty.call(v, key) ? v[key] : null;
        }
        return v;
      }
    }
  }
}

// ---- chart ------------------------------------------------------------------------------------------
export interface RenderOptions {
  values?: Map_;
  releaseName?: string;
  namespace?: string;
}

export interface RenderedFile {
  template: string;
  text: string;
}

/** Helm's value coalescing: maps merge recursively, anything else is replaced, null deletes. */
export function mergeValues(base: Map_, over: Map_): Map_ {
  const out: Map_ = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else if (isMap(v) && isMap(out[k])) out[k] = mergeValues(out[k] as Map_, v);
    else out[k] = v;
  }
  return out;
}

const CHART_FIELDS: Record<string, string> = { name: 'Name', version: 'Version', appVersion: 'AppVersion', description: 'Description', type: 'Type', kubeVersion: 'KubeVersion', apiVersion: 'APIVersion', keywords: 'Keywords' };

export function renderChart(dir: string, opts: RenderOptions = {}): RenderedFile[] {
  const meta = YAML.parse(fs.readFileSync(path.join(dir, 'Chart.yaml'), 'utf8'), { version: '1.1' }) as Map_;
  const defaults = YAML.parse(fs.readFileSync(path.join(dir, 'values.yaml'), 'utf8'), { version: '1.1' }) as Map_;
  const values = mergeValues(defaults, opts.values ?? {});
  const schemaFile = path.join(dir, 'values.schema.json');
  if (fs.existsSync(schemaFile)) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as object);
    if (!validate(values)) {
      const lines = (validate.errors ?? []).map((e) => `- ${e.instancePath || '(root)'}: ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
      throw new ChartError(`values don't meet the specifications of the schema(s):\n${lines.join('\n')}`);
    }
  }
  const chart: Map_ = {};
  for (const [k, v] of Object.entries(meta)) if (CHART_FIELDS[k]) chart[CHART_FIELDS[k]] = v;
  const ctx: Map_ = {
    Values: values,
    Chart: chart,
    Release: { Name: opts.releaseName ?? 'callback-proxy', Namespace: opts.namespace ?? 'default', Service: 'Helm', IsInstall: true, IsUpgrade: false, Revision: 1n },
  };
  const tdir = path.join(dir, 'templates');
  const names = fs.readdirSync(tdir).filter((f) => /\.(ya?ml|tpl)$/.test(f)).sort();
  const defines = new Map<string, Node[]>();
  const trees = names.map((f) => ({ f, nodes: parseTemplate(fs.readFileSync(path.join(tdir, f), 'utf8'), `templates/${f}`, defines) }));
  const r = new Renderer(defines);
  const out: RenderedFile[] = [];
  for (const { f, nodes } of trees) {
    if (f.startsWith('_')) continue;
    const scope = new Scope(null);
    scope.declare('$', ctx);
    out.push({ template: `templates/${f}`, text: r.exec(nodes, ctx, scope) });
  }
  return out;
}

/** The rendered objects, parsed the way kubectl and helm parse YAML (1.1: 0440 is octal, yes is true). */
export function manifests(files: RenderedFile[]): Map_[] {
  const objs: Map_[] = [];
  for (const f of files) {
    for (const doc of YAML.parseAllDocuments(f.text, { version: '1.1' })) {
      if (doc.errors.length > 0) throw new ChartError(`${f.template}: invalid YAML: ${doc.errors[0].message}`);
      const v = doc.toJS() as unknown;
      if (v === null || v === undefined) continue;
      if (!isMap(v)) throw new ChartError(`${f.template}: a document is not a mapping`);
      objs.push(v);
    }
  }
  return objs;
}
