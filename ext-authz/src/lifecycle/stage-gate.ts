// Fail closed on an unknown stage (docs/stages.md, "One source of truth"): while a replica cannot read
// the stage overrides, callbacks of the affected connections are denied `stage_unknown` BEFORE the
// pipeline runs, so nothing one-time (pins, codes) is consumed for a request we deny anyway. When every
// stage is known — the normal case — this is one null check per request.
import type { PipelineResult } from '../model/decision';
import type { RequestView } from '../model/request';
import type { Decider } from '../check/check-core';
import { localDeny } from '../check/local-deny';
import type { FactsDeps } from '../pipeline/facts/deps';
import { normaliseAuthority } from '../pipeline/facts/host-rules';

export interface StageGateOptions {
  inner: Decider;
  /** The connections whose stage is unknown now, or null when every stage is known. */
  unknown: () => ReadonlySet<string> | null;
  deps: () => FactsDeps;
}

export class StageGate implements Decider {
  constructor(private readonly opts: StageGateOptions) {}

  decide(req: RequestView, attributesJson: unknown, decisionId?: string): Promise<PipelineResult> {
    const unknown = this.opts.unknown();
    if (unknown !== null) {
      const conn = this.opts.deps().hosts.get(normaliseAuthority(req.host, req.scheme));
      if (conn && unknown.has(conn.config.name)) {
        const r = localDeny('stage_unknown', decisionId);
        r.connection = conn.config;
        return Promise.resolve(r);
      }
    }
    return this.opts.inner.decide(req, attributesJson, decisionId);
  }
}
