// Fuzzing whole requests: the adapters (gRPC CheckRequest, Envoy http_service, nginx / Traefik /
// Caddy forward-auth), the facts phase, and the pipeline with the real Rego policy. For every input:
// no throw escapes; an adapter yields a view or `malformed_request`; facts carry only reason codes and
// keyed hashes; a decision is an allow to a configured backend or a deny with reason codes.
import fc from 'fast-check';
import { attributesFromView } from '../../ext-authz/src/check/attributes-from-view';
import type { DecodedCheckRequest } from '../../ext-authz/src/check/check-request-types';
import { envoyHttpServiceToView, proxyForwardAuthToView } from '../../ext-authz/src/check/forward-auth';
import { checkRequestToView } from '../../ext-authz/src/check/request-view';
import type { RequestView } from '../../ext-authz/src/model/request';
import { gatherFacts } from '../../ext-authz/src/pipeline/facts/gather';
import { mintState } from '../../ext-authz/src/pipeline/pins/mint';
import { makeDemo } from '../support/demo-harness';
import { fixture, NOW } from '../pipeline/facts/fixtures';
import { expectCode, fcOptions, Tally } from './budget';

const tally = new Tally();
afterAll(() => tally.printIfLong('requests'));

const CANARY_STATE = 'QZXSTATECANARY';
const CANARY_CODE = 'QZXCODECANARY';
const ROUTES = ['/oauth2/callback', '/saml/acs', '/login', '/webhooks/idp', '/backchannel-logout', '/other'];
const NAMES = ['state', 'code', 'iss', 'id_token', 'logout_token', 'SAMLResponse', 'RelayState', 'error', 'client_id', 'returnTo', 'redirect_uri', 'State', '%73tate', 'x'];
const VALUES = ['v1.new.1.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'https%3A%2F%2Fnew-idp.example.com', '%ZZ', '', 'a+b', '//evil.example', 'PHNhbWw+', 'eyJhbGciOiJub25lIn0.e30.', '%C3%A9', '\u00e9'];
const HEADER_NAMES = ['cookie', 'authorization', 'content-type', 'x-forwarded-host', 'x-callback-backend', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'x-hub-signature-256', 'x-github-delivery', 'x-tenant', 'host', 'x_forwarded_host', 'forwarded', 'x-envoy-auth-partial-body'];
const HEADER_VALUES = ['a=b', `__Host-cbp_hint=v1.new.1.${'A'.repeat(43)}`, 'Bearer eyJhbGciOiJub25lIn0.e30.', 'application/x-www-form-urlencoded', 'application/json', 'new', 'msg_1', '1795000000', 'v1,AAAA', 'sha256=00', 'true', '', 'auth.example.com'];

// The canaries travel only as state and code (iss, client_id and error are shown facts by design).
function pairArb(states: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...NAMES), fc.oneof(fc.constantFrom(...VALUES), fc.string({ maxLength: 12 }))).map(([k, v]) => `${k}=${v}`) },
    { weight: 2, arbitrary: fc.constantFrom(`state=${CANARY_STATE}`, `code=${CANARY_CODE}`, 'code=c1', 'iss=https%3A%2F%2Fnew-idp.example.com', 'iss=https%3A%2F%2Flegacy-idp.example.com') },
    { weight: states.length > 0 ? 3 : 0, arbitrary: states.length > 0 ? fc.constantFrom(...states).map((st) => `state=${encodeURIComponent(st)}`) : fc.constant('') },
  );
}
const queryArb = (states: string[]): fc.Arbitrary<string> => fc.array(pairArb(states), { maxLength: 5 }).map((ps) => ps.join('&'));
const tailArb = fc.oneof({ weight: 8, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom(';jsessionid=x', '%2F..', '/', '%00', '.json', '%3Bx') });
const pathArb = (states: string[]): fc.Arbitrary<string> =>
  fc.tuple(fc.constantFrom(...ROUTES), tailArb, queryArb(states), fc.boolean()).map(([r, tail, q, withQ]) => `${r}${tail}${withQ ? `?${q}` : ''}`);
