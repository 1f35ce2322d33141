// Policy phase (DESIGN §5): two engines side by side — one enforcing, one shadow. The shadow runs after
// the enforcing result is returned (off the request's critical path) and only feeds a mismatch count,
// so a new engine or policy revision can be compared on live traffic before it is switched on.
import type { EngineResult, EvalOptions, PolicyEngine } from './engine';

export interface ShadowMismatch {
  enforcing: EngineResult;
  shadow: EngineResult;
  enforcingRevision: string;
  shadowRevision: string;
}

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

function sameResult(a: EngineResult, b: EngineResult): boolean {
  if (a.ok !== b.ok) return false;
  if (a.ok && b.ok) return canonical(a.value) === canonical(b.value);
  return !a.ok && !b.ok && a.code === b.code;
}

export class ShadowEngine implements PolicyEngine {
  readonly kind: string;
  readonly stats: ShadowStats = { compared: 0, mismatches: 0 };

  constructor(
    private readonly enforcing: PolicyEngine,
    private readonly shadow: PolicyEngine,
    /**
     * Called per mismatch (wire to a metric/log; it receives engine values, so mask before logging).
     * Like all telemetry it must not throw.
     */
    private readonly onMismatch?: (m: ShadowMismatch) => void,
  ) {
    this.kind = `shadow(${enforcing.kind},${shadow.kind})`;
  }

  get decisionPath(): string {
    return this.enforcing.decisionPath;
  }

  get revision(): string {
    return this.enforcing.revision;
  }

  async evaluate(input: unknown, opts?: EvalOptions): Promise<EngineResult> {
    const r = this.enforcing.evaluate(input, opts);
    const result = r instanceof Promise ? await r : r;
    setImmediate(() => {
      void this.compare(result, input, opts);
    });
    return result;
  }

  private async compare(enforced: EngineResult, input: unknown, opts?: EvalOptions): Promise<void> {
    let shadow: EngineResult;
    try {
      const s = this.shadow.evaluate(input, opts);
      shadow = s instanceof Promise ? await s : s;
    } catch (e) {
      // Engines never throw (PolicyEngine); one that does is compared, and reported, as the failure it
      // is. It still never affects the request: this runs after the enforcing result was returned.
      shadow = { ok: false, code: 'policy_error', detail: e instanceof Error ? e.name : typeof e };
    }
    this.stats.compared += 1;
    if (!sameResult(enforced, shadow)) {
      this.stats.mismatches += 1;
      this.onMismatch?.({ enforcing: enforced, shadow, enforcingRevision: this.enforcing.revision, shadowRevision: this.shadow.revision });
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.enforcing.close(), this.shadow.close()]);
  }
}
