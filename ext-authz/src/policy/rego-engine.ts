// Policy phase (docs/architecture.md, step 6): the TypeScript Rego engine behind the PolicyEngine interface. Compiles a
// policy directory once, prepares the decision query once, swaps both as one reference on reload
// (a bad reload keeps the last good), and bounds every evaluation by a deadline and a step budget.
import { compilePolicy, DEFAULT_MAX_STEPS, RegoError } from '../rego/engine';
import type { CompiledPolicy, PreparedQuery, Value } from '../rego/engine';
import { decisionRef, PolicyLoadError } from './engine';
import type { EngineResult, EvalOptions, PolicyEngine, ReloadEvent } from './engine';
import { loadPolicyDir } from './load-dir';
import type { PolicySource } from './load-dir';
import { decisionToJson } from './value-json';
import { FileWatcher } from '../config/file-watcher';

export interface RegoEngineOptions {
  /** Policy directory (or one .rego file); also named in load errors when `source` is given. */
  dir: string;
  /**
   * Modules and data already read (a bundle: policy/bundle-engine.ts). Compiled instead of reading
   * `dir`; such an engine has nothing to watch.
   */
  source?: PolicySource;
  /** Decision path: `callback/decision` (default), `envoy/authz/allow`, `data.x.y`. */
  decision?: string;
  /** Accept Rego v0 modules (`--v0-compatible`); default: every module is v1, as in OPA 1.x. */
  v0Compatible?: boolean;
  /** Extra data documents merged at the root (`serve --data`). */
  extraData?: Record<string, unknown>[];
  /** Default evaluation deadline (ms). */
  deadlineMs?: number;
  /** Step budget per evaluation (expressions); a runaway policy ends as policy_timeout. */
  maxSteps?: number;
  /** Watch the directory and reload on change (debounced). */
  watch?: boolean;
  debounceMs?: number;
  onReload?: (event: ReloadEvent) => void;
}

export const DEFAULT_DECISION = 'callback/decision';
export const DEFAULT_DEADLINE_MS = 50;

/** What one load produces; swapped as a single reference. */
interface Loaded {
  query: PreparedQuery;
  revision: string;
  files: number;
  policy: CompiledPolicy;
  rules: string[];
  data: Record<string, unknown>;
  /** Other paths prepared on demand (evaluatePath), null when the policy does not define one. */
  extra: Map<string, PreparedQuery | null>;
}

function compileDir(opts: RegoEngineOptions, ref: string): Loaded {
  const src = opts.source ?? loadPolicyDir(opts.dir, { extraData: opts.extraData });
  let policy: CompiledPolicy;
  let query: PreparedQuery;
  try {
    policy = compilePolicy(src.modules, { data: src.data, v0Compatible: opts.v0Compatible === true });
    query = policy.prepare(ref);
  } catch (e) {
    if (e instanceof RegoError) {
      const code = e.code === 'rego_parse_error' ? 'policy_parse_error' : 'policy_compile_error';
      throw new PolicyLoadError(code, e.toString());
    }
    throw e;
  }
  const rules = policy.ruleNames().filter((r) => !/\.test_[^.]*$/.test(r));
  if (!decisionPathDefined(ref, rules, src.data)) {
    // Without this a typo in --decision starts "ready" and denies everything as policy_undefined.
    throw new PolicyLoadError('decision_path_undefined', `decision path ${ref} is not defined by the policy in ${opts.dir}; ${describeRules(ref, rules)}`);
  }
  return { query, revision: src.revision, files: src.modules.length, policy, rules, data: src.data, extra: new Map() };
}

/**
 * Whether a decision path can have a value: it names a rule, a package holding rules, a document inside
 * a rule's value (decided at evaluation), or a base document from the data files.
 */
export function decisionPathDefined(ref: string, rules: readonly string[], data: unknown): boolean {
  for (const r of rules) if (r === ref || r.startsWith(`${ref}.`) || ref.startsWith(`${r}.`)) return true;
  let cur: unknown = data;
  for (const p of ref.split('.').slice(1)) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.prototype.hasOwnProperty.call(cur, p)) return false;
    cur = (cur as Record<string, unknown>)[p];
  }
  return true;
}

/** The rules nearest to a missing path (its deepest package that has any), at most 30 of them. */
function describeRules(ref: string, rules: readonly string[]): string {
  if (rules.length === 0) return 'the policy defines no rules';
  const parts = ref.split('.');
  for (let n = parts.length - 1; n >= 1; n--) {
    const pkg = parts.slice(0, n).join('.');
    const near = rules.filter((r) => r.startsWith(`${pkg}.`));
    if (near.length > 0 && n > 1) return `rules under ${pkg}: ${list(near)}`;
  }
  return `rules: ${list(rules)}`;
}

