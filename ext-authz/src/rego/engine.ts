// The Rego engine's public face: compile modules once, prepare queries once, evaluate many times
// against JSON input (used as is, never copied). Everything else in rego/ is internal and is imported
// only through this file: lexer → parser → compiler passes → interpreter → builtins by category
// (docs/architecture.md).
import { parseModule, parseQuery } from './parser';
import { RegoError, RegoErrors } from './errors';
import { fromJSON, type Value } from './value';
import { defaultRegistry, type BuiltinContext, type BuiltinRegistry } from './builtins/index';
import { compileModules, compileQuery } from './compiler';
import type { CQuery, Program, TreeNode } from './compiler-types';
import type { Loc, Module } from './ast';
import { coreBuiltinMap, EvalBuiltinContext } from './interpreter-builtins';
import { Evaluation, type Frame } from './interpreter';
import { EvalCaches } from './interpreter-state';

export { RegoError, RegoErrors, BuiltinError, REGO_ERROR_CODES } from './errors';
export type { RegoErrorCode } from './errors';
export { toJSON, fromJSON, compare, equals, RegoSet, RegoObject, typeName } from './value';
export type { Value } from './value';
export { parseModule, parseQuery } from './parser';
export type { ParseOptions } from './parser';
export type { Module, Loc, Body, Expr } from './ast';
export { defaultRegistry, BuiltinRegistry } from './builtins/index';
export type { BuiltinSpec, BuiltinContext } from './builtins/index';

export interface PolicyModule {
  file: string;
  text: string;
}

export interface CompilePolicyOptions {
  /** Base documents, loaded at the root of `data` (JSON; not copied). */
  data?: unknown;
  registry?: BuiltinRegistry;
  /** Default for EvaluateOptions.strict (OPA's --strict-builtin-errors). */
  strictBuiltinErrors?: boolean;
  /** Accept Rego v0 modules (OPA 1.x's --v0-compatible); default: every module is parsed as v1. */
  v0Compatible?: boolean;
}

export interface EvaluateOptions {
  /** Builtin errors raise eval_builtin_error/eval_type_error instead of making expressions undefined. */
  strict?: boolean;
  /** The value of time.now_ns() for this evaluation (default: the clock, read once). */
  nowNs?: bigint;
  /** Step budget (expressions evaluated; default DEFAULT_MAX_STEPS); exceeding it throws eval_budget_exceeded. */
  maxSteps?: number;
  /** Wall-clock budget in milliseconds for this evaluation; exceeding it throws eval_budget_exceeded. */
  deadlineMs?: number;
  /** Sink for print() output (default: discarded). */
  print?: (s: string) => void;
}

export type EvalResult = { defined: true; value: Value } | { defined: false };
/** One solution of a query: its named variables' values. */
export type Bindings = Record<string, Value>;

export interface PreparedQuery {
  readonly query: string;
  /** The query's value: a single-term query gives its value; others give `true` when satisfiable. */
  evaluate(input?: unknown, opts?: EvaluateOptions): EvalResult;
  /** Every solution's variable bindings (like `opa eval` result rows). */
  evaluateAll(input?: unknown, opts?: EvaluateOptions): Bindings[];
}

/** A `test_*` rule, runnable with `prepare(query)` (as `opa test` would). */
export interface TestRule {
  query: string;
  pkg: string;
  name: string;
  file: string;
  loc: Loc | undefined;
}

export interface CompiledPolicy {
  prepare(query: string): PreparedQuery;
  /** Files the policy was compiled from. */
  modules(): string[];
  /** Full names (`data.pkg.rule`) of the rules under a package path (`callback`, `data.a.b`; all when empty). */
  ruleNames(pkgPrefix?: string): string[];
  /** Every rule named `test_*`, in file order. */
  listTests(): TestRule[];
}

/**
 * The one default step budget of an evaluation (expressions evaluated and bindings made), used by the
 * service, the CLI and tests alike. The callback policy takes a few hundred steps per decision and
 * every case of the conformance corpus and of OPA's own suite runs within 5,000, so this is far above
 * any real policy and far below a hang (tens of milliseconds); a caller may pass its own `maxSteps`.
 */
export const DEFAULT_MAX_STEPS = 200_000;

/** Options of builtinContext. */
export interface BuiltinCallOptions {
  /** Builtin errors are errors (OPA's --strict-builtin-errors); the builtins themselves always throw. */
  strict?: boolean;
  /** time.now_ns() for this context (default: the clock, read once on first use). */
  nowNs?: bigint;
  print?: (s: string) => void;
}

/**
 * A context for calling library builtins (`defaultRegistry.get(name).fn(args, ctx)`) outside the
 * interpreter, e.g. as host functions of an OPA-compiled wasm module. One per evaluation.
 */
export function builtinContext(opts: BuiltinCallOptions = {}): BuiltinContext {
  return new EvalBuiltinContext(opts.strict ?? false, opts.nowNs, opts.print);
}

