// Compile-time checks OPA reports: recursion between rules (rego_recursion_error) and the type errors
// its checker finds without running anything (literal builtin operands, refs into constant values).
import { RegoError } from './errors';
import { equals, isObject, objGet, typeName, type Value, type TypeName } from './value';
import { matchesType, type TypeDesc } from './builtins/registry';
import type { CBody, CExpr, CRef, CRule, CTerm, RuleGroup, TreeNode } from './compiler-types';

// ---- generic walkers ----------------------------------------------------------------------------

export function eachTerm(t: CTerm, f: (t: CTerm) => void): void {
  f(t);
  switch (t.k) {
    case 'ref':
      if (t.head) eachTerm(t.head, f);
      for (const p of t.path) eachTerm(p, f);
      return;
    case 'arr':
    case 'set':
      for (const x of t.items) eachTerm(x, f);
      return;
    case 'obj':
      t.keys.forEach((x) => eachTerm(x, f));
      t.vals.forEach((x) => eachTerm(x, f));
      return;
    case 'call':
      for (const a of t.args) eachTerm(a, f);
      return;
    case 'acomp':
    case 'scomp':
      eachTerm(t.term, f);
      eachBodyTerm(t.body, f);
      return;
    case 'ocomp':
      eachTerm(t.key, f);
      eachTerm(t.val, f);
      eachBodyTerm(t.body, f);
      return;
    default:
      return;
  }
}

function exprTerms(e: CExpr): CTerm[] {
  const x = e.e;
  const out: CTerm[] = [];
  switch (x.k) {
    case 'term':
      out.push(x.t);
      break;
    case 'unify':
      out.push(x.a, x.b);
      break;
    case 'callout':
      out.push(x.call, x.out);
      break;
    case 'somein':
      if (x.key) out.push(x.key);
      out.push(x.val, x.coll);
      break;
    case 'every':
      if (x.key) out.push(x.key);
      out.push(x.val, x.domain);
      break;
    case 'noop':
      break;
  }
  if (e.withs) for (const w of e.withs) if (w.value) out.push(w.value);
  return out;
}

export function eachBodyTerm(b: CBody, f: (t: CTerm) => void): void {
  for (const e of b) {
    for (const t of exprTerms(e)) eachTerm(t, f);
    if (e.e.k === 'every') eachBodyTerm(e.e.body, f);
  }
}

export function eachRuleTerm(r: CRule, f: (t: CTerm) => void): void {
  for (const c of r.clauses) {
    eachBodyTerm(c.body, f);
    eachTerm(c.value, f);
  }
  for (const k of r.keys ?? []) eachTerm(k, f);
  for (const a of r.args ?? []) eachTerm(a, f);
}

export function groupRules(g: RuleGroup): CRule[] {
  return g.defaultRule ? [...g.rules, g.defaultRule] : g.rules;
}

// ---- recursion ----------------------------------------------------------------------------------

function subtreeGroups(n: TreeNode, out: RuleGroup[]): void {
  if (n.group) out.push(n.group);
  for (const c of n.children.values()) subtreeGroups(c, out);
}

/** The rule groups a data ref may read. */
export function refTargets(tree: TreeNode, r: CRef): RuleGroup[] {
  let n: TreeNode | undefined = tree;
  for (const p of r.path) {
    if (n.group && n.children.size === 0) return [n.group];
    if (n.group) break;
    if (p.k !== 'val') break;
    if (typeof p.v !== 'string') return [];
    n = n.children.get(p.v);
    if (!n) return [];
  }
  const out: RuleGroup[] = [];
  subtreeGroups(n, out);
  return out;
}

export function checkRecursion(groups: RuleGroup[], tree: TreeNode, errors: RegoError[]): void {
  const deps = new Map<RuleGroup, Set<RuleGroup>>();
  for (const g of groups) {
    const ds = new Set<RuleGroup>();
    for (const r of groupRules(g)) {
      eachRuleTerm(r, (t) => {
        if (t.k === 'ref' && t.root === 'data') for (const d of refTargets(tree, t)) ds.add(d);
        else if (t.k === 'call' && t.fn.k === 'func') ds.add(t.fn.group);
      });
    }
    deps.set(g, ds);
  }
  for (const g of groups) {
    const cycle = findCycle(g, deps);
    if (cycle) {
      const loc = (g.rules[0] ?? g.defaultRule)!.loc;
      errors.push(new RegoError('rego_recursion_error', `rule ${g.name} is recursive: ${cycle.map((x) => x.name).join(' -> ')}`, loc));
    }
  }
}

