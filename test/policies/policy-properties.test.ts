// Properties of the callback policy alone, over arbitrary facts (fast-check): it always answers, every
// answer passes decision validation (known reason codes, connection backends only), and a pinned flow
// is only ever routed to its pin.
import fc from 'fast-check';
import { isReasonCode } from '../../ext-authz/src/model/reasons';
import type { ReasonCode } from '../../ext-authz/src/model/reasons';
import { validateDecision } from '../../ext-authz/src/policy/decision';
import { STAGES } from '../../ext-authz/src/model/registry';
import { callbackEngine } from '../support/demo-harness';

const LEGACY_ISS = 'https://legacy-idp.example.com';
const NEW_ISS = 'https://new-idp.example.com';
const KINDS = ['oauth_query', 'oidc_form_post', 'saml_post', 'webhook', 'login_start', 'logout', 'agent', 'other'] as const;
const VIOLATIONS: ReasonCode[] = ['duplicate_param', 'encoded_slash', 'code_replayed', 'unexpected_param', 'state_bad_mac'];
const issuer = fc.constantFrom(LEGACY_ISS, NEW_ISS, `${NEW_ISS}/`, 'https://attacker.example', null);
const backend = fc.constantFrom('legacy', 'new', 'elsewhere', null);

const input = fc.record({
  callback: fc.record({
    kind: fc.constantFrom(...KINDS),
    route: fc.constantFrom('/oauth2/callback', '/saml/acs', null),
    response_mode: fc.constantFrom('query', 'form_post', null),
    state_present: fc.boolean(),
    relay_state_present: fc.boolean(),
    code_present: fc.boolean(),
    iss: issuer,
    error: fc.constantFrom(null, 'access_denied'),
    saml: fc.option(fc.record({ issuer, in_response_to: fc.constantFrom('_r', null), destination: fc.constant(null) }), { nil: null }),
    violations: fc.subarray(VIOLATIONS),
  }),
  pin: fc.record({
    found: fc.boolean(),
    backend,
    issuer,
    connection: fc.constantFrom('demo', 'other'),
    response_mode: fc.constantFrom('query', 'form_post', null),
    expired: fc.boolean(),
    consumed_before: fc.boolean(),
    source: fc.constantFrom('envelope', 'store', 'cookie', null),
    error: fc.constantFrom(null, 'state_bad_mac', 'state_expired'),
    created_at_ms: fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }),
    hint_backend: backend,
  }),
  token: fc.record({
    present: fc.boolean(),
    verified: fc.boolean(),
    use: fc.constantFrom('id_token', 'logout_token', 'access_token', null),
    issuer,
    backend,
    error: fc.constantFrom(null, 'token_expired', 'alg_not_allowed'),
  }),
  migration: fc.record({
    connection: fc.constant('demo'),
    stage: fc.constantFrom(...STAGES),
    percent: fc.integer({ min: 0, max: 100 }),
    cohort_bucket: fc.option(fc.integer({ min: 0, max: 99 }), { nil: null }),
    legacy: fc.constant('legacy'),
    new: fc.constant('new'),
    backends: fc.constant([{ id: 'legacy', role: 'legacy', issuer: LEGACY_ISS, cluster: 'l' }, { id: 'new', role: 'new', issuer: NEW_ISS, cluster: 'n' }]),
    issuers: fc.constant({ [LEGACY_ISS]: { backend: 'legacy', iss_parameter_supported: true }, [NEW_ISS]: { backend: 'new', iss_parameter_supported: true } }),
    drain_until: fc.constantFrom(null, '2026-03-01T00:00:00Z'),
    drained: fc.boolean(),
    sunset_exceeded: fc.boolean(),
    require_pin: fc.boolean(),
    legacy_tokens_retired: fc.boolean(),
    idp_initiated_saml: fc.constantFrom([], [{ issuer: NEW_ISS, acs: '/saml/acs' }]),
  }),
  ignored_headers: fc.subarray(['x-callback-backend', 'x-forwarded-host', 'x-idp']),
  parsed_query: fc.constantFrom({}, { idp: ['legacy'] }),
});

const ctx = { backends: new Set(['legacy', 'new']), reserved: new Set(['x-callback-backend']), defaultBackend: 'legacy' };

describe('callback policy properties', () => {
  test('always a valid decision; pinned flows only to their pin; violations always deny', () => {
    const engine = callbackEngine();
    fc.assert(
      fc.property(input, (facts) => {
        const full = { attributes: {}, parsed_path: [], parsed_body: null, truncated_body: false, version: { ext_authz: 'v3', encoding: 'protojson' }, now: { rfc3339: '2026-06-01T00:00:00Z', ns: '1780272000000000000' }, ...facts };
        const r = engine.evaluate(full);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        const v = validateDecision(r.value, ctx);
        expect(v.shape).toBe('callback');
        const d = v.decision;
        expect(d.reasons.every(isReasonCode)).toBe(true);
        if (d.action === 'deny') expect(d.backend).toBeNull();
        const flow = ['oauth_query', 'oidc_form_post', 'saml_post'].includes(facts.callback.kind);
        if (flow && facts.pin.found && d.action !== 'deny') expect(d.backend).toBe(facts.pin.backend);
        if (facts.callback.violations.length > 0) expect(d).toMatchObject({ action: 'deny', reasons: facts.callback.violations });
        if (flow && facts.pin.found && (facts.pin.consumed_before || facts.pin.expired || facts.pin.error !== null)) expect(d.action).toBe('deny');
      }),
      { numRuns: 1500 },
    );
  });
});
