// Builds the policy engine `serve` and `check` run (DESIGN §5): the TypeScript Rego engine over a
// policy directory (+ optional data file) at a decision path, with reload events logged.
import { RegoPolicyEngine } from './rego-engine';
import { readDataFile } from './load-dir';
import type { PolicyEngine, ReloadEvent } from './engine';
import type { Logger } from '../telemetry/logger';

export interface EngineFactoryOptions {
  policyDir: string;
  dataFile?: string;
  decisionPath: string;
  watch: boolean;
  logger: Logger;
  deadlineMs?: number;
  /** Accept Rego v0 modules (OPA 1.x's --v0-compatible); default v1. */
  v0Compatible?: boolean;
  /** Told about every reload after it is logged (metrics). */
  onReload?: (event: ReloadEvent) => void;
}

/** Throws PolicyLoadError at start-up (bad dir, parse/compile error); reloads keep the last good. */
export async function createPolicyEngine(opts: EngineFactoryOptions): Promise<PolicyEngine> {
  const extra = opts.dataFile ? [readDataFile(opts.dataFile)] : [];
  return new RegoPolicyEngine({
    dir: opts.policyDir,
    decision: opts.decisionPath,
    extraData: extra,
    deadlineMs: opts.deadlineMs,
    v0Compatible: opts.v0Compatible,
    watch: opts.watch,
    onReload: (ev) => {
      if (ev.ok) opts.logger.info({ event: 'policy_reloaded', revision: ev.revision, files: ev.files, duration_ms: ev.durationMs }, 'policy reloaded');
      else opts.logger.error({ event: 'policy_reload_failed', error_code: ev.code, problem: ev.message, kept_revision: ev.keptRevision }, 'policy reload failed; keeping the last good one');
      opts.onReload?.(ev);
    },
  });
}