function list(names: readonly string[]): string {
  const shown = names.slice(0, 30).join(', ');
  return names.length > 30 ? `${shown} (and ${names.length - 30} more)` : shown;
}

export class RegoPolicyEngine implements PolicyEngine {
  readonly kind = 'rego';
  readonly decisionPath: string;
  private current: Loaded;
  private watcher: FileWatcher | null = null;
  private readonly deadlineMs: number;
  private readonly maxSteps: number;

  /** Loads and compiles now; throws PolicyLoadError (start-up fails loudly, docs/architecture.md "Fail closed"). */
  constructor(private readonly opts: RegoEngineOptions) {
    this.decisionPath = decisionRef(opts.decision ?? DEFAULT_DECISION);
    this.deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
    this.maxSteps = opts.maxSteps ?? DEFAULT_MAX_STEPS;
    // The watcher takes its first digest before the first compile, so no edit in between is missed.
    const watcher = opts.watch && !opts.source ? new FileWatcher(opts.dir, { onChange: () => this.reload(), debounceMs: opts.debounceMs ?? 150 }) : null;
    this.current = compileDir(opts, this.decisionPath);
    this.watcher = watcher?.start() ?? null;
  }

  get revision(): string {
    return this.current.revision;
  }

  evaluate(input: unknown, opts: EvalOptions = {}): EngineResult {
    const loaded = this.current; // one read: a reload mid-evaluation cannot mix versions
    try {
      const r = loaded.query.evaluate(input, {
        deadlineMs: opts.deadlineMs ?? this.deadlineMs,
        maxSteps: this.maxSteps,
        nowNs: opts.nowNs !== undefined ? BigInt(opts.nowNs) : undefined,
      });
      if (!r.defined) return { ok: false, code: 'policy_undefined', detail: `${this.decisionPath} is undefined` };
      return { ok: true, value: decisionToJson(r.value as Value) };
    } catch (e) {
      if (e instanceof RegoError) {
        const code = e.code === 'eval_budget_exceeded' || e.code === 'eval_cancel_error' ? 'policy_timeout' : 'policy_error';
        // Rego messages can quote input values (e.g. a conflict); operators get the code only.
        return { ok: false, code, detail: e.code };
      }
      return { ok: false, code: 'policy_error', detail: e instanceof Error ? e.name : 'non-error thrown' };
    }
  }

  evaluatePath(path: string, input: unknown): EngineResult {
    const loaded = this.current;
    let ref: string;
    try {
      ref = decisionRef(path);
    } catch {
      return { ok: false, code: 'policy_undefined', detail: 'path_invalid' };
    }
    let q = loaded.extra.get(ref);
    if (q === undefined) {
      try {
        q = decisionPathDefined(ref, loaded.rules, loaded.data) ? loaded.policy.prepare(ref) : null;
      } catch {
        q = null;
      }
      loaded.extra.set(ref, q);
    }
    if (q === null) return { ok: false, code: 'policy_undefined', detail: `${ref} is undefined` };
    try {
      const r = q.evaluate(input, { deadlineMs: this.deadlineMs, maxSteps: this.maxSteps });
      if (!r.defined) return { ok: false, code: 'policy_undefined', detail: `${ref} is undefined` };
      return { ok: true, value: decisionToJson(r.value as Value) };
    } catch (e) {
      return { ok: false, code: 'policy_error', detail: e instanceof RegoError ? e.code : 'error' };
    }
  }

  /** Recompiles now. On failure keeps the last good policy and reports why. Never throws. */
  reload(): ReloadEvent {
    const started = Date.now();
    let event: ReloadEvent;
    try {
      const next = compileDir(this.opts, this.decisionPath);
      this.current = next;
      event = { ok: true, revision: next.revision, files: next.files, durationMs: Date.now() - started };
    } catch (e) {
      const code = e instanceof PolicyLoadError ? e.code : 'policy_compile_error';
      const message = e instanceof Error ? e.message : String(e);
      event = { ok: false, code, message, keptRevision: this.current.revision };
    }
    try {
      this.opts.onReload?.(event);
    } catch {
      // a reporting failure must not undo the swap
    }
    return event;
  }

  async close(): Promise<void> {
    this.watcher?.close();
    this.watcher = null;
  }
}
