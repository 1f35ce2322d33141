// Issue #3 acceptance items 1–8 at the pipeline level, against the embedded demo setup (real keys,
// real facts, real stores, the real Rego engine and policies/callback). The transport tests repeat
// them over gRPC and HTTP.
import { toCheckResponse } from '../../ext-authz/src/check/check-response';
import { HOST, LEGACY_ISS, NEW_ISS, freshCode, makeDemo, oauthCallback, view } from '../support/demo-harness';

describe('acceptance: the pipeline over the demo registry', () => {
  test('1. a state minted for new with the new iss → allow to new', async () => {
    const demo = makeDemo();
    const state = await demo.mint('new');
    const r = await demo.decide(oauthCallback([['code', freshCode()], ['state', state], ['iss', NEW_ISS]]));
    expect(r.decision.action).toBe('allow');
    expect(r.decision.backend).toBe('new');
    expect(r.decision.reasons[0]).toBe('pinned_new');
    expect(r.decisionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.timings.total).toBeGreaterThan(0);
  });

  test('2. a state minted for new with the legacy iss → deny issuer_mismatch', async () => {
    const demo = makeDemo();
    const state = await demo.mint('new');
    const r = await demo.decide(oauthCallback([['code', freshCode()], ['state', state], ['iss', LEGACY_ISS]]));
    expect(r.decision.action).toBe('deny');
    expect(r.decision.reasons[0]).toBe('issuer_mismatch');
    expect(r.decision.http_status).toBe(403);
  });

  test('3. a state minted for legacy with the legacy iss → allow to legacy', async () => {
    const demo = makeDemo();
    const state = await demo.mint('legacy');
    const r = await demo.decide(oauthCallback([['code', freshCode()], ['state', state], ['iss', LEGACY_ISS]]));
    expect(r.decision.action).toBe('allow');
    expect(r.decision.backend).toBe('legacy');
    expect(r.decision.reasons[0]).toBe('pinned_legacy');
  });

  test('4. the state of (1) replayed → deny state_replayed', async () => {
    const demo = makeDemo();
    const state = await demo.mint('new');
    const first = await demo.decide(oauthCallback([['code', freshCode()], ['state', state], ['iss', NEW_ISS]]));
    expect(first.decision.backend).toBe('new');
    const again = await demo.decide(oauthCallback([['code', freshCode()], ['state', state], ['iss', NEW_ISS]]));
    expect(again.decision.action).toBe('deny');
    expect(again.decision.reasons[0]).toBe('state_replayed');
  });

  test('4b. a store pin (legacy) replayed → deny state_replayed', async () => {
    const demo = makeDemo();
    const state = await demo.mint('legacy');
    await demo.decide(oauthCallback([['code', freshCode()], ['state', state], ['iss', LEGACY_ISS]]));
    const again = await demo.decide(oauthCallback([['code', freshCode()], ['state', state], ['iss', LEGACY_ISS]]));
    expect(again.decision.reasons[0]).toBe('state_replayed');
  });

  test('5. state twice → deny duplicate_param; no state → deny state_missing', async () => {
    const demo = makeDemo();
    const a = await demo.mint('new');
    const b = await demo.mint('legacy');
    const dup = await demo.decide(oauthCallback([['code', freshCode()], ['state', a], ['state', b], ['iss', NEW_ISS]]));
    expect(dup.decision.action).toBe('deny');
    expect(dup.decision.reasons[0]).toBe('duplicate_param');
    expect(dup.decision.http_status).toBe(400);
    const none = await demo.decide(oauthCallback([['code', freshCode()], ['iss', NEW_ISS]]));
    expect(none.decision.action).toBe('deny');
    expect(none.decision.reasons[0]).toBe('state_missing');
    // A polluted request burns nothing: the legitimate callback still works afterwards.
    const ok = await demo.decide(oauthCallback([['code', freshCode()], ['state', a], ['iss', NEW_ISS]]));
    expect(ok.decision.backend).toBe('new');
  });

  test('6. an encoded-slash path and a foreign host are denied', async () => {
    const demo = makeDemo();
    const state = await demo.mint('new');
    const slash = await demo.decide(view(`/oauth2/callback%2F..%2Fadmin?code=${freshCode()}&state=${state}&iss=${encodeURIComponent(NEW_ISS)}`));
    expect(slash.decision.action).toBe('deny');
    expect(slash.decision.reasons[0]).toBe('encoded_slash');
    const evil = await demo.decide(oauthCallback([['code', freshCode()], ['state', state], ['iss', NEW_ISS]], { host: 'evil.example.com' }));
    expect(evil.decision.action).toBe('deny');
    expect(evil.decision.reasons).toEqual(['host_not_allowed']);
    expect(evil.connection).toBeNull();
  });

  test('7. a client-sent x-callback-backend: new on a legacy-pinned callback → legacy, header removed', async () => {
    const demo = makeDemo();
    const state = await demo.mint('legacy');
    const r = await demo.decide(
      oauthCallback([['code', freshCode()], ['state', state], ['iss', LEGACY_ISS]], { headers: { 'x-callback-backend': 'new' } }),
    );
    expect(r.decision.action).toBe('allow');
    expect(r.decision.backend).toBe('legacy');
    expect(r.headersToRemove).toContain('x-callback-backend');
    expect(r.decision.reasons).toContain('ignored_routing_header');
    // The CheckResponse overwrites the routing header with the pinned backend.
    const resp = toCheckResponse(r, { routingHeader: 'x-callback-backend' });
    const routing = resp.okResponse?.headers?.find((h) => h.header?.key === 'x-callback-backend');
    expect(routing?.header?.value).toBe('legacy');
    expect(routing?.appendAction).toBe('OVERWRITE_IF_EXISTS_OR_ADD');
  });

  test('8. no deny decision, response or decision event (minus the masked input) carries code or state', async () => {
    const demo = makeDemo();
    const code = `CANARYCODE${freshCode()}`;
    const state = `CANARYSTATE${Date.now()}`;
    const results = [
      await demo.decide(oauthCallback([['code', code], ['state', state], ['iss', NEW_ISS]])), // state_unknown
      await demo.decide(oauthCallback([['code', code], ['state', state], ['state', state]])), // duplicate_param
      await demo.decide(oauthCallback([['code', code], ['state', state]], { host: 'evil.example.com' })),
      await demo.decide(view(`/oauth2/callback;x=${state}?code=${code}`)),
    ];
    for (const r of results) {
      expect(r.decision.action).toBe('deny');
      const resp = toCheckResponse(r, { routingHeader: 'x-callback-backend' });
      const { event: _event, ...rest } = r;
      const text = JSON.stringify([rest, resp]);
      expect(text).not.toContain(code);
      expect(text).not.toContain(state);
    }
    for (const e of demo.events) {
      const { input: _input, ...rest } = e;
      const text = JSON.stringify(rest, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      expect(text).not.toContain(code);
      expect(text).not.toContain(state);
    }
    expect(HOST).toBe('auth.example.com');
  });
});
