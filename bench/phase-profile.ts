// Where the time goes: one in-process pass over the same
// request shape, timing decode → view/attributes → facts → policy → encode separately.
import type { App } from '../ext-authz/src/app';
import { loadProtos } from '../ext-authz/src/check/protos';
import { checkRequestToView } from '../ext-authz/src/check/request-view';
import { attributesToJson } from '../ext-authz/src/check/attributes-json';
import { toCheckResponse } from '../ext-authz/src/check/check-response';
import type { DecodedCheckRequest } from '../ext-authz/src/check/check-request-types';
import { mintState } from '../ext-authz/src/pipeline/pins/mint';
import { callbackRequest } from './requests';

export interface PhaseProfile {
  n: number;
  allowed: number;
  /** Mean microseconds per request for each phase. */
  us: { decode: number; view: number; facts: number; policy: number; pipelineOther: number; encode: number; total: number };
  /** Server-side time per request (decode → encode), without the network or the client. */
  total_ms: { p50: number; p99: number; p999: number };
}

export async function profilePhases(app: App, n: number): Promise<PhaseProfile> {
  const rt = app.current;
  if (!rt) throw new Error('app not loaded');
  const check = loadProtos().authorizationService.Check;
  const wire: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const backend = i % 2 === 0 ? 'legacy' : 'new';
    const { state } = await mintState('demo', backend, rt.factsDeps(), Date.now());
    wire.push(check.requestSerialize(callbackRequest(state, backend)));
  }
  const sum = { decode: 0, view: 0, facts: 0, policy: 0, pipelineOther: 0, encode: 0, total: 0 };
  let allowed = 0;
  const totals: number[] = [];
  for (const bytes of wire) {
    const t0 = process.hrtime.bigint();
    const decoded = check.requestDeserialize(bytes) as DecodedCheckRequest;
    const t1 = process.hrtime.bigint();
    const v = checkRequestToView(decoded);
    if (!v.ok) throw new Error('bad bench request');
    const attrs = attributesToJson(decoded.attributes ?? {});
    const t2 = process.hrtime.bigint();
    const result = await rt.pipeline.decide(v.view, attrs);
    const t3 = process.hrtime.bigint();
    check.responseSerialize(toCheckResponse(result, { routingHeader: 'x-callback-backend' }));
    const t4 = process.hrtime.bigint();
    if (result.decision.action !== 'deny') allowed++;
    sum.decode += Number(t1 - t0);
    sum.view += Number(t2 - t1);
    sum.facts += result.timings.facts;
    sum.policy += result.timings.policy;
    sum.pipelineOther += Number(t3 - t2) - result.timings.facts - result.timings.policy;
    sum.encode += Number(t4 - t3);
    sum.total += Number(t4 - t0);
    totals.push(Number(t4 - t0) / 1e6);
  }
  totals.sort((a, b) => a - b);
  const at = (p: number): number => Math.round(totals[Math.min(totals.length - 1, Math.ceil(p * totals.length) - 1)] * 1000) / 1000;
  const us = Object.fromEntries(Object.entries(sum).map(([k, v]) => [k, Math.round(v / n / 10) / 100])) as PhaseProfile['us'];
  return { n, allowed, us, total_ms: { p50: at(0.5), p99: at(0.99), p999: at(0.999) } };
}
