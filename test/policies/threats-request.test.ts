// docs/threat-model.md §5–§8 (host and forwarding headers, path encodings, parameter pollution, size limits),
// one test per row, through the real pipeline and the callback policy.
import { LEGACY_ISS, NEW_ISS, demoSetup, formPost, freshCode, makeDemo, view } from '../support/demo-harness';
import { cb, expectDeny, expectRoute, standardWebhook } from './threat-helpers';

describe('docs/threat-model.md §5 host / forwarding header spoofing', () => {
  test('T-H1 Host naming an internal backend → host_not_allowed', async () => {
    expectDeny(await cb(makeDemo(), [['code', freshCode()], ['state', 's']], { host: 'legacy-backend.internal' }), 'host_not_allowed');
  });

  test('T-H2 duplicate Host → duplicate_host', async () => {
    const demo = makeDemo();
    const r = await cb(demo, [['code', freshCode()], ['state', await demo.mint('new')], ['iss', NEW_ISS]], { duplicateHeaders: ['host'], headers: { host: 'auth.example.com,auth.example.com' } });
    expectDeny(r, 'duplicate_host');
  });

  test('T-H3 client forwarding headers leave the decision unchanged and are stripped → ignored_forwarding_header', async () => {
    const demo = makeDemo();
    const headers = { 'x-forwarded-host': 'new-backend.internal', forwarded: 'host=new-backend.internal', 'x-original-url': '/admin', 'x-rewrite-url': '/admin' };
    const r = await cb(demo, [['code', freshCode()], ['state', await demo.mint('legacy')], ['iss', LEGACY_ISS]], { headers });
    expectRoute(r, 'allow', 'legacy', 'ignored_forwarding_header');
    for (const h of Object.keys(headers)) expect(r.headersToRemove).toContain(h);
  });

  test('T-H4 client routing headers are stripped; the pin decides → ignored_routing_header', async () => {
    const demo = makeDemo();
    const headers = { 'x-cbp-target': 'new', 'x-backend': 'new', 'x-callback-backend': 'new' };
    const r = await cb(demo, [['code', freshCode()], ['state', await demo.mint('legacy')], ['iss', LEGACY_ISS]], { headers });
    expectRoute(r, 'allow', 'legacy', 'ignored_routing_header');
    for (const h of Object.keys(headers)) expect(r.headersToRemove).toContain(h);
  });

  test('T-H5 absolute-form target whose authority differs from Host → authority_mismatch', async () => {
    const demo = makeDemo();
    const state = await demo.mint('new');
    const r = await demo.decide(view(`https://cb.example/oauth2/callback?code=${freshCode()}&state=${state}`));
    expectDeny(r, 'authority_mismatch');
  });

  test('T-H6 X-Forwarded-For cannot satisfy a webhook source allow-list → source_ip_denied', async () => {
    const demo = makeDemo({ webhook: { scheme: 'standard', secrets: [{ id: 'demo', secret: demoSetup().webhookSecret }], tolerance_s: 300, source_cidrs: ['10.0.0.0/8'] } });
    const req = standardWebhook(demoSetup().webhookSecret, 'msg_h6', Math.floor(demo.clock.now / 1000), '{"a":1}', { 'x-forwarded-for': '10.0.0.5' });
    expectDeny(await demo.decide(req), 'source_ip_denied');
  });

  test('T-H7 underscore header aliasing → bad_header', async () => {
    const demo = makeDemo();
    const r = await cb(demo, [['code', freshCode()], ['state', await demo.mint('new')], ['iss', NEW_ISS]], { headers: { x_forwarded_host: 'evil' } });
    expectDeny(r, 'bad_header');
  });
});