const path = pathArb([]);
const BENIGN = ['cookie', 'authorization', 'content-type', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'x-hub-signature-256', 'x-github-delivery', 'user-agent'];
const headers = fc.oneof(
  { weight: 4, arbitrary: fc.dictionary(fc.constantFrom(...BENIGN), fc.oneof(fc.constantFrom(...HEADER_VALUES), fc.string({ maxLength: 16 })), { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...HEADER_NAMES), fc.oneof(fc.constantFrom(...HEADER_VALUES), fc.string({ maxLength: 16 })), { maxKeys: 5 }) },
);
const bodyArb = (states: string[]): fc.Arbitrary<Buffer> =>
  fc.oneof(queryArb(states).map((q) => Buffer.from(q)), fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)), fc.constant(Buffer.alloc(0)));
const bodyBytes = bodyArb([]);

function viewArb(states: string[]): fc.Arbitrary<RequestView> {
  return fc
    .record({
      method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'PUT'),
      host: fc.constantFrom('auth.example.com', 'auth.example.com', 'auth.example.com', 'AUTH.example.com:443', 'legacy-backend.internal'),
      path: states.length === 0 ? pathArb(states) : fc.oneof(
        { weight: 3, arbitrary: pathArb(states) },
        // A well-formed OAuth callback with a real state (sometimes already used): pin outcomes.
        { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...states), fc.stringMatching(/^[A-Za-z0-9]{1,12}$/), fc.constantFrom('new', 'legacy', 'none'))
          .map(([st, code, iss]) => `/oauth2/callback?code=${code}&state=${encodeURIComponent(st)}${iss === 'none' ? '' : `&iss=${encodeURIComponent(`https://${iss}-idp.example.com`)}`}`) },
      ),
      headers,
      body: bodyArb(states),
      truncated: fc.boolean().map((b) => b && Math.random() < 0.2),
    })
    .map((r) => {
      const v: RequestView = { method: r.method, scheme: 'https', host: r.host, path: r.path, headers: r.headers, duplicateHeaders: [], bodyTruncated: r.truncated, sourceIp: '192.0.2.1' };
      if (r.body.length > 0) {
        v.rawBody = r.body;
        v.body = r.body.toString('utf8');
        if (!('content-type' in v.headers)) v.headers = { ...v.headers, 'content-type': 'application/x-www-form-urlencoded' };
      }
      return v;
    });
}

describe('adapters', () => {
  test('gRPC CheckRequest → a view, or malformed_request', () => {
    const http = fc.record(
      {
        method: fc.constantFrom('GET', 'POST', ''),
        path: fc.oneof(path, fc.constant('')),
        host: fc.constantFrom('auth.example.com', ''),
        headers: headers,
        body: fc.string({ maxLength: 20 }),
        rawBody: fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b)),
        size: fc.constantFrom('-1', '0', '5', '999', 'x'),
        headerMap: fc.array(fc.record({ key: fc.constantFrom(...HEADER_NAMES), value: fc.string({ maxLength: 8 }), rawValue: fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)) }, { requiredKeys: ['key'] }), { maxLength: 4 }).map((headers) => ({ headers })),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.option(http, { nil: undefined }), (h) => {
        const req = { attributes: { request: h === undefined ? undefined : { http: h } } } as DecodedCheckRequest;
        const r = checkRequestToView(req);
        if (r.ok) {
          if (typeof r.view.path !== 'string' || r.view.path === '' || typeof r.view.method !== 'string') throw new Error('view without path/method');
          if ((r.view.body === undefined) !== (r.view.rawBody === undefined)) throw new Error('body without its bytes');
          tally.hit('adapter-grpc', 'view');
        } else tally.hit('adapter-grpc', expectCode(r.reason));
      }),
      fcOptions(10),
    );
  });

  test('Envoy http_service and nginx / Traefik / Caddy forward-auth → a view, or malformed_request', () => {
    const control = ['X-Original-URI', 'X-Original-Method', 'X-Original-Host', 'X-Forwarded-Uri', 'X-Forwarded-Method', 'X-Forwarded-Host', 'X-Real-Ip', 'Host', 'Cookie', 'Content-Length'];
    const noise = fc.array(fc.tuple(fc.constantFrom(...control, ...HEADER_NAMES), fc.oneof(path, fc.constantFrom('GET', 'POST', 'auth.example.com'), fc.string({ maxLength: 10 }))), { maxLength: 4 })
      .map((ps) => ps.flat());
    // A proxy's own description of the request (nginx X-Original-*, Traefik/Caddy X-Forwarded-*), then noise.
    const described = fc.tuple(fc.constantFrom('nginx', 'traefik'), path, fc.constantFrom('GET', 'POST', 'get'), noise).map(([kind, p, m, n]) =>
      kind === 'nginx'
        ? ['X-Original-URI', p, 'X-Original-Method', m, 'X-Original-Host', 'auth.example.com', 'X-Original-Remote-Addr', '192.0.2.9', ...n]
        : ['X-Forwarded-Uri', p, 'X-Forwarded-Method', m, 'X-Forwarded-Host', 'auth.example.com', 'X-Forwarded-Proto', 'https', ...n],
    );
    fc.assert(
      fc.property(fc.boolean(), fc.oneof(path.map((p) => `/envoy/authz${p}`), path, fc.string({ maxLength: 20 })), fc.oneof(described, noise), bodyBytes, (envoy, url, rawHeaders, body) => {
        const req = { method: 'POST', url, rawHeaders, body };
        const r = envoy ? envoyHttpServiceToView(req, '/envoy/authz') : proxyForwardAuthToView(req);
        const parser = envoy ? 'adapter-envoy-http' : 'adapter-forward-auth';
        if (r.ok) {
          if (!r.view.path.startsWith('/')) throw new Error(`view path ${JSON.stringify(r.view.path)}`);
          if (r.view.rawBody !== undefined && !Buffer.from(r.view.rawBody).equals(body)) throw new Error('body bytes changed');
          attributesFromView(r.view);
          tally.hit(parser, `view:${r.mode}`);
        } else tally.hit(parser, expectCode(r.reason));
      }),
      fcOptions(10),
    );
  });
});

