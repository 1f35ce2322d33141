// Hand-built PipelineResult values and CheckRequest objects for the adapter tests (no pipeline needed).
import type { PipelineResult } from '../../ext-authz/src/model/decision';
import type { ConnectionConfig } from '../../ext-authz/src/model/registry';

export function result(over: Partial<PipelineResult['decision']> = {}, extra: Partial<PipelineResult> = {}): PipelineResult {
  return {
    decision: {
      action: 'allow',
      backend: 'legacy',
      reasons: ['pinned_legacy'],
      http_status: 200,
      headers: {},
      response_headers: {},
      pin: null,
      dynamic_metadata: {},
      ...over,
    },
    decisionId: 'd-123',
    connection: { name: 'demo', stage: 'canary' } as ConnectionConfig,
    headersToRemove: [],
    timings: { facts: 1000, policy: 2000, total: 4000 },
    ...extra,
  };
}

export const CANARY_PATH = '/oauth2/callback?code=CANARYCODE123&state=CANARYSTATE';

export function checkRequest(http: Record<string, unknown>, source = '10.1.2.3'): Record<string, unknown> {
  return {
    attributes: {
      source: { address: { socketAddress: { address: source, portValue: 44123 } } },
      destination: { address: { socketAddress: { address: '127.0.0.1', portValue: 8443 } } },
      request: { time: { seconds: '1764331200', nanos: 123000000 }, http },
    },
  };
}