/** Shortest path g -> ... -> g, if any. */
function findCycle(g: RuleGroup, deps: Map<RuleGroup, Set<RuleGroup>>): RuleGroup[] | undefined {
  const prev = new Map<RuleGroup, RuleGroup>();
  const queue: RuleGroup[] = [g];
  const seen = new Set<RuleGroup>();
  while (queue.length) {
    const cur = queue.shift()!;
    for (const d of deps.get(cur) ?? []) {
      if (d === g) {
        const path = [g];
        for (let c: RuleGroup | undefined = cur; c && c !== g; c = prev.get(c)) path.unshift(c);
        path.unshift(g);
        return path;
      }
      if (!seen.has(d)) {
        seen.add(d);
        prev.set(d, cur);
        queue.push(d);
      }
    }
  }
  return undefined;
}

// ---- types --------------------------------------------------------------------------------------

/** A complete rule's value when every definition is a constant; undefined if unknown. */
function constGroupValue(g: RuleGroup): Value | undefined {
  if (g.kind !== 'complete' || g.rules.length !== 1 || g.defaultRule) return undefined;
  return g.rules[0].constValue;
}

function fits(t: TypeName, d: TypeDesc): boolean {
  if (d === 'any') return true;
  if (typeof d === 'string') return t === d;
  if ('anyOf' in d) return d.anyOf.some((x) => fits(t, x));
  if ('array' in d) return t === 'array';
  if ('set' in d) return t === 'set';
  return t === 'object';
}

/**
 * The type of a package document that holds functions: OPA's checker gives such a document a type no
 * builtin operand accepts (functions are not values), so `count(data.lib)` is a type error.
 */
const FUNCTION_PKG = 'function-package' as TypeName;

function refsPackageWithFunctions(tree: TreeNode, r: CRef): boolean {
  let n: TreeNode | undefined = tree;
  for (const p of r.path) {
    if (!n || n.group || p.k !== 'val' || typeof p.v !== 'string') return false;
    n = n.children.get(p.v);
  }
  if (!n || n.group) return false;
  const groups: RuleGroup[] = [];
  subtreeGroups(n, groups);
  return groups.some((g) => g.kind === 'function');
}

function staticType(t: CTerm, vars: Map<number, TypeName>, tree: TreeNode): TypeName | undefined {
  switch (t.k) {
    case 'val':
      return typeName(t.v);
    case 'var':
      return vars.get(t.slot);
    case 'arr':
    case 'acomp':
      return 'array';
    case 'obj':
    case 'ocomp':
      return 'object';
    case 'set':
    case 'scomp':
      return 'set';
    case 'call':
      if (t.fn.k === 'builtin' && typeof t.fn.spec.result === 'string' && t.fn.spec.result !== 'any') {
        return t.fn.spec.result;
      }
      return undefined;
    case 'ref': {
      if (t.root !== 'data' || !t.path.every((p) => p.k === 'val')) return undefined;
      if (refsPackageWithFunctions(tree, t)) return FUNCTION_PKG;
      const v = constRefValue(tree, t);
      return v === undefined ? undefined : typeName(v);
    }
  }
}

function constRefValue(tree: TreeNode, r: CRef): Value | undefined {
  let n: TreeNode | undefined = tree;
  let i = 0;
  for (; i < r.path.length && n && !n.group; i++) {
    const p = r.path[i];
    n = p.k === 'val' && typeof p.v === 'string' ? n.children.get(p.v) : undefined;
  }
  if (!n?.group) return undefined;
  let v = constGroupValue(n.group);
  for (; i < r.path.length && v !== undefined; i++) {
    const p = r.path[i];
    if (p.k !== 'val' || !isObject(v)) return undefined;
    v = objGet(v, p.v);
  }
  return v;
}

/**
 * A ref that walks into a constant rule value where no such key (or no such structure) exists:
 * OPA's type checker rejects it (`undefined ref: data.t.q.b`).
 */
