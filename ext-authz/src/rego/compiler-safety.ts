// Compiler pass 3: safety (Rego reference "Safety"): every variable must be bound by some expression
// before it is used; expressions are reordered so producers run first, else rego_unsafe_var_error.
import { RegoError } from './errors';
import type { CBody, CExpr, CTerm } from './compiler-types';
import type { Loc } from './ast';

interface VarUse {
  slot: number;
  name: string;
  loc: Loc;
}

/** Collects variable uses. `needs`: must be bound before; `binds`: may be bound by evaluation. */
class Uses {
  needs: VarUse[] = [];
  binds: VarUse[] = [];
}

function varUse(t: { slot: number; name: string; loc: Loc }): VarUse {
  return { slot: t.slot, name: t.name, loc: t.loc };
}

/** A term in value position: its vars are needed, except ref operands, which iterate (bind). */
function valueUses(t: CTerm, u: Uses): void {
  switch (t.k) {
    case 'val':
      return;
    case 'var':
      u.needs.push(varUse(t));
      return;
    case 'ref':
      if (t.head) valueUses(t.head, u);
      for (const p of t.path) operandUses(p, u);
      return;
    case 'arr':
    case 'set':
      for (const x of t.items) valueUses(x, u);
      return;
    case 'obj':
      for (const x of t.keys) valueUses(x, u);
      for (const x of t.vals) valueUses(x, u);
      return;
    case 'call':
      for (const a of t.args) valueUses(a, u);
      return;
    case 'acomp':
    case 'scomp':
    case 'ocomp':
      closureUses(t, t.locals, u);
      return;
  }
}

/** Ref operands: a var (or a pattern of vars) there is bound by iterating the collection. */
function operandUses(t: CTerm, u: Uses): void {
  if (t.k === 'var') u.binds.push(varUse(t));
  else if (t.k === 'arr') for (const x of t.items) operandUses(x, u);
  else if (t.k === 'obj') {
    for (const x of t.keys) valueUses(x, u);
    for (const x of t.vals) operandUses(x, u);
  } else valueUses(t, u);
}

/** Unification patterns: vars in array/object positions can be bound. */
function patternUses(t: CTerm, u: Uses): void {
  if (t.k === 'var') u.binds.push(varUse(t));
  else if (t.k === 'arr') for (const x of t.items) patternUses(x, u);
  else if (t.k === 'obj') {
    for (const x of t.keys) valueUses(x, u);
    for (const x of t.vals) patternUses(x, u);
  } else valueUses(t, u);
}

/** Vars of a comprehension/every that are not its own locals are captured: needed from outside. */
function closureUses(t: CTerm | CExpr, locals: Set<number>, u: Uses): void {
  const all = new Uses();
  if ('k' in t) {
    if (t.k === 'acomp' || t.k === 'scomp') {
      allUses(t.term, all);
      bodyUses(t.body, all);
    } else if (t.k === 'ocomp') {
      allUses(t.key, all);
      allUses(t.val, all);
      bodyUses(t.body, all);
    }
  } else if (t.e.k === 'every') {
    bodyUses(t.e.body, all);
    if (t.e.key) allUses(t.e.key, all);
    allUses(t.e.val, all);
  }
  for (const v of [...all.needs, ...all.binds]) if (!locals.has(v.slot)) u.needs.push(v);
}

function allUses(t: CTerm, u: Uses): void {
  const x = new Uses();
  valueUses(t, x);
  u.needs.push(...x.needs, ...x.binds);
}

function bodyUses(b: CBody, u: Uses): void {
  for (const e of b) {
    const x = exprUses(e);
    u.needs.push(...x.needs, ...x.binds);
  }
}

function exprUses(e: CExpr): Uses {
  const u = new Uses();
  const x = e.e;
  switch (x.k) {
    case 'term':
      valueUses(x.t, u);
      break;
    case 'unify':
      patternUses(x.a, u);
      patternUses(x.b, u);
      break;
    case 'callout':
      for (const a of x.call.args) valueUses(a, u);
      patternUses(x.out, u);
      break;
    case 'somein':
      valueUses(x.coll, u);
      if (x.key) patternUses(x.key, u);
      patternUses(x.val, u);
      break;
    case 'every':
      valueUses(x.domain, u);
      closureUses(e, x.locals, u);
      break;
    case 'noop':
      break;
  }
  if (e.withs) {
    for (const w of e.withs) if (w.value) valueUses(w.value, u);
  }
  if (e.neg) {
    // Under `not`, nothing is bound for later: every var must already be bound.
    u.needs.push(...u.binds);
    u.binds = [];
  }
  return u;
}

/** Can unification of a and b run with the vars in `bound`? One side must end up ground. */
function groundish(t: CTerm, bound: Set<number>): boolean {
  if (t.k === 'var') return bound.has(t.slot);
  if (t.k === 'arr') return t.items.every((x) => groundish(x, bound));
  if (t.k === 'obj') return t.vals.every((x) => groundish(x, bound));
  return true;
}