test('facts: every violation and error is a reason code; raw state and code never appear in the facts', async () => {
  const { deps } = fixture();
  // Real states: envelopes (new) and store pins (legacy), so pin outcomes are exercised, not just misses.
  const states = await Promise.all(Array.from({ length: 12 }, (_, i) => mintState('demo', i % 2 === 0 ? 'new' : 'legacy', deps, NOW).then((m) => m.state)));
  await fc.assert(
    fc.asyncProperty(viewArb(states), async (v) => {
      const f = await gatherFacts(v, deps, NOW);
      for (const r of f.input.callback.violations) expectCode(r);
      for (const e of [f.input.pin.error, f.input.token.error, f.input.webhook?.error ?? null]) if (e !== null) expectCode(e);
      const facts = JSON.stringify({ callback: f.input.callback, pin: f.input.pin, token: f.input.token, webhook: f.input.webhook, migration: f.input.migration });
      for (const secret of [CANARY_STATE, CANARY_CODE, ...states]) if (facts.includes(secret)) throw new Error('a raw state or code reached the facts');
      tally.hit('facts', f.input.callback.violations[0] ?? f.input.pin.error ?? (f.input.pin.found ? `pin:${f.input.pin.source}${f.input.pin.consumed_before ? ':replayed' : ''}` : `clean:${f.input.callback.kind}`));
    }),
    fcOptions(6),
  );
});

test('pipeline with the real policy: allow to a configured backend, or deny with reason codes', async () => {
  const demo = makeDemo();
  demo.clock.now = NOW;
  const states = await Promise.all(Array.from({ length: 12 }, (_, i) => demo.mint(i % 2 === 0 ? 'new' : 'legacy')));
  await fc.assert(
    fc.asyncProperty(viewArb(states), async (v) => {
      const r = await demo.pipeline.decide(v, attributesFromView(v));
      const d = r.decision;
      if (d.action === 'allow' || d.action === 'rewrite') {
        if (d.backend !== 'legacy' && d.backend !== 'new') throw new Error(`allowed to ${String(d.backend)}`);
      } else {
        if (d.action !== 'deny' || d.reasons.length === 0) throw new Error('a deny without a reason');
        if (!Number.isInteger(d.http_status) || d.http_status < 400) throw new Error(`deny status ${d.http_status}`);
      }
      for (const c of d.reasons) expectCode(c);
      tally.hit('pipeline', `${d.action}:${d.reasons[0]}`);
    }),
    fcOptions(3),
  );
});
