// Compiled form of Rego (the compiler's output, the interpreter's input): names resolved to frame slots,
// data/input refs, builtin specs or rule groups; bodies already in safe evaluation order.
import type { Loc } from './ast';
import type { Value } from './value';
import type { BuiltinRegistry, BuiltinSpec } from './builtins/registry';

/** Comprehensions and `every` carry the slots local to them (the rest are captured from outside). */
/** A compiled term. Variables are frame slots; `name` is kept for error messages only. */
export type CTerm =
  | { k: 'val'; v: Value }
  | { k: 'var'; slot: number; name: string; loc: Loc }
  | CRef
  | { k: 'arr'; items: CTerm[] }
  | { k: 'obj'; keys: CTerm[]; vals: CTerm[] }
  | { k: 'set'; items: CTerm[] }
  | { k: 'acomp'; term: CTerm; body: CBody; locals: Set<number> }
  | { k: 'scomp'; term: CTerm; body: CBody; locals: Set<number> }
  | { k: 'ocomp'; key: CTerm; val: CTerm; body: CBody; locals: Set<number> }
  | CCall;

/**
 * A reference. `root` says where it starts: the input document, the data tree (virtual + base), or
 * an arbitrary term (`head`: a local var, a call, a literal).
 */
export interface CRef {
  k: 'ref';
  root: 'input' | 'data' | 'term';
  head?: CTerm;
  path: CTerm[];
  loc: Loc;
  /**
   * Data refs, resolved at compile time along their constant prefix: evaluation resumes at `node`
   * (or, when null, in the base document `base`) with operand `from`.
   */
  start?: { node: TreeNode | null; base: Value | undefined; from: number };
}

export interface CCall {
  k: 'call';
  fn: CallTarget;
  args: CTerm[];
  loc: Loc;
  /** Set by the planner for comparison builtins: 1 equal, 2 neq, 3 lt, 4 lte, 5 gt, 6 gte. */
  cmp?: number;
}

/** What a call invokes. `key` identifies the function for `with` mocking. */
export type CallTarget =
  | { k: 'builtin'; spec: BuiltinSpec; key: string }
  | { k: 'func'; group: RuleGroup; key: string }
  | { k: 'print'; key: string };

export type CExprBody =
  | { k: 'term'; t: CTerm }
  | { k: 'unify'; a: CTerm; b: CTerm }
  /** A call with one extra argument: the result is unified with `out`. */
  | { k: 'callout'; call: CCall; out: CTerm }
  | { k: 'somein'; key?: CTerm; val: CTerm; coll: CTerm }
  | { k: 'every'; key?: CTerm; val: CTerm; domain: CTerm; body: CBody; locals: Set<number> }
  | { k: 'noop' };

export interface CExpr {
  e: CExprBody;
  neg: boolean;
  withs: CWith[] | null;
  loc: Loc;
}
export type CBody = CExpr[];

export type CWith =
  | { k: 'input'; path: string[]; value: CTerm }
  | { k: 'data'; path: string[]; value: CTerm }
  | { k: 'fn'; key: string; value: CTerm | undefined; target: CallTarget | undefined };

/** One rule definition (or one else-clause chain) in compiled form. */
export interface CRule {
  /** Main body followed by else clauses; the first clause with a solution wins. */
  clauses: CClause[];
  /** Function argument patterns, bound from the call's values. */
  args?: CTerm[];
  /** Object rules: key path below the group path (`p[k]`, `a[x].b`); set rules: the member term. */
  keys?: CTerm[];
  nslots: number;
  loc: Loc;
  /** `a.b[x] contains y`: an object rule whose leaves are sets (the last key is the member). */
  setLeaf?: boolean;
  /** Value computed once at compile time (no body, ground head). */
  constValue?: Value;
}

export interface CClause {
  body: CBody;
  /** The head value (for sets: unused). */
  value: CTerm;
  loc: Loc;
}

export type GroupKind = 'complete' | 'set' | 'object' | 'function';

/** All rules that define the document at one path of the data tree. */
export interface RuleGroup {
  id: number;
  kind: GroupKind;
  /** Path below `data`. */
  path: string[];
  /** `data.t.p` for messages. */
  name: string;
  rules: CRule[];
  defaultRule?: CRule;
  arity?: number;
  /** The value depends on neither input nor clock: computed once per policy (not per evaluation). */
  constant?: boolean;
  /** Object rules whose path also has rules below it (`p[k] := v` with `p.a := 1`): merged in. */
  extra?: Map<string, TreeNode>;
}

/** One node of the data tree: packages and rule paths. */
export interface TreeNode {
  path: string[];
  children: Map<string, TreeNode>;
  group?: RuleGroup;
}

/** A compiled query: a body plus the slots of its named variables. */
export interface CQuery {
  body: CBody;
  nslots: number;
  /** Named (non-generated) variables and their slots, for bindings output. */
  vars: [string, number][];
  /** Set when the query is one plain term: its value is the query's value. */
  single?: CTerm;
}

/**
 * The compiled policy: the data tree plus every rule group. Immutable once compiled: evaluation
 * caches live in the interpreter's EvalCaches (interpreter-state.ts), one per prepared query.
 */
export interface Program {
  readonly tree: TreeNode;
  readonly groups: RuleGroup[];
  readonly registry: BuiltinRegistry;
  readonly core: Map<string, BuiltinSpec>;
  readonly files: string[];
  readonly data: Value | undefined;
}
