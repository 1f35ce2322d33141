// Policy phase (DESIGN §5): the one interface every policy engine sits behind. Evaluation never
// throws — a failure is a coded result the pipeline turns into a deny (DESIGN §4 "Fail closed").
import { CodedError } from '../model/errors';

/** Request-time engine failures; each is also a reason code in reasons.ts. */
export type EngineErrorCode = 'policy_error' | 'policy_timeout' | 'policy_undefined';

export type EngineResult =
  | { ok: true; value: unknown }
  /** `detail` is engine text for operators (logs/metrics): never sent to the client. */
  | { ok: false; code: EngineErrorCode; detail: string };

export interface EvalOptions {
  /** Wall-clock budget for this evaluation in ms (default: the engine's). */
  deadlineMs?: number;
  /** The request's `now` in ns (decimal string), so time.now_ns() agrees with input.now. */
  nowNs?: string;
}

export interface PolicyEngine {
  /** Engine kind, for logs and metrics ("rego", "wasm", "shadow(rego,rego)"). */
  readonly kind: string;
  /** The decision path as a ref, e.g. `data.callback.decision`. */
  readonly decisionPath: string;
  /** Revision of the loaded policy (bundle manifest revision, else a content hash). */
  readonly revision: string;
  evaluate(input: unknown, opts?: EvalOptions): EngineResult | Promise<EngineResult>;
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
  | 'policy_builtin_missing';

export class PolicyLoadError extends CodedError<PolicyLoadErrorCode> {}

/** What a (re)load reports: to a callback the app wires to logs and a metric. */
export type ReloadEvent =
  | { ok: true; revision: string; files: number; durationMs: number }
  | { ok: false; code: PolicyLoadErrorCode; message: string; keptRevision: string };

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
