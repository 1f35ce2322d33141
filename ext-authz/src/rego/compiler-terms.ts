// Compiler pass 2: turns one rule's (or query's) AST into compiled terms — names resolved to frame
// slots, import aliases, rule refs, input/data roots and call targets (Rego reference: "Variables",
// "Imports", "Functions"). Scoping: `some`/`:=`/args declare; other names are rules, imports or free vars.
import type { Body, Expr, Term, VarTerm, Loc, With } from './ast';
import { Scope, assignTargetError, collectVarNames, exprMentions, exprTerms, findNode, patternVars } from './compiler-scope';
import { RegoError } from './errors';
import { makeObject, RegoSet, type Value } from './value';
import type { BuiltinRegistry, BuiltinSpec } from './builtins/registry';
import type { CallTarget, CBody, CCall, CExpr, CRef, CTerm, CWith, TreeNode } from './compiler-types';

/** What a module-level name refers to. */
export interface ImportTarget {
  root: 'data' | 'input';
  path: string[];
}

/** Module context shared by all rules of one module. */
export interface ModuleEnv {
  pkg: string[];
  imports: Map<string, ImportTarget>;
  tree: TreeNode;
  registry: BuiltinRegistry;
  core: Map<string, BuiltinSpec>;
  v1: boolean;
  errors: RegoError[];
}

/** Converts the bodies and head terms of one rule or query, allocating frame slots. */
export class RuleCompiler {
  nslots = 0;

  constructor(private readonly env: ModuleEnv) {}

  private err(code: 'rego_compile_error' | 'rego_type_error', msg: string, loc: Loc): void {
    this.env.errors.push(new RegoError(code, msg, loc));
  }

  /** Declares a name in `s` (a fresh slot). */
  declare(s: Scope, name: string): number {
    const slot = this.nslots++;
    s.slots.set(name, slot);
    s.owned.push(slot);
    return slot;
  }

  /**
   * Opens a scope for a body: declarations (`some`, `:=` targets, `some ... in` patterns) get slots
   * now, so they shadow rules; other names are recorded as occurring here.
   */
  openScope(parent: Scope | undefined, body: Body, extra: Term[] = []): Scope {
    const s = new Scope(parent);
    const assigned = new Set<string>();
    const seen = new Set<string>();
    for (const [index, e] of body.entries()) {
      const x = e.expr;
      if (x.type === 'somedecl') {
        for (const v of x.vars) if (!s.slots.has(v.name)) this.declare(s, v.name);
      } else if (x.type === 'somein') {
        const vs: VarTerm[] = [];
        if (x.key) patternVars(x.key, vs);
        patternVars(x.value, vs);
        for (const v of vs) if (v.name !== '_' && !s.slots.has(v.name)) this.declare(s, v.name);
      } else if (x.type === 'term' && x.term.type === 'call' && x.term.op === 'assign') {
        if (e.negated) this.err('rego_compile_error', 'cannot assign vars inside negated expression', e.loc);
        const bad = assignTargetError(x.term.args[0]);
        if (bad) this.err('rego_compile_error', `cannot assign to ${bad}`, x.term.loc);
        const vs: VarTerm[] = [];
        patternVars(x.term.args[0], vs);
        for (const v of vs) {
          if (v.name === '_') continue;
          if (seen.has(v.name) && !this.isGlobalName(v.name)) {
            this.err('rego_compile_error', `var ${v.name} referenced above`, v.loc);
            continue;
          }
          if (v.name === 'input' || v.name === 'data') {
            this.err('rego_compile_error', `variables must not shadow ${v.name} (use a different variable name)`, v.loc);
            continue;
          }
          if (assigned.has(v.name) || (parent === undefined ? false : this.isArg(parent, v.name))) {
            this.err('rego_compile_error', `var ${v.name} assigned above`, v.loc);
            continue;
          }
          assigned.add(v.name);
          s.assignAt.set(v.name, index);
          if (!s.slots.has(v.name)) this.declare(s, v.name);
        }
      }
      for (const t of exprTerms(e)) collectVarNames(t, s.occurs);
      for (const t of exprTerms(e)) collectVarNames(t, seen);
    }
    for (const t of extra) collectVarNames(t, s.occurs);
    this.checkUnusedSome(body, s);
    return s;
  }

