// Compiler pass 4 (after safety ordering): what `not` evaluates outside the negation. OPA's compiler
// rewrites bodies so that calls nested in an expression's operands, and the refs among a call's
// operands, are evaluated by expressions of their own just before it (its "expression terms" and
// "dynamic terms" rewriting). Outside a negation that changes nothing; under `not` it decides whether an
// undefined operand makes the body fail (OPA) or the negation succeed. So, before each negated
// expression, this pass binds to fresh variables:
//  * every call nested in an operand, innermost first, wherever it sits (`not f(g(x))`,
//    `not input.a[f(x)] == 1`, `not [f(x)] = y`), and a composite literal a ref indexes (`[a, b][i]`);
//  * for a call expression (a builtin or user function, `in`, `!=`, `<`, ...): each operand that is a
//    ref, each ref inside an array, object or set operand, and the non-constant operands of those refs;
//  * for a unification `=`, for `==` in a rule (OPA turns it into `=` there), and for a bare term: the
//    refs inside array, object or set sides and the non-constant operands of a ref side, but not a
//    ref side itself: `not input.a == 1` and `not input.flag` still succeed when the ref is undefined.
// A query keeps `==` a call, as OPA's query compiler does. Comprehension and `every` bodies get the same
// treatment; the comprehensions themselves are left in place (they always have a value).
import type { CBody, CExpr, CTerm, CWith } from './compiler-types';

/** Allocates a fresh frame slot in the rule (or query) being compiled. */
export type SlotAllocator = () => number;

/** Rewrites every negated expression of `body` (and of the bodies nested in it) in place. */
export function hoistNegations(body: CBody, fresh: SlotAllocator, inQuery: boolean, locals?: Set<number>): void {
  const h = new Hoister(fresh, inQuery);
  h.body(body, locals);
}

/** Applies the rewriting inside the comprehensions of a term (rule heads, function arguments). */
export function hoistNegationsInTerm(t: CTerm, fresh: SlotAllocator, inQuery: boolean): void {
  new Hoister(fresh, inQuery).nested(t);
}

class Hoister {
  /** Expressions to run before the negated one being rewritten. */
  private pre: CExpr[] = [];
  private withs: CWith[] | null = null;
  private loc: CExpr['loc'] = undefined as unknown as CExpr['loc'];
  private locals: Set<number> | undefined;

  constructor(private readonly alloc: SlotAllocator, private readonly inQuery: boolean) {}

  body(body: CBody, locals: Set<number> | undefined): void {
    const saved = this.locals;
    this.locals = locals;
    const out: CExpr[] = [];
    for (const e of body) {
      if (e.neg) out.push(...this.negated(e));
      out.push(e);
    }
    body.length = 0;
    body.push(...out);
    for (const e of body) this.nestedInExpr(e);
    this.locals = saved;
  }

  private fresh(name: string): CTerm {
    const slot = this.alloc();
    this.locals?.add(slot);
    return { k: 'var', slot, name, loc: this.loc };
  }

  /** The expressions that must hold before negated expression `e`; rewrites `e` to use their results. */
  private negated(e: CExpr): CExpr[] {
    this.pre = [];
    this.withs = e.withs;
    this.loc = e.loc;
    const x = e.e;
    // 1. Nested calls.
    switch (x.k) {
      case 'term':
        if (x.t.k === 'call') {
          if (x.t.fn.k !== 'print') x.t.args = x.t.args.map((a) => this.calls(a));
        } else x.t = this.calls(x.t);
        break;
      case 'unify':
        x.a = this.calls(x.a);
        x.b = this.calls(x.b);
        break;
      case 'callout':
        x.call.args = x.call.args.map((a) => this.calls(a));
        x.out = this.calls(x.out);
        break;
      default:
        break;
    }
    // 2. Refs.
    switch (x.k) {
      case 'term': {
        const t = x.t;
        if (t.k === 'call' && t.fn.k === 'print') break;
        if (t.k === 'call' && this.isEquality(t)) t.args = t.args.map((a) => this.refsInSide(a));
        else if (t.k === 'call') t.args = t.args.map((a) => this.refs(a));
        else x.t = this.refsInSide(t);
        break;
      }
      case 'unify':
        x.a = this.refsInSide(x.a);
        x.b = this.refsInSide(x.b);
        break;
      case 'callout':
        x.call.args = x.call.args.map((a) => this.refs(a));
        x.out = this.refs(x.out);
        break;
      default:
        break;
    }
    return this.pre;
  }