describe('docs/threat-model.md §6 path traversal / encoding', () => {
  const q = '?code=c&state=s';
  test.each([
    ['T-P1 dot segments', '/oauth2/callback/../admin', ['not_callback_route', 'bad_path']],
    ['T-P2 encoded slash', '/oauth2/callback%2F..%2Fadmin', ['encoded_slash']],
    ['T-P2 encoded backslash', '/oauth2/callback%5C..%5Cadmin', ['encoded_slash']],
    ['T-P3 matrix parameter traversal', '/oauth2/callback/..;/admin', ['path_param']],
    ['T-P3 jsessionid', '/oauth2/callback;jsessionid=x', ['path_param']],
    ['T-P4 double encoding', '/oauth2/callback/%252e%252e/admin', ['double_encoding']],
    ['T-P5 leading double slash', '//oauth2/callback', ['not_callback_route']],
    ['T-P5 trailing slash', '/oauth2/callback/', ['not_callback_route']],
    ['T-P6 case variant', '/OAUTH2/Callback', ['not_callback_route']],
    ['T-P7 suffix', '/oauth2/callback.json', ['not_callback_route']],
    ['T-P7 extra segment', '/oauth2/callback/extra', ['not_callback_route']],
    ['T-P7 NUL', '/oauth2/callback%00', ['bad_path']],
    ['T-P8 fullwidth slash', '/oauth2/callback%EF%BC%8Fadmin', ['bad_path']],
    ['T-P8 overlong slash', '/oauth2/callback%C0%AFadmin', ['bad_path']],
  ])('%s: %s → deny', async (_name, path, reasons) => {
    const r = await makeDemo().decide(view(path + q));
    expect(r.decision.action).toBe('deny');
    expect(reasons).toContain(r.decision.reasons[0]);
  });
});

describe('docs/threat-model.md §7 HTTP parameter pollution', () => {
  test('T-Q1 state twice → duplicate_param', async () => {
    const demo = makeDemo();
    expectDeny(await cb(demo, [['code', freshCode()], ['state', await demo.mint('new')], ['state', await demo.mint('legacy')]]), 'duplicate_param');
  });

  test('T-Q2 code twice → duplicate_param', async () => {
    const demo = makeDemo();
    expectDeny(await cb(demo, [['code', 'a'], ['code', 'b'], ['state', await demo.mint('new')], ['iss', NEW_ISS]]), 'duplicate_param');
  });

  test('T-Q3 state in query and body → ambiguous_param_location', async () => {
    const demo = makeDemo();
    const state = await demo.mint('new', 'form_post');
    expectDeny(await demo.decide(formPost(`/oauth2/callback?state=${state}`, [['code', freshCode()], ['state', state]])), 'ambiguous_param_location');
  });

  test('T-Q4 literal parsing: state=A%26code%3DB is one opaque value → state_unknown; array syntax is no state', async () => {
    const demo = makeDemo();
    expectDeny(await demo.decide(view(`/oauth2/callback?code=${freshCode()}&state=A%26code%3DB&iss=${encodeURIComponent(NEW_ISS)}`)), 'state_unknown');
    const arr = await demo.decide(view(`/oauth2/callback?code=${freshCode()}&state.x=1`));
    expect(arr.decision.action).toBe('deny');
  });

  test('T-Q5 case/encoding twins are other keys → unexpected_param', async () => {
    const demo = makeDemo();
    const state = await demo.mint('new');
    expectDeny(await demo.decide(view(`/oauth2/callback?code=${freshCode()}&State=${state}&iss=${encodeURIComponent(NEW_ISS)}`)), 'unexpected_param');
    // Names are never percent-decoded: `%73tate` is a twin of `state`, not `state` itself.
    expectDeny(await demo.decide(view(`/oauth2/callback?code=${freshCode()}&%73tate=${await demo.mint('new')}&iss=${encodeURIComponent(NEW_ISS)}`)), 'unexpected_param');
  });
});

describe('docs/threat-model.md §8 size limits (the parts ext-authz sees)', () => {
  test('T-Z2 a body over max_body_bytes that still reaches ext-authz → body_too_large', async () => {
    const demo = makeDemo();
    const r = await demo.decide(formPost('/oauth2/callback', [['state', 's'], ['code', 'c'.repeat(300_000)]]));
    expectDeny(r, 'body_too_large');
    expect(r.decision.http_status).toBe(413);
  });

  test('T-Z4 state > 512 B, code > 2 KiB → param_too_long; > 20 params → too_many_params', async () => {
    const demo = makeDemo();
    expectDeny(await cb(demo, [['code', freshCode()], ['state', 's'.repeat(513)]]), 'param_too_long');
    expectDeny(await cb(demo, [['code', 'c'.repeat(2049)], ['state', await demo.mint('new')]]), 'param_too_long');
    const many: [string, string][] = Array.from({ length: 21 }, (_, i) => [`p${i}`, 'x']);
    expectDeny(await cb(demo, many), 'too_many_params');
  });
});