  private argScopes = new WeakSet<Scope>();
  markArgScope(s: Scope): void {
    this.argScopes.add(s);
  }
  private isArg(s: Scope, name: string): boolean {
    return this.argScopes.has(s) && s.slots.has(name);
  }

  private checkUnusedSome(body: Body, s: Scope): void {
    for (const e of body) {
      if (e.expr.type !== 'somedecl') continue;
      for (const v of e.expr.vars) {
        let used = false;
        for (const o of body) if (o !== e && exprMentions(o, v.name)) used = true;
        if (!used) this.err('rego_compile_error', `declared var ${v.name} unused`, v.loc);
      }
    }
  }

  private isGlobalName(name: string): boolean {
    return this.env.imports.has(name) || !!findNode(this.env.tree, this.env.pkg)?.children.has(name);
  }

  /** Is `name` a module-level name (import alias, rule of this package, input/data)? */
  private globalRef(name: string, loc: Loc): CRef | undefined {
    if (name === 'input') return { k: 'ref', root: 'input', path: [], loc };
    if (name === 'data') return { k: 'ref', root: 'data', path: [], loc };
    const imp = this.env.imports.get(name);
    if (imp) return { k: 'ref', root: imp.root, path: imp.path.map((p) => ({ k: 'val', v: p })), loc };
    const pkgNode = findNode(this.env.tree, this.env.pkg);
    if (pkgNode && pkgNode.children.has(name)) {
      return { k: 'ref', root: 'data', path: [...this.env.pkg, name].map((p) => ({ k: 'val', v: p })), loc };
    }
    return undefined;
  }

  private lookupLocal(s: Scope, name: string): number | undefined {
    for (let c: Scope | undefined = s; c; c = c.parent) {
      const slot = c.slots.get(name);
      if (slot !== undefined && !(c !== s && c.assignedLater(name))) return slot;
    }
    return undefined;
  }

  /** Resolves a variable: local slot, module-level ref, or a new free local in its outermost scope. */
  resolveVar(v: VarTerm, s: Scope): CTerm {
    if (v.name === '_') {
      const slot = this.nslots++;
      s.owned.push(slot);
      return { k: 'var', slot, name: '_', loc: v.loc };
    }
    const local = this.lookupLocal(s, v.name);
    if (local !== undefined) return { k: 'var', slot: local, name: v.name, loc: v.loc };
    const g = this.globalRef(v.name, v.loc);
    if (g) return g;
    let owner = s;
    for (let c: Scope | undefined = s; c; c = c.parent) if (c.occurs.has(v.name) && !c.assignedLater(v.name)) owner = c;
    return { k: 'var', slot: this.declare(owner, v.name), name: v.name, loc: v.loc };
  }

  term(t: Term, s: Scope): CTerm {
    switch (t.type) {
      case 'null':
        return { k: 'val', v: null };
      case 'boolean':
      case 'number':
      case 'string':
        return { k: 'val', v: t.value };
      case 'var':
        return this.resolveVar(t, s);
      case 'ref':
        return this.ref(t.head, t.path, s, t.loc);
      case 'array': {
        const items = t.items.map((x) => this.term(x, s));
        return items.every(isVal) ? { k: 'val', v: items.map(valOf) } : { k: 'arr', items };
      }
      case 'set': {
        const items = t.items.map((x) => this.term(x, s));
        return items.every(isVal) ? { k: 'val', v: new RegoSet(items.map(valOf)) } : { k: 'set', items };
      }
      case 'object': {
        const keys = t.items.map(([k]) => this.term(k, s));
        const vals = t.items.map(([, v]) => this.term(v, s));
        if (keys.every(isVal) && vals.every(isVal)) {
          return { k: 'val', v: makeObject(keys.map((k, i) => [valOf(k), valOf(vals[i])] as [Value, Value])) };
        }
        return { k: 'obj', keys, vals };
      }
      case 'arraycompr':
      case 'setcompr': {
        const cs = this.openScope(s, t.body, [t.term]);
        const body = this.body(t.body, cs);
        const term = this.term(t.term, cs);
        return { k: t.type === 'arraycompr' ? 'acomp' : 'scomp', term, body, locals: cs.subtreeSlots() };
      }
      case 'objectcompr': {
        const cs = this.openScope(s, t.body, [t.key, t.value]);
        const body = this.body(t.body, cs);
        const key = this.term(t.key, cs);
        const val = this.term(t.value, cs);
        return { k: 'ocomp', key, val, body, locals: cs.subtreeSlots() };
      }
      case 'call': {
        if (t.op === 'eq' || t.op === 'assign') {
          this.err('rego_compile_error', `${t.op === 'eq' ? '=' : ':='} cannot be used as a value`, t.loc);
          return { k: 'val', v: null };
        }
        return this.call(t.op, t.args, s, t.loc, false) as CTerm;
      }
    }
  }

