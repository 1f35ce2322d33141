// Policy phase (docs/architecture.md, "Layers"): the one interface every policy engine sits behind.
// Evaluation never throws — a failure is a coded result the pipeline turns into a deny
// (docs/architecture.md, "Fail closed").
import { CodedError } from '../model/errors';

/**
 * Request-time engine failures; each is also a reason code in reasons.ts. `authz_unavailable`: the
 * engine has no policy yet (a bundle that was never activated; docs/operations.md, "Bundles").
 */
export type EngineErrorCode = 'policy_error' | 'policy_timeout' | 'policy_undefined' | 'authz_unavailable';

export type EngineResult =
  | { ok: true; value: unknown }
  /** `detail` is engine text for operators (logs/metrics): never sent to the client. */
  | { ok: false; code: EngineErrorCode; detail: string };

export interface EvalOptions {
  /** Wall-clock budget for this evaluation in ms (default: the engine's). */
  deadlineMs?: number;
  /** The request's `now` in ns (decimal string), so time.now_ns() agrees with input.now. */
  nowNs?: string;
  /** The decision id (the shadow engine logs its differences under it). */
  decisionId?: string;
}

/** `--engine`: which engine runs a bundle (auto: wasm when it has policy.wasm, else rego). */
export type EngineChoice = 'auto' | 'rego' | 'wasm';
export const ENGINE_CHOICES: readonly EngineChoice[] = ['auto', 'rego', 'wasm'];

/** OPA's decision-log `bundles` field: the revision of every bundle the decision was made with. */
export type BundleRevisions = Readonly<Record<string, { readonly revision: string }>>;

export interface PolicyEngine {
  /** Engine kind, for logs and metrics ("rego", "wasm", "shadow(rego,rego)"). */
  readonly kind: string;
  /** The decision path as a ref, e.g. `data.callback.decision`. */
  readonly decisionPath: string;
  /** Revision of the loaded policy (bundle manifest revision, else a content hash). */
  readonly revision: string;
  /**
   * The bundles in use (`{name: {revision}}`), for decision logs; absent for a policy directory. A
   * cached object, replaced (never mutated) when a new bundle is activated: reading it costs nothing.
   */
  readonly bundles?: BundleRevisions;
  evaluate(input: unknown, opts?: EvalOptions): EngineResult | Promise<EngineResult>;
  /**
   * Evaluates another path of the same policy (OPA's decision-log mask decision), synchronously:
   * `policy_undefined` when the policy does not define it. Off the request path; never throws.
   */
  evaluatePath?(path: string, input: unknown): EngineResult;
  close(): Promise<void>;
}

/** Load/reload failures (start-up throws these; reloads report them and keep the last good). */
export type PolicyLoadErrorCode =
  | 'policy_dir_missing'
  | 'policy_empty'
  | 'policy_parse_error'
  | 'policy_compile_error'
  | 'policy_data_error'
  | 'decision_path_invalid'
  /** policy.wasm is not a module OPA compiled (or not one this SDK can run). */
  | 'policy_wasm_invalid'
  /** policy.wasm needs a builtin that neither opa-wasm nor the builtin library provides. */
  | 'policy_builtin_missing'
  /** The decision path names no rule the policy defines. */
  | 'decision_path_undefined'
  /** `--engine` asks for an engine the bundle cannot run (wasm without policy.wasm, rego without modules). */
  | 'policy_engine_mismatch'
  /** The bundle cannot be read, verified or activated (the message has the BundleError's code). */
  | 'policy_bundle_invalid';

export class PolicyLoadError extends CodedError<PolicyLoadErrorCode> {}

/** What a (re)load reports: to a callback the app wires to logs and a metric. */
export type ReloadEvent =
  | { ok: true; revision: string; files: number; durationMs: number }
  /** A failed reload: a PolicyLoadErrorCode, or a bundle's BundleError code (policy/bundle/bundle-errors.ts). */
  | { ok: false; code: PolicyLoadErrorCode | (string & {}); message: string; keptRevision: string };

/**
 * `callback/decision`, `envoy/authz/allow`, `callback.decision` or `data.callback.decision` →
 * `data.callback.decision` (the opa-envoy-plugin `path` option uses the slash form).
 */
export function decisionRef(path: string): string {
  const trimmed = path.trim().replace(/^\/+|\/+$/g, '');
  const parts = trimmed.split(/[/.]/).filter((p) => p.length > 0);
  if (parts[0] === 'data') parts.shift();
  if (parts.length === 0 || !parts.every((p) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(p))) {
    throw new PolicyLoadError('decision_path_invalid', `decision path ${JSON.stringify(path)} is not a/b/c or data.a.b.c`);
  }
  return ['data', ...parts].join('.');
}