function checkRef(tree: TreeNode, r: CRef, errors: RegoError[]): void {
  if (r.root !== 'data') return;
  let n: TreeNode | undefined = tree;
  let i = 0;
  for (; i < r.path.length && n && !n.group; i++) {
    const p = r.path[i];
    if (p.k !== 'val' || typeof p.v !== 'string') return;
    n = n.children.get(p.v);
  }
  if (!n?.group) return;
  let v = constGroupValue(n.group);
  const names = [...n.group.path];
  if (v === undefined) {
    // Not constant, but maybe an object literal with constant keys: those keys are all there is.
    const g = n.group;
    if (g.kind !== 'complete' || g.rules.length !== 1 || g.defaultRule || g.rules[0].clauses.length !== 1) return;
    let term: CTerm = g.rules[0].clauses[0].value;
    for (; i < r.path.length; i++) {
      const p = r.path[i];
      if (p.k !== 'val' || term.k !== 'obj' || !term.keys.every((k) => k.k === 'val')) return;
      names.push(typeof p.v === 'string' ? p.v : JSON.stringify(p.v));
      const idx = term.keys.findIndex((k) => k.k === 'val' && equals(k.v, p.v));
      if (idx < 0) {
        errors.push(new RegoError('rego_type_error', `undefined ref: data.${names.join('.')}`, r.loc));
        return;
      }
      term = term.vals[idx];
      if (term.k === 'val') {
        v = term.v;
        i++;
        break;
      }
    }
    if (v === undefined) return;
  }
  for (; i < r.path.length; i++) {
    const p = r.path[i];
    if (p.k !== 'val') return;
    names.push(typeof p.v === 'string' ? p.v : JSON.stringify(p.v));
    const scalar = v === null || typeof v !== 'object';
    if (scalar || (isObject(v) && typeof p.v === 'string' && objGet(v, p.v) === undefined)) {
      errors.push(new RegoError('rego_type_error', `undefined ref: data.${names.join('.')}`, r.loc));
      return;
    }
    if (!isObject(v)) return;
    v = objGet(v, p.v);
    if (v === undefined) return;
  }
}

function checkBody(body: CBody, tree: TreeNode, errors: RegoError[], vars: Map<number, TypeName>): void {
  for (const e of body) {
    const x = e.e;
    for (const t of exprTerms(e)) checkTerm(t, tree, errors, vars);
    if (x.k === 'every') checkBody(x.body, tree, errors, vars);
    checkIteration(e, vars, tree, errors);
    if (x.k === 'unify' && !e.neg) {
      if (x.a.k === 'var' && !vars.has(x.a.slot)) {
        const ty = staticType(x.b, vars, tree);
        if (ty) vars.set(x.a.slot, ty);
      }
    }
  }
}

/** `some x in "abc"`: iterating a known scalar is a type error ("match error"). */
function checkIteration(e: CExpr, vars: Map<number, TypeName>, tree: TreeNode, errors: RegoError[]): void {
  const x = e.e;
  if (x.k !== 'somein' && x.k !== 'every') return;
  const ty = staticType(x.k === 'somein' ? x.coll : x.domain, vars, tree);
  if (ty && ty !== 'array' && ty !== 'object' && ty !== 'set') errors.push(new RegoError('rego_type_error', 'match error', e.loc));
}

/** A user function called with a constant that no definition's argument pattern can match. */
function checkFuncArgs(u: CTerm & { k: 'call' }, errors: RegoError[]): void {
  if (u.fn.k !== 'func') return;
  const rules = groupRules(u.fn.group);
  for (let i = 0; i < u.args.length; i++) {
    const a = u.args[i];
    if (a.k !== 'val') continue;
    const v = a.v;
    const mismatch = rules.every((r) => {
      const p = r.args?.[i];
      return p?.k === 'arr' && (!Array.isArray(v) || v.length !== p.items.length);
    });
    if (rules.length && mismatch) {
      errors.push(new RegoError('rego_type_error', `${u.fn.key}: invalid argument(s)`, u.loc));
      return;
    }
  }
}

function checkTerm(t: CTerm, tree: TreeNode, errors: RegoError[], vars: Map<number, TypeName>): void {
  eachTerm(t, (u) => {
    if (u.k === 'acomp' || u.k === 'scomp' || u.k === 'ocomp') for (const e of u.body) checkIteration(e, vars, tree, errors);
    if (u.k === 'call') checkFuncArgs(u, errors);
    if (u.k === 'ref') checkRef(tree, u, errors);
    else if (u.k === 'call' && u.fn.k === 'builtin' && !u.fn.spec.variadic) {
      const spec = u.fn.spec;
      for (let i = 0; i < u.args.length && i < spec.args.length; i++) {
        const a = u.args[i];
        const ty = staticType(a, vars, tree);
        if (a.k === 'val' ? !matchesType(a.v, spec.args[i]) : ty && !fits(ty, spec.args[i])) {
          errors.push(new RegoError('rego_type_error', `${spec.name}: invalid argument(s)`, u.loc));
          return;
        }
      }
    }
  });
}

export function checkTypes(groups: RuleGroup[], tree: TreeNode, errors: RegoError[]): void {
  for (const g of groups) {
    for (const r of groupRules(g)) {
      for (const c of r.clauses) {
        const vars = new Map<number, TypeName>();
        checkBody(c.body, tree, errors, vars);
        checkTerm(c.value, tree, errors, vars);
      }
      for (const k of r.keys ?? []) checkTerm(k, tree, errors, new Map());
    }
  }
}

/** Queries get the ref check too (`data.t.p.b` into a constant `p`). */
export function checkQueryRefs(body: CBody, tree: TreeNode, errors: RegoError[]): void {
  checkBody(body, tree, errors, new Map());
}