  private ref(head: Term, path: Term[], s: Scope, loc: Loc): CTerm {
    const ops = path.map((p) => this.term(p, s));
    if (head.type === 'var') {
      const h = this.resolveVar(head, s);
      if (h.k === 'ref') return { k: 'ref', root: h.root, head: h.head, path: [...h.path, ...ops], loc };
      return { k: 'ref', root: 'term', head: h, path: ops, loc };
    }
    return { k: 'ref', root: 'term', head: this.term(head, s), path: ops, loc };
  }

  /** Resolves a call's target by name; `allowOut` permits one extra (output) argument. */
  call(op: string, args: Term[], s: Scope, loc: Loc, allowOut: boolean): CCall | { call: CCall; out: Term } {
    const fn = this.resolveFunction(op, s, loc);
    const bad: CCall = { k: 'call', fn: { k: 'print', key: 'print' }, args: [], loc };
    if (!fn) return bad;
    let arity: number | undefined;
    if (fn.k === 'builtin') arity = fn.spec.variadic ? undefined : fn.spec.args.length;
    else if (fn.k === 'func') arity = fn.group.arity;
    if (arity !== undefined && args.length !== arity) {
      if (allowOut && args.length === arity + 1) {
        const call: CCall = { k: 'call', fn, args: args.slice(0, arity).map((a) => this.term(a, s)), loc };
        return { call, out: args[arity] };
      }
      this.err('rego_type_error', `${op}: arity mismatch`, loc);
      return bad;
    }
    return { k: 'call', fn, args: args.map((a) => this.term(a, s)), loc };
  }

  resolveFunction(op: string, s: Scope, loc: Loc, quiet = false): CallTarget | undefined {
    const parts = op.split('.');
    const head = parts[0];
    const fail = (): undefined => {
      if (!quiet) this.err('rego_type_error', `undefined function ${op}`, loc);
      return undefined;
    };
    if (this.lookupLocal(s, head) !== undefined) return fail();
    let path: string[] | undefined;
    const imp = this.env.imports.get(head);
    if (imp && imp.root === 'data') path = [...imp.path, ...parts.slice(1)];
    else if (head === 'data') path = parts.slice(1);
    if (path) {
      const node = findNode(this.env.tree, path);
      if (node?.group?.kind === 'function') return { k: 'func', group: node.group, key: 'data.' + path.join('.') };
      return fail();
    }
    const local = findNode(this.env.tree, [...this.env.pkg, ...parts]);
    if (local?.group?.kind === 'function') {
      return { k: 'func', group: local.group, key: 'data.' + local.path.join('.') };
    }
    if (op === 'print') return { k: 'print', key: 'print' };
    const spec = this.env.core.get(op) ?? this.env.registry.get(op);
    if (spec) {
      if (spec.deprecated && this.env.v1 && !quiet) {
        this.err('rego_type_error', `deprecated built-in function calls in expression: ${op}`, loc);
      }
      return { k: 'builtin', spec, key: op };
    }
    return fail();
  }

  body(body: Body, s: Scope): CBody {
    const out: CBody = [];
    for (const [i, e] of body.entries()) {
      s.cur = i;
      out.push(this.expr(e, s));
    }
    s.cur = Number.MAX_SAFE_INTEGER;
    return out;
  }

  private expr(e: Expr, s: Scope): CExpr {
    const withs = e.with.length ? e.with.map((w) => this.with(w, s)) : null;
    return { e: this.exprBody(e, s), neg: e.negated, withs, loc: e.loc };
  }

