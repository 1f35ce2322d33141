// Policy phase: two engines side by side — one enforcing, one shadow (a candidate policy or engine;
// docs/operations.md, "Shadow policy"). The enforcing answer is returned as it is, without waiting for
// anything; the shadow runs afterwards (setImmediate, off the request's critical path) on the same input,
// and only feeds a comparison: its result, its errors and its exceptions never reach the request.
import type { BundleRevisions, EngineResult, EvalOptions, PolicyEngine } from './engine';

export interface ShadowComparison {
  /** The enforcing decision's id (EvalOptions.decisionId), when the pipeline gave one. */
  decisionId: string | undefined;
  match: boolean;
  /** The input both engines saw (mask before logging: it is the policy input). */
  input: unknown;
  enforcing: EngineResult;
  shadow: EngineResult;
  enforcingRevision: string;
  shadowRevision: string;
}

/** Kept for callers of the first version: a mismatch is a comparison with `match: false`. */
export type ShadowMismatch = ShadowComparison;

export interface ShadowStats {
  compared: number;
  mismatches: number;
}

/** Canonical JSON (sorted keys) so key order never counts as a mismatch. */
function canonical(x: unknown): string {
  if (x === null || typeof x !== 'object') return JSON.stringify(x) ?? 'undefined';
  if (Array.isArray(x)) return `[${x.map(canonical).join(',')}]`;
  const o = x as Record<string, unknown>;
  return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
}

export function sameResult(a: EngineResult, b: EngineResult): boolean {
  if (a.ok !== b.ok) return false;
  if (a.ok && b.ok) return canonical(a.value) === canonical(b.value);
  return !a.ok && !b.ok && a.code === b.code;
}

export interface ShadowOptions {
  /** Every comparison (metrics); must not throw (it is caught and dropped if it does). */
  onCompare?: (c: ShadowComparison) => void;
  /** Only the mismatches (the first version's callback). */
  onMismatch?: (m: ShadowComparison) => void;
}

export class ShadowEngine implements PolicyEngine {
  readonly kind: string;
  readonly stats: ShadowStats = { compared: 0, mismatches: 0 };
  private readonly o: ShadowOptions;

  constructor(
    private readonly enforcing: PolicyEngine,
    private readonly shadow: PolicyEngine,
    opts?: ShadowOptions | ((m: ShadowComparison) => void),
  ) {
    this.kind = `shadow(${enforcing.kind},${shadow.kind})`;
    this.o = typeof opts === 'function' ? { onMismatch: opts } : (opts ?? {});
  }

  get decisionPath(): string {
    return this.enforcing.decisionPath;
  }

  get revision(): string {
    return this.enforcing.revision;
  }

  get bundles(): BundleRevisions | undefined {
    return this.enforcing.bundles;
  }

  /** The enforcing engine's answer, unchanged and not delayed (synchronous when it is). */
  evaluate(input: unknown, opts?: EvalOptions): EngineResult | Promise<EngineResult> {
    const r = this.enforcing.evaluate(input, opts);
    if (r instanceof Promise) {
      return r.then((v) => {
        this.later(v, input, opts);
        return v;
      });
    }
    this.later(r, input, opts);
    return r;
  }

  evaluatePath(path: string, input: unknown): EngineResult {
    return this.enforcing.evaluatePath ? this.enforcing.evaluatePath(path, input) : { ok: false, code: 'policy_undefined', detail: 'not supported' };
  }

  private later(enforced: EngineResult, input: unknown, opts?: EvalOptions): void {
    setImmediate(() => {
      void this.compare(enforced, input, opts).catch(() => undefined);
    });
  }

  private async compare(enforced: EngineResult, input: unknown, opts?: EvalOptions): Promise<void> {
    let shadow: EngineResult;
    const enforcingRevision = this.enforcing.revision;
    try {
      const s = this.shadow.evaluate(input, opts);
      shadow = s instanceof Promise ? await s : s;
    } catch (e) {
      // Engines never throw (PolicyEngine); one that does is compared, and reported, as the failure it
      // is. It still never affects the request: this runs after the enforcing result was returned.
      shadow = { ok: false, code: 'policy_error', detail: e instanceof Error ? e.name : typeof e };
    }
    const match = sameResult(enforced, shadow);
    this.stats.compared += 1;
    if (!match) this.stats.mismatches += 1;
    const c: ShadowComparison = { decisionId: opts?.decisionId, match, input, enforcing: enforced, shadow, enforcingRevision, shadowRevision: this.shadow.revision };
    for (const f of [this.o.onCompare, match ? undefined : this.o.onMismatch]) {
      try {
        f?.(c);
      } catch {
        // telemetry never throws into anything
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.enforcing.close(), this.shadow.close()]);
  }
}
