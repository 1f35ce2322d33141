// The check core is the outermost fail-closed boundary: whatever happens below it, a check ends in a
// decision; an exception becomes internal_error, logged once with the decision id and without the
// exception's message (which may quote request text).
import { Writable } from 'node:stream';
import { CheckCore } from '../../ext-authz/src/check/check-core';
import type { Decider } from '../../ext-authz/src/check/check-core';
import { adaptHttpRequest } from '../../ext-authz/src/check/adapter';
import { Pipeline } from '../../ext-authz/src/pipeline/pipeline';
import type { FactsDeps } from '../../ext-authz/src/pipeline/facts/gather';
import { createLogger } from '../../ext-authz/src/telemetry/logger';
import { createMetrics } from '../../ext-authz/src/telemetry/metrics';
import type { DecisionLogger } from '../../ext-authz/src/telemetry/decision-log';
import { callbackEngine, freshCode, makeDemo } from '../support/demo-harness';

function capture(): { lines: () => Record<string, unknown>[]; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(c, _e, cb) {
      chunks.push(String(c));
      cb();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const CANARY = 'CANARYSTATE-7f3a';
const raw = (uri: string) => ({
  method: 'GET',
  url: '/forward-auth',
  rawHeaders: ['X-Original-Method', 'GET', 'X-Original-Host', 'auth.example.com', 'X-Original-URI', uri],
});

function core(decider: Decider | null) {
  const out = capture();
  const c = new CheckCore({ decider: () => decider, logger: createLogger({ level: 'info', stream: out.stream }), metrics: createMetrics('test'), decisionLog: null });
  return { c, out };
}

test('an exception below the core → internal_error, logged once with the decision id, never its message', async () => {
  const { c, out } = core({
    decide: async () => {
      throw new SyntaxError(`Unexpected token in "${CANARY}"`);
    },
  });
  const r = await c.run(adaptHttpRequest(raw(`/oauth2/callback?state=${CANARY}&code=${freshCode()}`), null), 'http', process.hrtime.bigint());
  expect(r.decision).toMatchObject({ action: 'deny', reasons: ['internal_error'] });
  const failures = out.lines().filter((l) => l.event === 'check_failed');
  expect(failures).toHaveLength(1);
  expect(failures[0]).toMatchObject({ decision_id: r.decisionId, error_name: 'SyntaxError', transport: 'http' });
  expect(JSON.stringify(out.lines())).not.toContain(CANARY);
});

test('a real pipeline over broken facts dependencies fails closed through the core', async () => {
  const demo = makeDemo();
  const broken = { ...demo.deps, hosts: null } as unknown as FactsDeps;
  const { c, out } = core(new Pipeline({ factsDeps: () => broken, engine: callbackEngine() }));
  const r = await c.run(adaptHttpRequest(raw(`/oauth2/callback?state=s&code=${freshCode()}`), null), 'http', process.hrtime.bigint());
  expect(r.decision.reasons).toEqual(['internal_error']);
  expect(out.lines().filter((l) => l.event === 'check_failed')).toHaveLength(1);
});

test('not loaded yet → authz_unavailable; unreadable request → its reason; neither is logged as a failure', async () => {
  const { c, out } = core(null);
  expect((await c.run(adaptHttpRequest(raw('/oauth2/callback'), null), 'http', process.hrtime.bigint())).decision.reasons).toEqual(['authz_unavailable']);
  const { c: c2 } = core({ decide: async () => Promise.reject(new Error('unreachable')) });
  const bad = adaptHttpRequest({ method: 'GET', url: '/forward-auth', rawHeaders: [] }, null);
  expect((await c2.run(bad, 'http', process.hrtime.bigint())).decision.reasons).toEqual(['malformed_request']);
  expect(out.lines().filter((l) => l.event === 'check_failed')).toHaveLength(0);
});

test('the same decision id reaches the pipeline, the result and the log line', async () => {
  const demo = makeDemo();
  const { c, out } = core(new Pipeline({ factsDeps: () => demo.deps, engine: callbackEngine(), clock: () => demo.clock.now }));
  const r = await c.run(adaptHttpRequest(raw(`/oauth2/callback?state=nope&code=${freshCode()}`), null), 'http', process.hrtime.bigint());
  expect(r.event?.decisionId).toBe(r.decisionId);
  expect(out.lines().find((l) => l.event === 'decision')).toMatchObject({ decision_id: r.decisionId, action: 'deny' });
});

test('an adapter that throws is inside the boundary: internal_error, logged once with the decision id', async () => {
  const demo = makeDemo();
  const { c, out } = core(new Pipeline({ factsDeps: () => demo.deps, engine: callbackEngine(), clock: () => demo.clock.now }));
  const r = await c.run(
    () => {
      throw new TypeError(`cannot read "${CANARY}"`);
    },
    'grpc',
    process.hrtime.bigint(),
  );
  expect(r.decision).toMatchObject({ action: 'deny', reasons: ['internal_error'] });
  expect(out.lines().filter((l) => l.event === 'check_failed')).toEqual([expect.objectContaining({ decision_id: r.decisionId, error_name: 'TypeError', transport: 'grpc' })]);
  expect(JSON.stringify(out.lines())).not.toContain(CANARY);
});

test('telemetry that fails does not change the decision and is logged as record_failed, not as a failed check', async () => {
  const demo = makeDemo();
  const out = capture();
  const decisionLog = { log: () => { throw new RangeError('sink broke'); } } as unknown as DecisionLogger;
  const c = new CheckCore({
    decider: () => new Pipeline({ factsDeps: () => demo.deps, engine: callbackEngine(), clock: () => demo.clock.now }),
    logger: createLogger({ level: 'info', stream: out.stream }),
    metrics: createMetrics('test'),
    decisionLog,
  });
  const r = await c.run(adaptHttpRequest(raw(`/oauth2/callback?state=nope&code=${freshCode()}`), null), 'http', process.hrtime.bigint());
  expect(r.decision.reasons).toEqual(['state_unknown']);
  const lines = out.lines();
  expect(lines.filter((l) => l.event === 'record_failed')).toEqual([expect.objectContaining({ decision_id: r.decisionId, error_name: 'RangeError' })]);
  expect(lines.filter((l) => l.event === 'check_failed')).toEqual([]);
});
