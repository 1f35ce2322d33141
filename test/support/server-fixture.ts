// A check core over the real demo pipeline (real facts, stores, keys and Rego policy), for the server
// tests: the servers are exercised over real loopback with everything below them real. `hold()` parks
// the next decisions until released, to test draining with a check in flight.
import { Writable } from 'node:stream';
import { CheckCore } from '../../ext-authz/src/check/check-core';
import type { Decider } from '../../ext-authz/src/check/check-core';
import { Readiness } from '../../ext-authz/src/server/health';
import { PinApi } from '../../ext-authz/src/server/pin-api';
import { createLogger } from '../../ext-authz/src/telemetry/logger';
import { createMetrics } from '../../ext-authz/src/telemetry/metrics';
import type { ServiceMetrics } from '../../ext-authz/src/telemetry/metrics';
import { makeDemo } from './demo-harness';
import type { Demo } from './demo-harness';

export interface ServerFixture {
  demo: Demo;
  core: CheckCore;
  readiness: Readiness;
  pinApi: PinApi;
  metrics: ServiceMetrics;
  logLines(): Record<string, unknown>[];
  /**
   * Until `release()`, decisions wait (and then run the real pipeline); `reached` resolves when the first
   * one is waiting, so a test knows a check is in flight.
   */
  hold(): { release: () => void; reached: Promise<void> };
}

export function serverFixture(): ServerFixture {
  const demo = makeDemo();
  const readiness = new Readiness();
  const chunks: string[] = [];
  const stream = new Writable({
    write(c, _e, cb) {
      chunks.push(String(c));
      cb();
    },
  });
  let gate: Promise<void> | null = null;
  let arrived = (): void => undefined;
  const decider: Decider = {
    async decide(view, attributes, decisionId) {
      if (gate) {
        arrived();
        await gate;
      }
      return demo.pipeline.decide(view, attributes, decisionId);
    },
  };
  const metrics = createMetrics('test');
  const core = new CheckCore({ decider: () => (readiness.ready ? decider : null), logger: createLogger({ stream }), metrics, decisionLog: null });
  return {
    demo,
    core,
    readiness,
    pinApi: new PinApi(() => (readiness.ready ? demo.deps : null)),
    metrics,
    logLines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
    hold() {
      let release = (): void => undefined;
      gate = new Promise<void>((r) => {
        release = () => {
          gate = null;
          r();
        };
      });
      const reached = new Promise<void>((r) => {
        arrived = r;
      });
      return { release, reached };
    },
  };
}
