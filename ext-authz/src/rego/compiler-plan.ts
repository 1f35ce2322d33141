// Compiler pass 5 (planning for speed): resolves each data ref's constant prefix to its tree node once,
// and marks rule groups whose value cannot change between evaluations (no input, no clock, no `with`).
import { isObject, objGet, type Value } from './value';
import { eachBodyTerm, eachRuleTerm, groupRules, refTargets } from './compiler-checks';
import type { CBody, CRef, CTerm, RuleGroup, TreeNode } from './compiler-types';

/** Sets `start` on a data ref: the deepest tree node (or base value) its constant operands reach. */
export function resolveRef(tree: TreeNode, data: Value | undefined, r: CRef): void {
  let node: TreeNode | null = tree;
  let base: Value | undefined = data;
  let i = 0;
  for (; i < r.path.length; i++) {
    const p = r.path[i];
    if (p.k !== 'val') break;
    if (node) {
      if (node.group || typeof p.v !== 'string') break;
      const child: TreeNode | undefined = node.children.get(p.v);
      base = base !== undefined && isObject(base) ? objGet(base, p.v) : undefined;
      node = child ?? null;
    } else {
      // Left the tree: plain base data from here on (the lookup itself stays at run time).
      break;
    }
  }
  r.start = { node, base, from: i };
}

export function resolveRefsIn(tree: TreeNode, data: Value | undefined, terms: (f: (t: CTerm) => void) => void): void {
  terms((t) => {
    if (t.k === 'ref' && t.root === 'data') resolveRef(tree, data, t);
  });
}

export function resolveProgramRefs(groups: RuleGroup[], tree: TreeNode, data: Value | undefined): void {
  for (const g of groups) for (const r of groupRules(g)) resolveRefsIn(tree, data, (f) => eachRuleTerm(r, f));
}

export function resolveBodyRefs(body: CBody, tree: TreeNode, data: Value | undefined): void {
  resolveRefsIn(tree, data, (f) => eachBodyTerm(body, f));
}

/** Marks constant groups: every term is input-free, deterministic, and reads only constant groups. */
export function markConstants(groups: RuleGroup[], tree: TreeNode): void {
  const state = new Map<RuleGroup, boolean | 'busy'>();
  const isConst = (g: RuleGroup): boolean => {
    const s = state.get(g);
    if (s === 'busy') return false;
    if (s !== undefined) return s;
    state.set(g, 'busy');
    let ok = true;
    for (const r of groupRules(g)) {
      for (const c of r.clauses) for (const e of c.body) if (e.withs) ok = false;
      eachRuleTerm(r, (t) => {
        if (!ok) return;
        if (t.k === 'ref' && t.root === 'input') ok = false;
        else if (t.k === 'ref' && t.root === 'data') {
          for (const d of refTargets(tree, t)) if (!isConst(d)) ok = false;
        } else if (t.k === 'call') {
          if (t.fn.k === 'print') ok = false;
          else if (t.fn.k === 'builtin' && t.fn.spec.nondeterministic) ok = false;
          else if (t.fn.k === 'func' && !isConst(t.fn.group)) ok = false;
        }
      });
    }
    state.set(g, ok);
    return ok;
  };
  for (const g of groups) g.constant = isConst(g) && g.kind !== 'function';
}


// ---- uniform object shapes ----------------------------------------------------------------------
// The interpreter switches on `t.k` / `x.k` of every term and expression. Objects built from different
// literals get different hidden classes, which makes those property loads megamorphic (slow). So
// every compiled term/expression is rebuilt as an instance of one class with all fields present.

class TermNode {
  k: string = '';
  v: unknown = undefined;
  slot = -1;
  name: unknown = undefined;
  loc: unknown = undefined;
  root: unknown = undefined;
  head: unknown = undefined;
  path: unknown = undefined;
  start: unknown = undefined;
  items: unknown = undefined;
  keys: unknown = undefined;
  vals: unknown = undefined;
  term: unknown = undefined;
  body: unknown = undefined;
  locals: unknown = undefined;
  key: unknown = undefined;
  val: unknown = undefined;
  fn: unknown = undefined;
  args: unknown = undefined;
  cmp = 0;
}

const COMPARISONS = new Map([['equal', 1], ['neq', 2], ['lt', 3], ['lte', 4], ['gt', 5], ['gte', 6]]);

class ExprBodyNode {
  k: string = '';
  t: unknown = undefined;
  a: unknown = undefined;
  b: unknown = undefined;
  call: unknown = undefined;
  out: unknown = undefined;
  key: unknown = undefined;
  val: unknown = undefined;
  coll: unknown = undefined;
  domain: unknown = undefined;
  body: unknown = undefined;
  locals: unknown = undefined;
}

class ExprNode {
  e: unknown = undefined;
  neg = false;
  withs: unknown = null;
  loc: unknown = undefined;
}

type Any = Record<string, unknown>;

export function shapeTerm(t: CTerm): CTerm {
  const src = t as unknown as Any;
  const out = new TermNode() as unknown as Any;
  for (const key of Object.keys(src)) {
    const v = src[key];
    switch (key) {
      case 'head':
      case 'term':
      case 'key':
      case 'val':
        out[key] = v === undefined ? undefined : shapeTerm(v as CTerm);
        break;
      case 'path':
      case 'items':
      case 'keys':
      case 'vals':
      case 'args':
        out[key] = (v as CTerm[]).map(shapeTerm);
        break;
      case 'body':
        out[key] = shapeBody(v as CBody);
        break;
      default:
        out[key] = v;
    }
  }
  if (t.k === 'call' && t.fn.k === 'builtin' && t.args.length === 2) out.cmp = COMPARISONS.get(t.fn.spec.name) ?? 0;
  return out as unknown as CTerm;
}

export function shapeBody(b: CBody): CBody {
  return b.map((e) => {
    const n = new ExprNode() as unknown as Any;
    n.neg = e.neg;
    n.loc = e.loc;
    n.withs = e.withs === null ? null : e.withs.map((w) => ({ ...w, value: w.value === undefined ? undefined : shapeTerm(w.value) }));
    const x = new ExprBodyNode() as unknown as Any;
    for (const [key, v] of Object.entries(e.e)) {
      if (key === 'k' || key === 'locals') x[key] = v;
      else if (key === 'body') x[key] = shapeBody(v as CBody);
      else x[key] = v === undefined ? undefined : shapeTerm(v as CTerm);
    }
    n.e = x;
    return n as unknown as CBody[number];
  });
}

/** Rebuilds every rule's terms and bodies with uniform shapes. */
export function shapeProgram(groups: RuleGroup[]): void {
  for (const g of groups) {
    for (const r of groupRules(g)) {
      r.clauses = r.clauses.map((c) => ({ body: shapeBody(c.body), value: shapeTerm(c.value), loc: c.loc }));
      if (r.keys) r.keys = r.keys.map(shapeTerm);
      if (r.args) r.args = r.args.map(shapeTerm);
    }
  }
}