  /** `a == b` with two operands is unification in a rule, a call in a query. */
  private isEquality(t: CTerm & { k: 'call' }): boolean {
    return !this.inQuery && t.fn.k === 'builtin' && t.fn.spec.name === 'equal' && t.args.length === 2;
  }

  /** Binds every call inside t (innermost first) to a fresh variable; returns t with them replaced. */
  private calls(t: CTerm): CTerm {
    switch (t.k) {
      case 'call': {
        if (t.fn.k === 'print') return t;
        t.args = t.args.map((a) => this.calls(a));
        const out = this.fresh('$call');
        this.pre.push({ e: { k: 'callout', call: t, out }, neg: false, withs: this.withs, loc: this.loc });
        return out;
      }
      case 'ref':
        if (t.head) {
          t.head = this.calls(t.head);
          // A composite literal indexed directly (`[input.a, 1][i]`) is bound first as well.
          if (t.head.k === 'arr' || t.head.k === 'set' || t.head.k === 'obj') t.head = this.bind(t.head);
        }
        t.path = t.path.map((p) => this.calls(p));
        return t;
      case 'arr':
      case 'set':
        t.items = t.items.map((i) => this.calls(i));
        return t;
      case 'obj':
        t.keys = t.keys.map((k) => this.calls(k));
        t.vals = t.vals.map((v) => this.calls(v));
        return t;
      default:
        return t;
    }
  }

  /** A side of `=` (or a bare term): a ref keeps its place, only its operands are bound first. */
  private refsInSide(t: CTerm): CTerm {
    if (t.k === 'ref') {
      t.path = t.path.map((p) => this.refs(p));
      return t;
    }
    return this.refs(t);
  }

  /** Binds every ref in t (operands first) to a fresh variable; composite literals are searched. */
  private refs(t: CTerm): CTerm {
    switch (t.k) {
      case 'ref':
        t.path = t.path.map((p) => this.refs(p));
        return this.bind(t);
      case 'arr':
      case 'set':
        t.items = t.items.map((i) => this.refs(i));
        return t;
      case 'obj':
        t.keys = t.keys.map((k) => this.refs(k));
        t.vals = t.vals.map((v) => this.refs(v));
        return t;
      default:
        return t;
    }
  }

  /** `$v = t` before the negated expression; returns `$v`. */
  private bind(t: CTerm): CTerm {
    const v = this.fresh('$ref');
    this.pre.push({ e: { k: 'unify', a: v, b: t }, neg: false, withs: this.withs, loc: this.loc });
    return v;
  }

  // ---- nested bodies ----------------------------------------------------------------------------

  private nestedInExpr(e: CExpr): void {
    const x = e.e;
    switch (x.k) {
      case 'term':
        this.nested(x.t);
        break;
      case 'unify':
        this.nested(x.a);
        this.nested(x.b);
        break;
      case 'callout':
        this.nested(x.call);
        this.nested(x.out);
        break;
      case 'somein':
        this.nested(x.coll);
        break;
      case 'every':
        this.nested(x.domain);
        this.body(x.body, x.locals);
        break;
      case 'noop':
        break;
    }
    if (e.withs) for (const w of e.withs) if (w.value) this.nested(w.value);
  }

  /** Rewrites the bodies of the comprehensions inside t. */
  nested(t: CTerm): void {
    switch (t.k) {
      case 'ref':
        if (t.head) this.nested(t.head);
        for (const p of t.path) this.nested(p);
        return;
      case 'arr':
      case 'set':
        for (const i of t.items) this.nested(i);
        return;
      case 'obj':
        for (const k of t.keys) this.nested(k);
        for (const v of t.vals) this.nested(v);
        return;
      case 'call':
        for (const a of t.args) this.nested(a);
        return;
      case 'acomp':
      case 'scomp':
        this.body(t.body, t.locals);
        this.nested(t.term);
        return;
      case 'ocomp':
        this.body(t.body, t.locals);
        this.nested(t.key);
        this.nested(t.val);
        return;
      default:
        return;
    }
  }
}
