// Denies produced by the adapters themselves (unreadable request, pipeline failure, not ready) in the
// same PipelineResult shape as the pipeline's, so one encoder builds every response (docs/architecture.md, "Fail closed").
import { randomUUID } from 'node:crypto';
import type { PipelineResult } from '../model/decision';
import { denyStatus } from '../model/reasons';
import type { ReasonCode } from '../model/reasons';

export function localDeny(reason: ReasonCode, decisionId: string = randomUUID()): PipelineResult {
  return {
    decision: {
      action: 'deny',
      backend: null,
      reasons: [reason],
      http_status: denyStatus(reason),
      headers: {},
      response_headers: {},
      pin: null,
      dynamic_metadata: {},
    },
    decisionId,
    connection: null,
    headersToRemove: [],
    timings: { facts: 0, policy: 0, total: 0 },
  };
}
