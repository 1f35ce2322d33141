// Readiness shared by grpc.health.v1 (grpc-health-check) and /readyz: NOT_SERVING until config,
// policies and keys are loaded, SERVING after, NOT_SERVING again while draining (issue #3 "gRPC").
import { HealthImplementation } from 'grpc-health-check';
import type { ServingStatus } from 'grpc-health-check';

/** The services we report: "" (the whole server) and each gRPC service by full name. */
export const HEALTH_SERVICES = ['', 'envoy.service.auth.v3.Authorization', 'callbackproxy.v1.Pins'] as const;

export class Readiness {
  readonly health: HealthImplementation;
  private loaded = false;
  private draining = false;

  constructor() {
    const initial: Record<string, ServingStatus> = {};
    for (const s of HEALTH_SERVICES) initial[s] = 'NOT_SERVING';
    this.health = new HealthImplementation(initial);
  }

  get ready(): boolean {
    return this.loaded && !this.draining;
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
