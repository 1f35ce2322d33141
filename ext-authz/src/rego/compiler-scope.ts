// Compiler: lexical scopes and variable-name analysis of the AST (which names a body declares,
// mentions or binds by pattern), used by the name resolution in compiler-terms.ts.
import type { Expr, Term, VarTerm } from './ast';
import type { TreeNode } from './compiler-types';

/** A lexical scope: a rule body, a comprehension body or an `every` body. */
export class Scope {
  readonly slots = new Map<string, number>();
  readonly occurs = new Set<string>();
  readonly owned: number[] = [];
  readonly children: Scope[] = [];
  /** `:=` declarations: the index of the declaring expression. */
  readonly assignAt = new Map<string, number>();
  /** Index of the expression being converted (MAX once the body is done). */
  cur = Number.MAX_SAFE_INTEGER;
  constructor(readonly parent: Scope | undefined) {
    parent?.children.push(this);
  }
  /**
   * A name `:=`-declared by a later expression is not visible yet: a comprehension before the
   * declaration has its own variable of that name (OPA scopes `:=` from its position on).
   */
  assignedLater(name: string): boolean {
    return (this.assignAt.get(name) ?? -1) > this.cur;
  }

  /** Slots declared in this scope and every scope nested in it. */
  subtreeSlots(out = new Set<number>()): Set<number> {
    for (const s of this.owned) out.add(s);
    for (const c of this.children) c.subtreeSlots(out);
    return out;
  }
}

export function findNode(root: TreeNode, path: readonly string[]): TreeNode | undefined {
  let n: TreeNode | undefined = root;
  for (const p of path) {
    n = n.children.get(p);
    if (!n) return undefined;
  }
  return n;
}

/** Collects the var names a term uses, not looking inside nested closures. */
export function collectVarNames(t: Term, out: Set<string>): void {
  switch (t.type) {
    case 'var':
      out.add(t.name);
      return;
    case 'ref':
      collectVarNames(t.head, out);
      for (const p of t.path) collectVarNames(p, out);
      return;
    case 'array':
    case 'set':
      for (const x of t.items) collectVarNames(x, out);
      return;
    case 'object':
      for (const [k, v] of t.items) {
        collectVarNames(k, out);
        collectVarNames(v, out);
      }
      return;
    case 'call':
      for (const a of t.args) collectVarNames(a, out);
      return;
    default:
      return;
  }
}

export function exprTerms(e: Expr): Term[] {
  const x = e.expr;
  const ts: Term[] = [];
  switch (x.type) {
    case 'term':
      ts.push(x.term);
      break;
    case 'somedecl':
      break;
    case 'somein':
      if (x.key) ts.push(x.key);
      ts.push(x.value, x.collection);
      break;
    case 'every':
      ts.push(x.domain);
      break;
  }
  for (const w of e.with) ts.push(w.target, w.value);
  return ts;
}

/** Var names bound by a pattern (`[a, {"k": b}]`). */
export function patternVars(t: Term, out: VarTerm[]): void {
  if (t.type === 'var') out.push(t);
  else if (t.type === 'array') for (const x of t.items) patternVars(x, out);
  else if (t.type === 'object') for (const [, v] of t.items) patternVars(v, out);
}

/** `:=` may only bind variables (inside array/object patterns); anything else is an error. */
export function assignTargetError(t: Term): string | undefined {
  switch (t.type) {
    case 'var':
      return undefined;
    case 'array':
      for (const x of t.items) {
        const e = assignTargetError(x);
        if (e) return e;
      }
      return undefined;
    case 'object':
      for (const [, v] of t.items) {
        const e = assignTargetError(v);
        if (e) return e;
      }
      return undefined;
    case 'arraycompr':
    case 'setcompr':
    case 'objectcompr':
      return 'comprehension';
    default:
      return t.type;
  }
}

/** Does an expression mention a var name anywhere (including nested bodies)? */
export function exprMentions(e: Expr, name: string): boolean {
  const x = e.expr;
  if (x.type === 'somedecl') return false;
  const ts = exprTerms(e);
  if (x.type === 'every') {
    if (x.key?.name === name || x.value.name === name) return true;
    if (x.body.some((b) => exprMentions(b, name))) return true;
  }
  return ts.some((t) => termMentions(t, name));
}

function termMentions(t: Term, name: string): boolean {
  switch (t.type) {
    case 'var':
      return t.name === name;
    case 'ref':
      return termMentions(t.head, name) || t.path.some((p) => termMentions(p, name));
    case 'array':
    case 'set':
      return t.items.some((x) => termMentions(x, name));
    case 'object':
      return t.items.some(([k, v]) => termMentions(k, name) || termMentions(v, name));
    case 'call':
      return t.args.some((a) => termMentions(a, name));
    case 'arraycompr':
    case 'setcompr':
      return termMentions(t.term, name) || t.body.some((b) => exprMentions(b, name));
    case 'objectcompr':
      return termMentions(t.key, name) || termMentions(t.value, name) || t.body.some((b) => exprMentions(b, name));
    default:
      return false;
  }
}