/** Parses and compiles modules. Throws RegoError (or RegoErrors) on parse and compile errors. */
export function compilePolicy(modules: PolicyModule[], opts: CompilePolicyOptions = {}): CompiledPolicy {
  const registry = opts.registry ?? defaultRegistry;
  const parsed: Module[] = [];
  const errors: RegoError[] = [];
  for (const m of modules) {
    try {
      parsed.push(parseModule(m.text, m.file, { v0Compatible: opts.v0Compatible === true }));
    } catch (e) {
      if (e instanceof RegoErrors) errors.push(...e.errors);
      else if (e instanceof RegoError) errors.push(e);
      else throw e;
    }
  }
  if (errors.length) throw new RegoErrors(errors);
  const data = opts.data === undefined ? undefined : fromJSON(opts.data);
  const program = compileModules(parsed, { registry, core: coreBuiltinMap(registry), data });
  return new Policy(program, parsed, opts.strictBuiltinErrors ?? false);
}

class Policy implements CompiledPolicy {
  constructor(
    private readonly program: Program,
    private readonly parsed: Module[],
    private readonly strict: boolean,
  ) {}

  prepare(query: string): PreparedQuery {
    const body = parseQuery(query);
    return new Prepared(query, this.program, compileQuery(this.program, body), this.strict);
  }

  modules(): string[] {
    return [...this.program.files];
  }

  ruleNames(pkgPrefix = ''): string[] {
    // Segment-wise: "callback" or "data.callback" matches data.callback.* but not data.callback_test.*.
    const want = pkgPrefix.replace(/^data\.?/, '').split('.').filter((x) => x !== '');
    const out: string[] = [];
    const walk = (n: TreeNode): void => {
      if (n.group && want.every((w, i) => n.path[i] === w)) out.push(n.group.name);
      for (const c of n.children.values()) walk(c);
    };
    walk(this.program.tree);
    return out.sort();
  }

  listTests(): TestRule[] {
    const out: TestRule[] = [];
    const seen = new Set<string>();
    for (const m of this.parsed) {
      for (const r of m.rules) {
        const ref = r.head.ref;
        const name = ref.type === 'var' ? ref.name : undefined;
        if (!name || !name.startsWith('test_') || r.head.args) continue;
        const query = ['data', ...m.pkg, name].join('.');
        if (seen.has(query)) continue;
        seen.add(query);
        out.push({ query, pkg: m.pkg.join('.'), name, file: m.file, loc: r.loc });
      }
    }
    return out;
  }
}

/** Stack exhaustion (deep recursion through data or input) is a budget failure, not a crash. */
function asRegoError(e: unknown): unknown {
  if (e instanceof RangeError && /call stack/i.test(e.message)) {
    return new RegoError('eval_budget_exceeded', 'evaluation exceeded the stack depth');
  }
  return e;
}

class Prepared implements PreparedQuery {
  /** Rule values kept between evaluations (constant groups; the reusable root cache). */
  private readonly caches: EvalCaches;

  constructor(
    readonly query: string,
    private readonly program: Program,
    private readonly q: CQuery,
    private readonly strict: boolean,
  ) {
    this.caches = new EvalCaches(program.groups.length);
  }

  private start(input: unknown, opts: EvaluateOptions): { ev: Evaluation; f: Frame } {
    const settings = {
      strict: opts.strict ?? this.strict,
      nowNs: opts.nowNs,
      maxSteps: opts.maxSteps ?? DEFAULT_MAX_STEPS,
      deadlineMs: opts.deadlineMs === undefined ? undefined : Date.now() + opts.deadlineMs,
      print: opts.print,
    };
    const ev = new Evaluation(this.program, settings, this.caches);
    return { ev, f: new Array(this.q.nslots) };
  }

  evaluate(input?: unknown, opts: EvaluateOptions = {}): EvalResult {
    const { ev, f } = this.start(input, opts);
    const env = ev.rootEnv(input as Value | undefined);
    try {
      if (this.q.single) {
        const v = ev.value(env, this.q.single, f);
        return v === undefined ? { defined: false } : { defined: true, value: v };
      }
      return ev.succeeds(env, this.q.body, f) ? { defined: true, value: true } : { defined: false };
    } catch (e) {
      throw asRegoError(e);
    } finally {
      ev.release();
    }
  }

  evaluateAll(input?: unknown, opts: EvaluateOptions = {}): Bindings[] {
    const { ev, f } = this.start(input, opts);
    const env = ev.rootEnv(input as Value | undefined);
    const rows: Bindings[] = [];
    try {
      ev.evalBody(env, this.q.body, 0, f, () => {
        const row: Bindings = {};
        for (const [name, slot] of this.q.vars) {
          const v = f[slot];
          if (v !== undefined) row[name] = v;
        }
        rows.push(row);
        return false;
      });
    } catch (e) {
      throw asRegoError(e);
    } finally {
      ev.release();
    }
    return rows;
  }
}