function canUnify(a: CTerm, b: CTerm, bound: Set<number>): boolean {
  if (groundish(a, bound) || groundish(b, bound)) return true;
  if (a.k === 'arr' && b.k === 'arr' && a.items.length === b.items.length) {
    return a.items.every((x, i) => canUnify(x, b.items[i], bound));
  }
  if (a.k === 'obj' && b.k === 'obj' && a.vals.length === b.vals.length) {
    return a.vals.every((x, i) => canUnify(x, b.vals[i], bound));
  }
  return false;
}

/**
 * Reorders `body` in place so every expression's inputs are bound by earlier ones, recursing into
 * nested closures with the bound set at their position. Returns the bound set after the body.
 */
export function orderBody(body: CBody, bound: Set<number>, errors: RegoError[]): Set<number> {
  const b = new Set(bound);
  const pending = body.slice();
  const uses = new Map<CExpr, Uses>(pending.map((e) => [e, exprUses(e)]));
  const out: CExpr[] = [];
  while (pending.length) {
    let picked = -1;
    for (let i = 0; i < pending.length; i++) {
      const e = pending[i];
      const u = uses.get(e)!;
      if (!u.needs.every((v) => b.has(v.slot))) continue;
      if (e.e.k === 'unify' && !canUnify(e.e.a, e.e.b, b)) continue;
      picked = i;
      break;
    }
    if (picked < 0) {
      // Report each still-unbound var of the first stuck expressions once.
      const seen = new Set<number>();
      for (const e of pending) {
        const u = uses.get(e)!;
        const cand = [...u.needs, ...(e.e.k === 'unify' ? u.binds : [])];
        for (const v of cand) {
          if (b.has(v.slot) || seen.has(v.slot)) continue;
          seen.add(v.slot);
          errors.push(new RegoError('rego_unsafe_var_error', `var ${v.name} is unsafe`, v.loc));
        }
      }
      return b;
    }
    const e = pending.splice(picked, 1)[0];
    orderNested(e, b, errors);
    for (const v of uses.get(e)!.binds) b.add(v.slot);
    out.push(e);
  }
  body.length = 0;
  body.push(...out);
  return b;
}

function orderNested(e: CExpr, bound: Set<number>, errors: RegoError[]): void {
  const x = e.e;
  const visit = (t: CTerm | undefined): void => {
    if (t) orderTerm(t, bound, errors);
  };
  switch (x.k) {
    case 'term':
      visit(x.t);
      break;
    case 'unify':
      visit(x.a);
      visit(x.b);
      break;
    case 'callout':
      for (const a of x.call.args) visit(a);
      visit(x.out);
      break;
    case 'somein':
      visit(x.coll);
      visit(x.key);
      visit(x.val);
      break;
    case 'every': {
      visit(x.domain);
      const inner = new Set(bound);
      if (x.key?.k === 'var') inner.add(x.key.slot);
      if (x.val.k === 'var') inner.add(x.val.slot);
      orderBody(x.body, inner, errors);
      break;
    }
    case 'noop':
      break;
  }
  if (e.withs) for (const w of e.withs) visit(w.value);
}

/** Orders the bodies of comprehensions inside a term, given the vars bound at its position. */
export function orderTerm(t: CTerm, bound: Set<number>, errors: RegoError[]): void {
  switch (t.k) {
    case 'ref':
      if (t.head) orderTerm(t.head, bound, errors);
      for (const p of t.path) orderTerm(p, bound, errors);
      return;
    case 'arr':
    case 'set':
      for (const x of t.items) orderTerm(x, bound, errors);
      return;
    case 'obj':
      for (const x of t.keys) orderTerm(x, bound, errors);
      for (const x of t.vals) orderTerm(x, bound, errors);
      return;
    case 'call':
      for (const a of t.args) orderTerm(a, bound, errors);
      return;
    case 'acomp':
    case 'scomp': {
      const after = orderBody(t.body, bound, errors);
      checkBound([t.term], after, errors);
      orderTerm(t.term, after, errors);
      return;
    }
    case 'ocomp': {
      const after = orderBody(t.body, bound, errors);
      checkBound([t.key, t.val], after, errors);
      orderTerm(t.key, after, errors);
      orderTerm(t.val, after, errors);
      return;
    }
    default:
      return;
  }
}

/**
 * Head terms (rule value/key, comprehension head): every var must be bound by the body. Vars in ref
 * operands are fine (`q := xs[_]` iterates, as OPA rewrites such heads into the body).
 */
export function checkBound(terms: CTerm[], bound: Set<number>, errors: RegoError[]): void {
  const u = new Uses();
  for (const t of terms) valueUses(t, u);
  const seen = new Set<number>();
  for (const v of u.needs) {
    if (bound.has(v.slot) || seen.has(v.slot)) continue;
    seen.add(v.slot);
    errors.push(new RegoError('rego_unsafe_var_error', `var ${v.name} is unsafe`, v.loc));
  }
}

/** Slots bound by function-argument patterns. */
export function patternSlots(ts: CTerm[]): Set<number> {
  const u = new Uses();
  for (const t of ts) patternUses(t, u);
  return new Set([...u.binds, ...u.needs].map((v) => v.slot));
}
