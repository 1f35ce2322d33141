// Readiness shared by grpc.health.v1 (grpc-health-check) and /readyz: NOT_SERVING until config,
// policies and keys are loaded, SERVING after, NOT_SERVING again while draining, and while a named
// condition fails (e.g. `store`: Redis down or its epoch not yet verified; docs/operations.md).
import { HealthImplementation } from 'grpc-health-check';
import type { ServingStatus } from 'grpc-health-check';

/** The services we report: "" (the whole server) and each gRPC service by full name. */
export const HEALTH_SERVICES = ['', 'envoy.service.auth.v3.Authorization', 'callbackproxy.v1.Pins'] as const;

export class Readiness {
  readonly health: HealthImplementation;
  private loaded = false;
  private draining = false;
  /** Failing conditions by name → why (a fixed phrase, never request data). */
  private readonly failing = new Map<string, string>();

  constructor() {
    const initial: Record<string, ServingStatus> = {};
    for (const s of HEALTH_SERVICES) initial[s] = 'NOT_SERVING';
    this.health = new HealthImplementation(initial);
  }

  get ready(): boolean {
    return this.loaded && !this.draining && this.failing.size === 0;
  }

  /** Sets a named condition (`set('store', false, 'redis unreachable')`); not ready while any fails. */
  set(name: string, ok: boolean, detail = ''): void {
    const before = this.failing.get(name);
    if (ok) {
      if (before === undefined) return;
      this.failing.delete(name);
    } else {
      const why = detail || 'failing';
      if (before === why) return;
      this.failing.set(name, why);
    }
    this.publish();
  }

  /** Why the service is not ready ("draining", "loading", "store: redis down"); empty when ready. */
  reasons(): string[] {
    const out: string[] = [];
    if (this.draining) out.push('draining');
    else if (!this.loaded) out.push('loading');
    for (const [name, why] of this.failing) out.push(`${name}: ${why}`);
    return out;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  markLoaded(): void {
    this.loaded = true;
    this.publish();
  }

  markDraining(): void {
    this.draining = true;
    this.publish();
  }

  private publish(): void {
    const status: ServingStatus = this.ready ? 'SERVING' : 'NOT_SERVING';
    for (const s of HEALTH_SERVICES) this.health.setStatus(s, status);
  }
}
