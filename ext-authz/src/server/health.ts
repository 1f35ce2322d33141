// Readiness (docs/operations.md, "Health and readiness"), shared by grpc.health.v1 (grpc-health-check)
// and the admin listener's /readyz: ready only when every named condition holds — the policy and the
// registry are loaded, the store answers, … — and the service is not draining. Producers set conditions
// by name (`set('store', false, 'redis unreachable')`); listeners (metrics, logs) hear every change.
import { HealthImplementation } from 'grpc-health-check';
import type { ServingStatus } from 'grpc-health-check';

/** The services we report: "" (the whole server) and each gRPC service by full name. */
export const HEALTH_SERVICES = ['', 'envoy.service.auth.v3.Authorization', 'callbackproxy.v1.Pins'] as const;

/** Conditions every service has; others (e.g. `store`) are added by whoever produces them. */
export const BASE_CONDITIONS = ['policy', 'registry'] as const;

export interface ConditionState {
  name: string;
  ok: boolean;
  /** Why it fails (a fixed phrase, never request data or a secret); '' when ok. */
  detail: string;
}

export type ReadinessListener = (ready: boolean, conditions: readonly ConditionState[]) => void;

export class Readiness {
  readonly health: HealthImplementation;
  private readonly conditions = new Map<string, ConditionState>();
  private draining = false;
  private readonly listeners: ReadinessListener[] = [];
  private lastReady = false;

  constructor() {
    const initial: Record<string, ServingStatus> = {};
    for (const s of HEALTH_SERVICES) initial[s] = 'NOT_SERVING';
    this.health = new HealthImplementation(initial);
    for (const c of BASE_CONDITIONS) this.conditions.set(c, { name: c, ok: false, detail: 'loading' });
  }

  get ready(): boolean {
    if (this.draining) return false;
    for (const c of this.conditions.values()) if (!c.ok) return false;
    return true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Adds or updates a condition. `detail` says why it fails, in a few words. */
  set(name: string, ok: boolean, detail = ''): void {
    const prev = this.conditions.get(name);
    const next = { name, ok, detail: ok ? '' : detail || 'failing' };
    if (prev && prev.ok === next.ok && prev.detail === next.detail) return;
    this.conditions.set(name, next);
    this.publish();
  }

  /** Every condition, in the order they were first set. */
  snapshot(): ConditionState[] {
    return [...this.conditions.values()].map((c) => ({ ...c }));
  }

  /** Why the service is not ready ("draining", "store: redis unreachable"); empty when ready. */
  reasons(): string[] {
    const out: string[] = [];
    if (this.draining) out.push('draining');
    for (const c of this.conditions.values()) if (!c.ok) out.push(`${c.name}: ${c.detail}`);
    return out;
  }

  onChange(listener: ReadinessListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Policy and registry loaded (the app calls this once load() succeeded). */
  markLoaded(): void {
    this.set('policy', true);
    this.set('registry', true);
  }

  markDraining(): void {
    if (this.draining) return;
    this.draining = true;
    this.publish();
  }

  private publish(): void {
    const ready = this.ready;
    if (ready !== this.lastReady) {
      this.lastReady = ready;
      const status: ServingStatus = ready ? 'SERVING' : 'NOT_SERVING';
      for (const s of HEALTH_SERVICES) this.health.setStatus(s, status);
    }
    const snap = this.snapshot();
    for (const l of this.listeners) {
      try {
        l(ready, snap);
      } catch {
        // a listener must not stop readiness from changing
      }
    }
  }
}
