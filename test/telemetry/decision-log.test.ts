// OPA-shaped decision log events with masking of every copy of the query and body (T-L5).
import { DecisionLogger, maskInput, memorySink, rfc3339Nanos } from '../../ext-authz/src/telemetry/decision-log';
import { result } from '../check/fixtures';

const input = {
  attributes: {
    request: {
      time: '2025-11-28T12:00:00Z',
      http: {
        method: 'POST',
        path: '/cb?code=CANARYCODE123&state=CANARYSTATE',
        query: 'code=CANARYCODE123&state=CANARYSTATE',
        headers: { ':path': '/cb?code=CANARYCODE123&state=CANARYSTATE', ':authority': 'auth.example.com', cookie: 'sid=SECRETCOOKIE', authorization: 'Bearer TOKEN', 'user-agent': 'ua' },
        body: 'SAMLResponse=PHNhbWw+&RelayState=RELAYCANARY',
        rawBody: 'c3RhdGU9eA==',
      },
    },
  },
  parsed_query: { code: ['CANARYCODE123'], state: ['CANARYSTATE'] },
  parsed_body: { id_token: ['eyJ.IDTOKEN.sig'] },
  token: { present: true, claims: { sub: 'u', nonce: 'n' } },
  callback: { state_hash: 'hash' },
};

test('maskInput erases bodies, claims and unlisted headers and masks query copies, recording pointers', () => {
  const m = maskInput(input);
  const text = JSON.stringify(m.input);
  for (const s of ['CANARYCODE123', 'CANARYSTATE', 'SECRETCOOKIE', 'TOKEN', 'IDTOKEN', 'RELAYCANARY', 'PHNhbWw']) expect(text).not.toContain(s);
  expect(m.masked).toEqual(
    expect.arrayContaining(['/input/parsed_query', '/input/attributes/request/http/path', '/input/attributes/request/http/query', '/input/attributes/request/http/headers/:path']),
  );
  expect(m.erased).toEqual(
    expect.arrayContaining(['/input/parsed_body', '/input/token/claims', '/input/attributes/request/http/body', '/input/attributes/request/http/headers/cookie']),
  );
  expect((m.input as any).callback.state_hash).toBe('hash');
  expect((m.input as any).parsed_query.code).toEqual(['REDACTED']);
  // the caller's object is untouched
  expect(input.parsed_query.code).toEqual(['CANARYCODE123']);
});

test('events carry the OPA fields', () => {
  const sink = memorySink();
  const dl = new DecisionLogger({ sink, labels: { id: 'i', version: '0.1.0' }, path: 'callback/decision' });
  const r = result();
  r.event = {
    decisionId: r.decisionId, requestId: 'rid', engine: 'rego', path: 'callback/decision', revision: 'r1',
    input: input as never, result: r.decision, decision: r.decision, engineError: null, problem: null, timings: r.timings,
  };
  dl.log(r, undefined, 5000);
  const ev = JSON.parse(sink.lines[0]);
  expect(ev).toMatchObject({ decision_id: 'd-123', path: 'callback/decision', labels: { id: 'i' }, req_id: 'rid', result: { action: 'allow' } });
  expect(ev.metrics.timer_rego_query_eval_ns).toBe(2000);
  expect(ev.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  expect(rfc3339Nanos(1_764_331_200_000_000_001n)).toBe('2025-11-28T12:00:00.000000001Z');
});

test('T-P3/T-L5: path parameters and fragments in every copy of the target are masked; iss stays readable', () => {
  const withParams = {
    attributes: {
      request: {
        http: {
          path: '/oauth2/callback;jsessionid=CANARYSESSION?code=CANARYCODE&iss=https%3A%2F%2Fidp',
          fragment: 'access_token=CANARYFRAG',
          headers: { ':path': '/webhooks/idp;state=CANARYSTATE2', ':authority': 'auth.example.com' },
        },
      },
    },
    parsed_query: { code: ['CANARYCODE'], iss: ['https://idp'] },
  };
  const m = maskInput(withParams);
  const text = JSON.stringify(m.input);
  for (const s of ['CANARYSESSION', 'CANARYCODE', 'CANARYFRAG', 'CANARYSTATE2']) expect(text).not.toContain(s);
  expect((m.input as any).attributes.request.http.path).toBe('/oauth2/callback;jsessionid=REDACTED?code=REDACTED&iss=https%3A%2F%2Fidp');
  expect((m.input as any).parsed_query.iss).toEqual(['https://idp']);
  expect(m.masked).toEqual(expect.arrayContaining(['/input/attributes/request/http/path', '/input/attributes/request/http/fragment', '/input/attributes/request/http/headers/:path']));
  // A path without any parameter is not reported as masked.
  expect(maskInput({ attributes: { request: { http: { path: '/login' } } } }).masked).toEqual([]);
});

test('the login start Set-Cookie (the cookie hint MAC) is masked in the logged decision; the hint header is not', () => {
  const sink = memorySink();
  const dl = new DecisionLogger({ sink, labels: {}, path: 'callback/decision' });
  const r = result();
  r.decision = { ...r.decision, response_headers: { 'set-cookie': '__Host-cbp_hint=v1.new.1.CANARYMAC; Path=/', 'x-callback-hint': 'restart-login' } };
  dl.log(r, undefined, 1);
  expect(sink.lines[0]).not.toContain('CANARYMAC');
  const ev = JSON.parse(sink.lines[0]);
  expect(ev.result.response_headers).toEqual({ 'set-cookie': 'REDACTED', 'x-callback-hint': 'restart-login' });
  expect(ev.masked).toContain('/result/response_headers/set-cookie');
  expect(r.decision.response_headers['set-cookie']).toContain('CANARYMAC'); // the caller's decision is untouched
});
