// Executing parsed Go templates with helm's value semantics: Go kinds (float64 values vs int literals),
// truthiness, %v printing, variable scopes, and the Sprig/Helm functions the chart uses.
import YAML from 'yaml';
import type { Node, Operand, Pipeline } from './go-template-parse';

export class ChartError extends Error {}

// ---- values: Go kinds ----------------------------------------------------------------------------
// JS number = Go float64 (every number in values), bigint = Go int (literals, `int`).
export type Map_ = Record<string, unknown>;
export const isMap = (v: unknown): v is Map_ => typeof v === 'object' && v !== null && !Array.isArray(v);

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

/** Every function a template may call (and / or are evaluated lazily by the renderer). */
export const FUNCTION_NAMES: ReadonlySet<string> = new Set([...Object.keys(FUNCS), 'and', 'or']);

// ---- execution ------------------------------------------------------------------------------------
export class Scope {
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

export class Renderer {
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
