// docs/threat-model.md §9–§14 (JWT attacks, secret leakage, webhooks and logout, tenants, downgrade, stale proxy),
// one test per row, with real keys (jose), real webhook MACs and the callback policy.
import { createHmac, createPublicKey, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { toCheckResponse } from '../../ext-authz/src/check/check-response';
import type { RegistryConfig } from '../../ext-authz/src/model/registry';
import { createPin } from '../../ext-authz/src/pipeline/pins/mint';
import { LEGACY_ISS, NEW_ISS, demoJwt, demoSetup, formPost, freshCode, makeDemo, view } from '../support/demo-harness';
import type { Demo } from '../support/demo-harness';
import { BCL_EVENT, MIN, ROUTES, agentCall, b64url, cb, expectDeny, expectRoute, samlXml, standardWebhook } from './threat-helpers';

/** The RFC 9068 §2.1 header of an access token. */
const AT = { typ: 'at+jwt' };

describe('docs/threat-model.md §9 JWT attacks', () => {
  const tokenDemo = (): Demo => makeDemo({ routes: ROUTES });
  // Agent bearers are RFC 9068 access tokens: typ at+jwt, sub, client_id (and a jti: one-shot).
  const claims = (): Record<string, unknown> => ({ sub: 'agent-1', client_id: 'demo-client', jti: randomUUID() });

  test('T-J1 alg none → alg_not_allowed', async () => {
    const demo = tokenDemo();
    const now = Math.floor(demo.clock.now / 1000);
    const jwt = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ iss: LEGACY_ISS, aud: 'demo-client', sub: 'x', iat: now, exp: now + 60, jti: randomUUID() })}.`;
    expectDeny(await demo.decide(agentCall(jwt)), 'alg_not_allowed');
  });

  test('T-J2 HS256 signed with the RS256 issuer public key → alg_not_allowed', async () => {
    const demo = tokenDemo();
    const jwk = demo.setup.registry.issuers.find((i) => i.issuer === LEGACY_ISS)?.jwks?.keys[0] as Record<string, unknown>;
    const pem = createPublicKey({ key: jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    const now = Math.floor(demo.clock.now / 1000);
    const jwt = await new SignJWT({ iss: LEGACY_ISS, aud: 'demo-client', sub: 'x', iat: now, exp: now + 60, jti: randomUUID() })
      .setProtectedHeader({ alg: 'HS256', kid: jwk.kid as string })
      .sign(new TextEncoder().encode(pem));
    expectDeny(await demo.decide(agentCall(jwt)), 'alg_not_allowed');
  });

  test('T-J3 hostile kid values → kid_unknown', async () => {
    const demo = tokenDemo();
    for (const kid of ['../../../../dev/null', "' OR 1=1--"]) {
      const jwt = await demoJwt(demo.setup, 'legacy', claims(), { kid }, demo.clock.now);
      expectDeny(await demo.decide(agentCall(jwt)), 'kid_unknown');
    }
  });

  test('T-J4 jku / x5u / embedded jwk → key_source_not_allowed', async () => {
    const demo = tokenDemo();
    for (const header of [{ jku: 'https://attacker.example/jwks' }, { x5u: 'https://attacker.example/cert' }, { jwk: { kty: 'oct', k: 'AAAA' } }]) {
      const jwt = await demoJwt(demo.setup, 'legacy', claims(), header, demo.clock.now);
      expectDeny(await demo.decide(agentCall(jwt)), 'key_source_not_allowed');
    }
  });

  test('T-J5 exp in the past beyond skew → token_expired', async () => {
    const demo = tokenDemo();
    const jwt = await demoJwt(demo.setup, 'legacy', claims(), {}, demo.clock.now - 10 * MIN);
    expectDeny(await demo.decide(agentCall(jwt)), 'token_expired');
  });

  test('T-J6 nbf in the future beyond skew → token_not_yet_valid', async () => {
    const demo = tokenDemo();
    const jwt = await demoJwt(demo.setup, 'legacy', { ...claims(), nbf: Math.floor(demo.clock.now / 1000) + 300 }, {}, demo.clock.now);
    expectDeny(await demo.decide(agentCall(jwt)), 'token_not_yet_valid');
  });

  test('T-J7 wrong or extra untrusted audience → aud_mismatch', async () => {
    const demo = tokenDemo();
    for (const aud of ['someone-else', ['demo-client', 'untrusted']]) {
      const jwt = await demoJwt(demo.setup, 'legacy', { ...claims(), aud }, {}, demo.clock.now);
      expectDeny(await demo.decide(agentCall(jwt)), 'aud_mismatch');
    }
  });

  test('T-J8 validly signed by the other trusted issuer on a pinned flow → issuer_mismatch', async () => {
    const demo = makeDemo();
    const state = await demo.mint('new', 'form_post');
    const idToken = await demoJwt(demo.setup, 'legacy', { sub: 'u1', nonce: 'n' }, {}, demo.clock.now);
    expectDeny(await demo.decide(formPost('/oauth2/callback', [['code', freshCode()], ['state', state], ['id_token', idToken]])), 'issuer_mismatch');
  });

  test('T-J9 legacy-issued token after grace (retired, decommissioned) → legacy_issuer_retired; allowed before', async () => {
    const demo = tokenDemo();
    expectRoute(await demo.decide(agentCall(await demoJwt(demo.setup, 'legacy', claims(), AT, demo.clock.now))), 'allow', 'legacy', 'token_issuer');
    for (const stage of ['retired', 'decommissioned'] as const) {
      demo.setConnection({ stage });
      expectDeny(await demo.decide(agentCall(await demoJwt(demo.setup, 'legacy', claims(), AT, demo.clock.now))), 'legacy_issuer_retired');
    }
  });

  test('T-J9 in cutover, the grace ends at the legacy backend’s retire_tokens_at', async () => {
    const demo = tokenDemo();
    const backends = demo.setup.registry.connections[0].backends.map((b) => (b.role === 'legacy' ? { ...b, retire_tokens_at: demo.clock.now - MIN } : b));
    demo.setConnection({ stage: 'cutover', backends });
    expectDeny(await demo.decide(agentCall(await demoJwt(demo.setup, 'legacy', claims(), AT, demo.clock.now))), 'legacy_issuer_retired');
  });

  test('T-J10 type confusion: a logout token presented as a bearer → typ_mismatch', async () => {
    const demo = tokenDemo();
    const jwt = await demoJwt(demo.setup, 'legacy', { ...claims(), events: { [BCL_EVENT]: {} } }, { typ: 'logout+jwt' }, demo.clock.now);
    expectDeny(await demo.decide(agentCall(jwt)), 'typ_mismatch');
  });

  test('T-J11 replayed one-shot bearer (same jti) → jti_replayed', async () => {
    const demo = tokenDemo();
    const jwt = await demoJwt(demo.setup, 'legacy', claims(), AT, demo.clock.now);
    expectRoute(await demo.decide(agentCall(jwt)), 'allow', 'legacy');
    expectDeny(await demo.decide(agentCall(jwt)), 'jti_replayed');
  });

  test('T-J12 oversized token or huge crit → token_malformed', async () => {
    const demo = tokenDemo();
    const big = await demoJwt(demo.setup, 'legacy', { ...claims(), pad: 'x'.repeat(20_000) }, {}, demo.clock.now);
    expectDeny(await demo.decide(agentCall(big)), 'token_malformed');
    const crit = await demoJwt(demo.setup, 'legacy', { ...claims(), ext: 1 }, { crit: Array.from({ length: 50 }, (_, i) => `c${i}`) }, demo.clock.now).catch(() => null);
    if (crit !== null) expectDeny(await demo.decide(agentCall(crit)), 'token_malformed');
  });
});

describe('docs/threat-model.md §10 secret leakage (decision values; log lines are the telemetry tests)', () => {
  test('T-L1/T-L4 deny decisions, CheckResponses and decision events never echo code or state', async () => {
    const demo = makeDemo();
    const code = 'CANARYCODE123';
    const state = 'CANARYSTATE';
    const rs = [
      await cb(demo, [['code', code], ['state', state]]),
      await demo.decide(view(`/oauth2/callback%2F?code=${code}&state=${state}`)),
      await cb(demo, [['code', code], ['state', state], ['iss', 'https://attacker.example']]),
    ];
    for (const r of rs) {
      expect(r.decision.action).toBe('deny');
      const { event: _event, ...rest } = r;
      const text = JSON.stringify([rest, toCheckResponse(r, { routingHeader: 'x-callback-backend' })]);
      expect(text).not.toMatch(/CANARYCODE123|CANARYSTATE/);
    }
    for (const e of demo.events) {
      const { input: _i, ...rest } = e;
      expect(JSON.stringify(rest)).not.toMatch(/CANARYCODE123|CANARYSTATE/);
    }
  });

  test('T-L2 form_post / SAML body canaries (id_token, SAMLResponse, RelayState) appear only as hashes', async () => {
    const demo = makeDemo();
    const idToken = await demoJwt(demo.setup, 'new', { sub: 'CANARYSUB', nonce: 'n' }, {}, demo.clock.now);
    const r1 = await demo.decide(formPost('/oauth2/callback', [['code', 'CANARYCODE9'], ['state', 'CANARYSTATE9'], ['id_token', idToken]]));
    const r2 = await demo.decide(formPost('/saml/acs', [['SAMLResponse', samlXml('CANARYISSUER', '_x')], ['RelayState', 'CANARYRELAY']]));
    for (const r of [r1, r2]) {
      expect(r.decision.action).toBe('deny');
      const { event, ...rest } = r;
      const input = event?.input;
      const text = JSON.stringify([rest, toCheckResponse(r, { routingHeader: 'x-callback-backend' })]);
      expect(text).not.toMatch(/CANARY|SAMLResponse=|eyJ/);
      // The policy input keeps hashes, not values, in its facts (the raw copies live only in
      // attributes/parsed_body, which the decision log masks).
      expect(JSON.stringify({ callback: input?.callback, pin: input?.pin, token: input?.token })).not.toMatch(/CANARYCODE9|CANARYSTATE9|CANARYRELAY|eyJ/);
    }
  });
});

describe('docs/threat-model.md §11 webhooks and logout', () => {
  const secret = (): string => demoSetup().webhookSecret;
  const nowS = (demo: Demo): number => Math.floor(demo.clock.now / 1000);

  test('T-W1 a valid Standard Webhooks message replayed with the same id → webhook_replay', async () => {
    const demo = makeDemo();
    const req = standardWebhook(secret(), 'msg_w1', nowS(demo), '{"type":"user.updated"}');
    // No cohort key on a webhook: the canary keeps it on legacy.
    expectRoute(await demo.decide(req), 'allow', 'legacy', 'canary_cohort');
    expectDeny(await demo.decide(req), 'webhook_replay');
  });

  test('T-W2 webhook-timestamp more than 300 s away (either direction) → webhook_stale', async () => {
    const demo = makeDemo();
    expectDeny(await demo.decide(standardWebhook(secret(), 'msg_w2a', nowS(demo) - 301, '{}')), 'webhook_stale');
    expectDeny(await demo.decide(standardWebhook(secret(), 'msg_w2b', nowS(demo) + 301, '{}')), 'webhook_stale');
  });

  test('T-W3 body re-serialised after signing → bad_signature', async () => {
    const demo = makeDemo();
    const req = standardWebhook(secret(), 'msg_w3', nowS(demo), '{"a":1,"b":2}');
    expectDeny(await demo.decide({ ...req, body: '{"b":2,"a":1}' }), 'bad_signature');
    expectDeny(await demo.decide({ ...req, body: '{"a": 1,"b":2}' }), 'bad_signature');
  });

  test('T-W4 webhook-id containing "." → bad_webhook_id', async () => {
    const demo = makeDemo();
    expectDeny(await demo.decide(standardWebhook(secret(), 'msg.w4', nowS(demo), '{}')), 'bad_webhook_id');
  });

  test('T-W5 signed only with a retired secret → secret_retired; any active signature still verifies', async () => {
    const oldSecret = `whsec_${Buffer.from('old-secret-key-bytes-000000000000').toString('base64')}`;
    const demo = makeDemo({ webhook: { scheme: 'standard', secrets: [{ id: 'new', secret: secret() }, { id: 'old', secret: oldSecret, retire_at: Date.parse('2026-01-01T00:00:00Z') }], tolerance_s: 300 } });
    expectDeny(await demo.decide(standardWebhook(oldSecret, 'msg_w5', nowS(demo), '{}')), 'secret_retired');
    expect((await demo.decide(standardWebhook(secret(), 'msg_w5b', nowS(demo), '{}'))).decision.action).not.toBe('deny');
  });

  test('T-W6 GitHub-style HMAC replayed (same X-GitHub-Delivery) → webhook_replay', async () => {
    const demo = makeDemo({ webhook: { scheme: 'github', secrets: [{ id: 'gh', secret: 'github-secret' }], tolerance_s: 300 } });
    const body = '{"action":"opened"}';
    const sig = `sha256=${createHmac('sha256', 'github-secret').update(body).digest('hex')}`;
    const req = view('/webhooks/idp', { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': sig, 'x-github-delivery': 'd-w6' } });
    expect((await demo.decide(req)).decision.action).not.toBe('deny');
    expectDeny(await demo.decide(req), 'webhook_replay');
  });

  const logoutToken = async (demo: Demo, who: 'legacy' | 'new', extra: Record<string, unknown> = {}): Promise<string> =>
    demoJwt(demo.setup, who, { sub: 'u1', sid: 's1', jti: randomUUID(), events: { [BCL_EVENT]: {} }, ...extra }, { typ: 'logout+jwt' }, demo.clock.now);

  test('T-W8 verified back-channel logout from the legacy issuer at S5 → allow to the session owner, logout_fail_safe', async () => {
    const demo = makeDemo({ stage: 'retired' });
    const r = await demo.decide(formPost('/backchannel-logout', [['logout_token', await logoutToken(demo, 'legacy')]]));
    expectRoute(r, 'allow', 'legacy', 'logout_fail_safe');
  });

  test('T-W9 logout token containing nonce → typ_mismatch', async () => {
    const demo = makeDemo();
    expectDeny(await demo.decide(formPost('/backchannel-logout', [['logout_token', await logoutToken(demo, 'new', { nonce: 'n' })]])), 'typ_mismatch');
  });
});

describe('docs/threat-model.md §12 tenant confusion', () => {
  test('T-T1 state pinned on tenant B arriving on tenant A → tenant_mismatch', async () => {
    const addTenantB = (r: RegistryConfig): RegistryConfig => ({
      ...r,
      connections: [...r.connections, { ...r.connections[0], name: 'tenant-b', hosts: ['b.example.com'] }],
    });
    const demo = makeDemo({}, demoSetup(), addTenantB);
    const stateB = 'state-of-tenant-b';
    await createPin('tenant-b', 'legacy', stateB, null, demo.deps, demo.clock.now);
    expectDeny(await cb(demo, [['code', freshCode()], ['state', stateB], ['iss', LEGACY_ISS]]), 'tenant_mismatch');
  });

  test('T-T2 multi-tenant issuer: tid not on the allow-list → tenant_not_allowed', async () => {
    const tenants = (r: RegistryConfig): RegistryConfig => ({ ...r, issuers: r.issuers.map((i) => (i.issuer === LEGACY_ISS ? { ...i, tenants: ['tenant-a'] } : i)) });
    const demo = makeDemo({ routes: ROUTES }, demoSetup(), tenants);
    const bad = await demoJwt(demo.setup, 'legacy', { sub: 'x', client_id: 'demo-client', jti: randomUUID(), tid: 'tenant-z' }, AT, demo.clock.now);
    expectDeny(await demo.decide(agentCall(bad)), 'tenant_not_allowed');
    const good = await demoJwt(demo.setup, 'legacy', { sub: 'x', client_id: 'demo-client', jti: randomUUID(), tid: 'tenant-a' }, AT, demo.clock.now);
    expectRoute(await demo.decide(agentCall(good)), 'allow', 'legacy');
  });

  test('T-T4 webhook signed with tenant A’s secret but X-Tenant: B → tenant_mismatch', async () => {
    const demo = makeDemo({ webhook: { scheme: 'standard', secrets: [{ id: 'a', secret: demoSetup().webhookSecret, tenant: 'A' }], tolerance_s: 300 } });
    const req = standardWebhook(demoSetup().webhookSecret, 'msg_t4', Math.floor(demo.clock.now / 1000), '{}', { 'x-tenant': 'B' });
    expectDeny(await demo.decide(req), 'tenant_mismatch');
  });
});

describe('docs/threat-model.md §13 downgrade / rollback abuse', () => {
  test('T-D1 client attempts to force legacy at login start after S3 are ignored → downgrade_blocked', async () => {
    const demo = makeDemo({ stage: 'cutover' });
    const r = await demo.decide(view('/login?idp=legacy&domain_hint=legacy.example', { headers: { 'x-idp': 'legacy', cookie: 'idp=legacy' } }));
    expectRoute(r, 'rewrite', 'new', 'downgrade_blocked');
    expect(r.decision.reasons[0]).toBe('stage_new');
  });

  test('T-D2 after drain, a legacy pin created after the deadline (forged/replayed) → downgrade_blocked', async () => {
    const demo = makeDemo();
    const t0 = demo.clock.now;
    demo.setConnection({ stage: 'cutover', drain_until: t0 + MIN });
    demo.clock.now = t0 + 2 * MIN;
    await createPin('demo', 'legacy', 'late-legacy-state', null, demo.deps, demo.clock.now);
    expectDeny(await cb(demo, [['code', freshCode()], ['state', 'late-legacy-state'], ['iss', LEGACY_ISS]]), 'downgrade_blocked');
  });

  test('T-D4 during rollback a callback pinned to new → allow to new, pinned_new', async () => {
    const demo = makeDemo();
    const state = await demo.mint('new');
    demo.setConnection({ stage: 'rollback', drain_until: demo.clock.now + 60 * MIN });
    expectRoute(await cb(demo, [['code', freshCode()], ['state', state], ['iss', NEW_ISS]]), 'allow', 'new', 'pinned_new');
  });
});

describe('docs/threat-model.md §14 stale proxy', () => {
  test('T-X1 past sunset_at before S6: legacy-pinned and legacy-issued input denied → proxy_sunset_exceeded', async () => {
    const demo = makeDemo({ routes: ROUTES });
    const state = await demo.mint('legacy');
    demo.setConnection({ sunset_at: demo.clock.now - MIN });
    expectDeny(await cb(demo, [['code', freshCode()], ['state', state], ['iss', LEGACY_ISS]]), 'proxy_sunset_exceeded');
    expectDeny(await demo.decide(agentCall(await demoJwt(demo.setup, 'legacy', { sub: 'a', client_id: 'demo-client', jti: randomUUID() }, AT, demo.clock.now))), 'proxy_sunset_exceeded');
    const neu = await demo.mint('new');
    const r = await cb(demo, [['code', freshCode()], ['state', neu], ['iss', NEW_ISS]]);
    expectRoute(r, 'allow', 'new', 'proxy_sunset_exceeded');
  });
});