  private exprBody(e: Expr, s: Scope): CExpr['e'] {
    const x = e.expr;
    switch (x.type) {
      case 'somedecl':
        return { k: 'noop' };
      case 'somein':
        return {
          k: 'somein',
          key: x.key ? this.term(x.key, s) : undefined,
          val: this.term(x.value, s),
          coll: this.term(x.collection, s),
        };
      case 'every': {
        const es = new Scope(s);
        if (x.key) this.declare(es, x.key.name);
        this.declare(es, x.value.name);
        for (const b of x.body) for (const t of exprTerms(b)) collectVarNames(t, es.occurs);
        for (const v of x.key ? [x.key, x.value] : [x.value]) {
          if (v.name !== '_' && !x.body.some((b) => exprMentions(b, v.name))) {
            this.err('rego_compile_error', `declared var ${v.name} unused`, v.loc);
          }
        }
        const inner = this.openScopeInto(es, x.body);
        const key = x.key ? this.term(x.key, inner) : undefined;
        const val = this.term(x.value, inner);
        const ebody = this.body(x.body, inner);
        return { k: 'every', key, val, domain: this.term(x.domain, s), body: ebody, locals: es.subtreeSlots() };
      }
      case 'term': {
        const t = x.term;
        if (t.type === 'call' && (t.op === 'eq' || t.op === 'assign') && t.args.length === 2) {
          return { k: 'unify', a: this.term(t.args[0], s), b: this.term(t.args[1], s) };
        }
        if (t.type === 'call') {
          const c = this.call(t.op, t.args, s, t.loc, true);
          if ('out' in c) return { k: 'callout', call: c.call, out: this.term(c.out, s) };
          return { k: 'term', t: c };
        }
        return { k: 'term', t: this.term(t, s) };
      }
    }
  }

  /** `every` bodies: the every-scope already holds key/value; the body's own declarations nest inside. */
  private openScopeInto(es: Scope, body: Body): Scope {
    return this.openScope(es, body);
  }

  private with(w: With, s: Scope): CWith {
    const t = w.target;
    let head: string | undefined;
    const names: string[] = [];
    let dotted = true;
    if (t.type === 'var') head = t.name;
    else if (t.type === 'ref' && t.head.type === 'var') {
      head = t.head.name;
      for (const p of t.path) {
        if (p.type === 'string') names.push(p.value);
        else dotted = false;
      }
    }
    const bad = (): CWith => {
      this.err('rego_type_error', 'with keyword target must reference existing input, data, or a function', w.loc);
      return { k: 'input', path: [], value: { k: 'val', v: null } };
    };
    if (head === undefined || !dotted) return bad();
    if (head === 'input') return { k: 'input', path: names, value: this.term(w.value, s) };
    if (head === 'data') {
      const node = findNode(this.env.tree, names);
      if (!(node?.group?.kind === 'function')) return { k: 'data', path: names, value: this.term(w.value, s) };
    }
    const fn = this.resolveFunction([head, ...names].join('.'), s, w.loc, true);
    if (!fn) {
      // `with p as v` where p is a rule of this package (or an import) mocks a data path.
      const g = this.globalRef(head, w.loc);
      if (g && g.root === 'data') {
        const base = g.path.map((p) => (p as { v: string }).v);
        return { k: 'data', path: [...base, ...names], value: this.term(w.value, s) };
      }
      if (g && g.root === 'input') {
        const base = g.path.map((p) => (p as { v: string }).v);
        return { k: 'input', path: [...base, ...names], value: this.term(w.value, s) };
      }
      return bad();
    }
    // The replacement: another function (by name) or a value.
    const v = w.value;
    let target: CallTarget | undefined;
    if (v.type === 'var' && this.lookupLocal(s, v.name) === undefined) target = this.resolveFunction(v.name, s, w.loc, true);
    else if (v.type === 'ref' && v.head.type === 'var' && v.path.every((p) => p.type === 'string')) {
      const name = [v.head.name, ...v.path.map((p) => (p as { value: string }).value)].join('.');
      target = this.resolveFunction(name, s, w.loc, true);
    }
    if (target) return { k: 'fn', key: fn.key, value: undefined, target };
    return { k: 'fn', key: fn.key, value: this.term(v, s), target: undefined };
  }
}

function isVal(t: CTerm): t is { k: 'val'; v: Value } {
  return t.k === 'val';
}
function valOf(t: CTerm): Value {
  return (t as { v: Value }).v;
}

