// The pipeline's own guarantees, with real facts and real Rego policies written for the test: fail
// closed on every engine/decision failure, defense in depth against permissive policies, OPA-Envoy
// policies run unchanged, the input contract, and telemetry that cannot break a request.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipeline } from '../../ext-authz/src/pipeline/pipeline';
import type { DecisionEvent } from '../../ext-authz/src/model/decision';
import type { PipelineResult } from '../../ext-authz/src/model/decision';
import type { RequestView } from '../../ext-authz/src/model/request';
import { attributesFromView } from '../../ext-authz/src/check/attributes-from-view';
import { RegoPolicyEngine } from '../../ext-authz/src/policy/rego-engine';
import { ShadowEngine } from '../../ext-authz/src/policy/shadow-engine';
import { readDataFile } from '../../ext-authz/src/policy/load-dir';
import { LEGACY_ISS, NEW_ISS, POLICY_DIR, callbackEngine, freshCode, makeDemo, oauthCallback, view } from '../support/demo-harness';
import type { Demo } from '../support/demo-harness';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A one-file callback policy whose decision is the given Rego expression. */
function policy(body: string): RegoPolicyEngine {
  const dir = mkdtempSync(join(tmpdir(), 'cbp-pipe-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'p.rego'), `package callback\nimport rego.v1\n\n${body}\n`);
  return new RegoPolicyEngine({ dir });
}

interface Decides {
  decide(v: RequestView, attributes?: unknown): Promise<PipelineResult>;
}

/** A pipeline over the demo's facts; HTTP-mode attributes unless given, each event handed to `onEvent`. */
function pipelineWith(demo: Demo, engine: Pipeline['engine'], onEvent?: (e: DecisionEvent) => void): Decides {
  const p = new Pipeline({ factsDeps: () => demo.deps, engine, clock: () => demo.clock.now });
  return {
    async decide(v, attributes) {
      const r = await p.decide(v, attributes ?? attributesFromView(v));
      if (onEvent && r.event) onEvent(r.event);
      return r;
    },
  };
}

const ALLOW_LEGACY = 'decision := {"action": "allow", "backend": "legacy", "reasons": ["pinned_legacy"]}';

describe('fail closed', () => {
  test.each([
    ['a conflict at evaluation', 'policy_error', 'decision := 1 if true\ndecision := 2 if true'],
    ['an undefined decision', 'policy_undefined', 'decision := 1 if input.nope'],
    ['a malformed decision', 'invalid_decision', 'decision := {"action": "maybe"}'],
    ['an unknown reason code', 'invalid_decision', 'decision := {"action": "allow", "backend": "new", "reasons": ["trust_me"]}'],
    ['a backend outside the connection', 'backend_not_allowed', 'decision := {"action": "rewrite", "backend": "admin", "reasons": ["stage_new"]}'],
    ['a runaway policy', 'policy_timeout', 'decision := count([x | some x in numbers.range(1, 3000); some y in numbers.range(1, 3000); x < y])'],
  ])('%s → deny %s', async (_name, reason, body) => {
    const demo = makeDemo();
    const events: DecisionEvent[] = [];
    const p = pipelineWith(demo, policy(body), (e) => events.push(e));
    const r = await p.decide(oauthCallback([['code', freshCode()], ['state', await demo.mint('new')], ['iss', NEW_ISS]]));
    expect(r.decision).toMatchObject({ action: 'deny', backend: null, reasons: [reason] });
    expect(events[0].problem).toEqual(expect.any(String));
  });
});

describe('defense in depth against a permissive policy', () => {
  test('a valid pin wins over the policy’s backend → policy_ignored_violation', async () => {
    const demo = makeDemo();
    const p = pipelineWith(demo, policy(ALLOW_LEGACY));
    const r = await p.decide(oauthCallback([['code', freshCode()], ['state', await demo.mint('new')], ['iss', NEW_ISS]]));
    expect(r.decision).toMatchObject({ action: 'deny', reasons: ['policy_ignored_violation'] });
  });

  test('parser violations deny with the first violation plus policy_ignored_violation', async () => {
    const demo = makeDemo();
    const p = pipelineWith(demo, policy(ALLOW_LEGACY));
    const r = await p.decide(oauthCallback([['code', freshCode()], ['state', 'a'], ['state', 'b']]));
    expect(r.decision.reasons).toEqual(['duplicate_param', 'policy_ignored_violation']);
    expect(r.decision.http_status).toBe(400);
  });

  test('a replayed or expired pin is never allowed, whatever the policy says', async () => {
    const demo = makeDemo();
    const p = pipelineWith(demo, policy(ALLOW_LEGACY));
    const state = await demo.mint('legacy');
    expect((await p.decide(oauthCallback([['code', freshCode()], ['state', state], ['iss', LEGACY_ISS]]))).decision.action).toBe('allow');
    const replay = await p.decide(oauthCallback([['code', freshCode()], ['state', state], ['iss', LEGACY_ISS]]));
    expect(replay.decision.reasons).toEqual(['state_replayed', 'policy_ignored_violation']);
    const late = await demo.mint('legacy');
    demo.clock.now += 11 * 60_000;
    const expired = await p.decide(oauthCallback([['code', freshCode()], ['state', late], ['iss', LEGACY_ISS]]));
    expect(expired.decision.reasons).toEqual(['state_expired', 'policy_ignored_violation']);
  });

  test('no connection: the policy is not asked', async () => {
    const demo = makeDemo();
    const events: DecisionEvent[] = [];
    const p = pipelineWith(demo, policy(ALLOW_LEGACY), (e) => events.push(e));
    const r = await p.decide(view('/oauth2/callback?code=c&state=s', { host: 'evil.example.com' }));
    expect(r.decision.reasons).toEqual(['host_not_allowed']);
    expect(events[0]).toMatchObject({ input: null, result: undefined, engineError: null });
  });
});

describe('OPA-Envoy policies run unchanged', () => {
  const dir = join(POLICY_DIR, '..', 'examples', 'opa-envoy');
  const engine = (): RegoPolicyEngine => new RegoPolicyEngine({ dir, decision: 'envoy/authz/allow', extraData: [readDataFile(join(dir, 'routes.json'))] });

  test('allowed → the pinned backend; the pin and parser rules still apply', async () => {
    const demo = makeDemo();
    const p = pipelineWith(demo, engine());
    const state = await demo.mint('new');
    const ok = await p.decide(oauthCallback([['code', freshCode()], ['state', state], ['iss', NEW_ISS]]));
    expect(ok.decision).toMatchObject({ action: 'allow', backend: 'new', reasons: ['opa_envoy_allowed'] });
    const replay = await p.decide(oauthCallback([['code', freshCode()], ['state', state], ['iss', NEW_ISS]]));
    expect(replay.decision.reasons[0]).toBe('state_replayed');
    const denied = await p.decide(oauthCallback([['code', freshCode()]]));
    expect(denied.decision).toMatchObject({ action: 'deny', reasons: ['opa_envoy_denied'], http_status: 403 });
  });

  test('the object form (data.envoy.authz.result) with headers', async () => {
    const demo = makeDemo();
    const p = pipelineWith(demo, new RegoPolicyEngine({ dir, decision: 'envoy/authz/result' }));
    const r = await p.decide(oauthCallback([['code', freshCode()], ['state', await demo.mint('legacy')], ['iss', LEGACY_ISS]]));
    expect(r.decision).toMatchObject({ action: 'allow', backend: 'legacy', headers: { 'x-ext-authz-policy': 'opa-envoy-example' } });
  });
});

describe('input contract and telemetry', () => {
  test('HTTP mode synthesises protojson attributes; a CheckRequest’s attributes are passed through', async () => {
    const demo = makeDemo();
    const p = pipelineWith(demo, callbackEngine());
    const state = await demo.mint('new');
    const req = oauthCallback([['code', freshCode()], ['state', state], ['iss', NEW_ISS]], { requestId: 'rid-1' });
    const r = await p.decide(req);
    const input = r.event?.input as unknown as Record<string, any>;
    expect(input.version).toEqual({ ext_authz: 'v3', encoding: 'protojson' });
    expect(input.attributes.request.http).toMatchObject({ method: 'GET', host: 'auth.example.com', path: req.path, id: 'rid-1' });
    expect(input.attributes.request.http.headers[':authority']).toBe('auth.example.com');
    expect(input.attributes.source.address.socketAddress.address).toBe('203.0.113.7');
    expect(input.parsed_path).toEqual(['oauth2', 'callback']);
    expect(input.parsed_query.iss).toEqual([NEW_ISS]);
    const given = { request: { http: { method: 'GET', path: '/from-envoy' } } };
    const r2 = await p.decide(oauthCallback([['code', freshCode()], ['state', await demo.mint('new')], ['iss', NEW_ISS]]), given);
    expect(r2.event?.input?.attributes).toBe(given);
  });

  test('every decision carries its event: ids, engine, revision and timings', async () => {
    const demo = makeDemo();
    const seen: DecisionEvent[] = [];
    const p = pipelineWith(demo, callbackEngine(), (e) => seen.push(e));
    const r = await p.decide(oauthCallback([['code', freshCode()], ['state', await demo.mint('new')], ['iss', NEW_ISS]]));
    expect(r.decision.backend).toBe('new');
    expect(seen[0]).toMatchObject({ decisionId: r.decisionId, engine: 'rego', path: 'data.callback.decision', revision: callbackEngine().revision });
    expect(seen[0].timings.total).toBeGreaterThanOrEqual(seen[0].timings.policy);
  });

  test('a shadow engine never changes the decision and counts mismatches', async () => {
    const demo = makeDemo();
    const shadow = new ShadowEngine(callbackEngine(), policy(ALLOW_LEGACY));
    const p = pipelineWith(demo, shadow);
    const r = await p.decide(oauthCallback([['code', freshCode()], ['state', await demo.mint('new')], ['iss', NEW_ISS]]));
    expect(r.decision.backend).toBe('new');
    await new Promise((res) => setImmediate(res));
    await new Promise((res) => setImmediate(res));
    expect(shadow.stats).toEqual({ compared: 1, mismatches: 1 });
    expect(shadow.kind).toBe('shadow(rego,rego)');
  });
});
