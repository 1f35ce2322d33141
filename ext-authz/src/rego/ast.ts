// Rego abstract syntax tree: what the parser produces and the compiler/interpreter consume.
// Shapes follow the Rego language reference (OPA v1 syntax, plus v0 files that `import rego.v1` or
// `future.keywords`). Infix operators are represented as calls to OPA's builtin names so that error
// messages ("plus: invalid argument(s)") and `with` mocking line up with OPA.

export interface Loc {
  file: string;
  row: number; // 1-based
  col: number; // 1-based
}

// ---- terms --------------------------------------------------------------------------------------

export interface NullTerm { type: 'null'; loc: Loc }
export interface BooleanTerm { type: 'boolean'; value: boolean; loc: Loc }
/** `text` keeps the literal as written (e.g. "1.0", "1e3") for exact printing. */
export interface NumberTerm { type: 'number'; value: number; text: string; loc: Loc }
export interface StringTerm { type: 'string'; value: string; raw: boolean; loc: Loc }
/** A variable. Every `_` in the source is a var named "_" (the compiler gives each a fresh name). */
export interface VarTerm { type: 'var'; name: string; loc: Loc }
/**
 * A reference: `head` followed by `path` operands.
 *   input.a[x]["b"]  -> head var input, path [string "a", var x, string "b"]
 *   data.x.y         -> head var data,  path [string "x", string "y"]
 *   f(x).y, [1,2][0], {"a":1}.a -> head is a call / array / object term.
 * A bare var is a VarTerm, never a RefTerm with an empty path.
 */
export interface RefTerm { type: 'ref'; head: Term; path: Term[]; loc: Loc }
export interface ArrayTerm { type: 'array'; items: Term[]; loc: Loc }
export interface ObjectTerm { type: 'object'; items: [Term, Term][]; loc: Loc }
/** `set()` and `{a, b}` (the parser disambiguates `{}` as an empty object). */
export interface SetTerm { type: 'set'; items: Term[]; loc: Loc }
export interface ArrayComprehension { type: 'arraycompr'; term: Term; body: Body; loc: Loc }
export interface SetComprehension { type: 'setcompr'; term: Term; body: Body; loc: Loc }
export interface ObjectComprehension { type: 'objectcompr'; key: Term; value: Term; body: Body; loc: Loc }
/**
 * A call. `op` is the dotted name as written (`count`, `strings.replace_n`, `data.lib.f`, an import
 * alias like `lib.f`), resolved by the compiler. Infix/unary operators use OPA's builtin names:
 *   ==  equal      !=  neq      <  lt     <=  lte    >  gt    >=  gte
 *   +   plus       -   minus    *  mul    /   div    %  rem
 *   &   and        |   or
 *   =   eq  (unification)       :=  assign (declares vars on the left)
 *   x in xs       internal.member_2(x, xs)
 *   k, v in xs    internal.member_3(k, v, xs)
 * Unary minus on a non-literal `-x` is `minus(0, x)`; `-1` is a number literal.
 */
export interface CallTerm { type: 'call'; op: string; args: Term[]; loc: Loc; opLoc?: Loc }

export type ScalarTerm = NullTerm | BooleanTerm | NumberTerm | StringTerm;
export type Term =
  | ScalarTerm
  | VarTerm
  | RefTerm
  | ArrayTerm
  | ObjectTerm
  | SetTerm
  | ArrayComprehension
  | SetComprehension
  | ObjectComprehension
  | CallTerm;

// ---- expressions and bodies ---------------------------------------------------------------------

/** `with <target> as <value>`; target is a ref (input..., data..., or a function/builtin name). */
export interface With { target: Term; value: Term; loc: Loc }

export type ExprBody =
  /** A term standing alone: a call (incl. `=`, `:=`, comparisons), a ref, a var, a literal. */
  | { type: 'term'; term: Term }
  /** `some x, y` declaration. */
  | { type: 'somedecl'; vars: VarTerm[] }
  /** `some v in xs`, `some k, v in xs` (key/value may be any term: patterns destructure). */
  | { type: 'somein'; key?: Term; value: Term; collection: Term }
  /** `every v in xs { ... }`, `every k, v in xs { ... }`. */
  | { type: 'every'; key?: VarTerm; value: VarTerm; domain: Term; body: Body };

export interface Expr {
  expr: ExprBody;
  negated: boolean; // `not <expr>`
  with: With[];
  loc: Loc;
}
export type Body = Expr[];

// ---- rules and modules --------------------------------------------------------------------------

/**
 * A rule head.
 *   p := 1                       ref p,      value 1, assign
 *   p = 1 / p if {...}           ref p,      value 1 / undefined (true)
 *   p contains x if {...}        ref p,      key x            (partial set; multi-value)
 *   p[k] := v if {...}           ref p[k],   value v          (partial object: last path elem not ground)
 *   a.b.c := 1                   ref a.b.c   (rule-head ref, string path elems)
 *   f(x, y) := r if {...}        ref f, args [x, y], value r  (function)
 *   p[x] if {...} (v1)           ref p[x],   value undefined  (object entry with value true)
 * `ref` is a VarTerm when the head is a single name, otherwise a RefTerm whose head is a VarTerm.
 */
export interface RuleHead {
  ref: VarTerm | RefTerm;
  args?: Term[];
  key?: Term;
  value?: Term;
  assign: boolean;
  loc: Loc;
}

export interface ElseClause {
  value?: Term; // undefined -> true
  body: Body;
  loc: Loc;
}

export interface Rule {
  head: RuleHead;
  /** `default p := v`: body is empty and head.value is set. */
  isDefault: boolean;
  /** Empty for a rule with no body (`p := 1`), which is unconditionally true. */
  body: Body;
  elses: ElseClause[];
  loc: Loc;
}

export interface Import {
  /** The imported ref: `data.lib.x`, `input.a`, `rego.v1`, `future.keywords.in`. */
  path: RefTerm | VarTerm;
  alias?: string;
  loc: Loc;
}

export interface Module {
  file: string;
  /** Package path without the leading `data`, e.g. ["envoy", "authz"]. */
  pkg: string[];
  pkgLoc: Loc;
  imports: Import[];
  rules: Rule[];
  /**
   * Parsed as Rego v1 (OPA 1.x's default; also any module that imports rego.v1). False only for a
   * module read with `v0Compatible` that does not import rego.v1.
   */
  v1: boolean;
}
