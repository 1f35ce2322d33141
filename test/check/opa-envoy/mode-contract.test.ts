// opa-envoy-plugin's decision contract, case by case, over real gRPC (and the HTTP listener) in
// `--mode opa-envoy`, as its Check handler defines it: a boolean or an object result; every object field
// with its type rules (allow-only fields read only on an allow, status and body only on a deny, headers
// and dynamic_metadata always); dry-run allowing a denial with an empty OkHttpResponse but never a failure;
// decision_id always in dynamic_metadata; body parsing (JSON, truncated, skip-request-body-parse). Where the
// plugin answers with an error (undefined or ill-typed decision, evaluation error, unreadable request) we
// deny with a reason code (docs/reason-codes.md), which Envoy would also do with failure_mode_allow off.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AppOptions } from '../../../ext-authz/src/app';
import { checkRequestFor, grpcCheck, httpRequest, startHarness } from '../../support/app-harness';
import type { Harness, Req } from '../../support/app-harness';

// A policy written the plugin's way (v1 syntax, no callback fields), its answer chosen by the first path segment.
const POLICY = `package envoy.authz

import rego.v1

default allow := false

allow if input.parsed_path == ["ok"]

seg := input.parsed_path[0]

result := {
	"allowed": true,
	"headers": {"x-multi": ["a", "b"], "x-one": "1"},
	"request_headers_to_remove": ["cookie"],
	"response_headers_to_add": {"set-cookie": "s=1"},
	"query_parameters_to_set": {"q": ["1", "2"]},
	"query_parameters_to_remove": ["secret"],
	"dynamic_metadata": {"tier": "gold", "n": 2},
} if seg == "rich-allow"

result := {
	"allowed": false,
	"http_status": 302,
	"headers": {"location": "https://login.example/"},
	"body": "log in first",
	"dynamic_metadata": {"why": "login"},
} if seg == "redirect"

result := {"allowed": false} if seg == "plain-deny"

result := {"allowed": "yes"} if seg == "bad-allowed"

result := {"headers": {"x": "y"}} if seg == "no-allowed"

result := {"allowed": false, "http_status": 999} if seg == "bad-status"

result := {"allowed": true, "request_headers_to_remove": "cookie"} if seg == "bad-remove-allow"

result := {"allowed": false, "request_headers_to_remove": "cookie"} if seg == "bad-remove-deny"

result := {"allowed": true, "headers": {"x": 1}} if seg == "bad-header"

result := 7 if seg == "number"

result := x if {
	seg == "conflict"
	some x in [1, 2]
}

result := {"allowed": input.parsed_body.ok, "headers": {"x-user": input.parsed_body.user}} if seg == "json"

result := {"allowed": true, "dynamic_metadata": {
	"truncated": object.get(input, "truncated_body", "absent"),
	"has_body": object.get(input, "parsed_body", "absent") != "absent",
}} if seg == "body-meta"
`;

const md = (resp: any): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries<any>(resp.dynamicMetadata?.fields ?? {})) out[k] = v.stringValue ?? v.numberValue ?? v.boolValue ?? v;
  return out;
};
const hv = (hs: any[] | undefined): [string, string][] => (hs ?? []).map((h) => [h.header.key, h.header.value]);

describe('--mode opa-envoy: the plugin\'s decision contract', () => {
  let tmp: string;
  const apps: Record<string, Harness> = {};
  const start = (over: Partial<AppOptions>) => startHarness({ mode: 'opa-envoy', policyDir: tmp, ...over });

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opa-envoy-contract-'));
    fs.writeFileSync(path.join(tmp, 'authz.rego'), POLICY);
    apps.allow = await start({}); // the default path: envoy/authz/allow
    apps.result = await start({ decisionPath: 'envoy/authz/result' });
    apps.dry = await start({ decisionPath: 'envoy/authz/result', opaEnvoy: { dryRun: true } });
    apps.dryBool = await start({ opaEnvoy: { dryRun: true } });
    apps.skip = await start({ decisionPath: 'envoy/authz/result', opaEnvoy: { skipRequestBodyParse: true } });
    const candidate = path.join(tmp, 'candidate');
    fs.mkdirSync(candidate);
    fs.writeFileSync(path.join(candidate, 'authz.rego'), 'package envoy.authz\n\ndefault allow := true\n');
    apps.shadow = await start({ policyDir: path.join(tmp, 'authz.rego'), shadowPolicy: candidate });
  }, 60_000);
  afterAll(async () => {
    for (const h of Object.values(apps)) await h.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const check = (app: string, r: Req): Promise<any> => grpcCheck(apps[app].client, checkRequestFor(r));

  test('the default decision path is envoy/authz/allow; a boolean answer has no HTTP response, only decision_id metadata', async () => {
    const ok = await check('allow', { path: '/ok' });
    expect(ok.status.code).toBe(0);
    expect(ok.okResponse ?? null).toBeNull();
    expect(ok.deniedResponse ?? null).toBeNull();
    expect(Object.keys(md(ok))).toEqual(['decision_id']);
    const no = await check('allow', { path: '/other' });
    expect(no.status.code).toBe(7);
    expect(no.deniedResponse ?? null).toBeNull(); // Envoy answers with its own 403
    expect(Object.keys(md(no))).toEqual(['decision_id']);
  });

  test('an allowing object: headers (multi-valued), removals, response headers, query edits, dynamic metadata', async () => {
    const r = await check('result', { path: '/rich-allow?secret=x' });
    expect(r.status.code).toBe(0);
    const ok = r.okResponse;
    expect(hv(ok.headers)).toEqual([['x-multi', 'a'], ['x-multi', 'b'], ['x-one', '1']]);
    for (const h of [...ok.headers, ...ok.responseHeadersToAdd]) expect(h.appendAction ?? h.append ?? null).toBeNull();
    expect(ok.headersToRemove).toEqual(['cookie']);
    expect(hv(ok.responseHeadersToAdd)).toEqual([['set-cookie', 's=1']]);
    expect(ok.queryParametersToSet).toEqual([{ key: 'q', value: '1' }, { key: 'q', value: '2' }]);
    expect(ok.queryParametersToRemove).toEqual(['secret']);
    expect(md(r)).toEqual({ tier: 'gold', n: 2, decision_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  });

  test('a denying object: its status, headers and body, and its dynamic metadata; 403 and an empty body by default', async () => {
    const r = await check('result', { path: '/redirect' });
    expect(r.status.code).toBe(7);
    expect(r.deniedResponse.status.code).toBe('Found');
    expect(hv(r.deniedResponse.headers)).toEqual([['location', 'https://login.example/']]);
    expect(r.deniedResponse.body).toBe('log in first');
    expect(md(r)).toMatchObject({ why: 'login' });
    const plain = await check('result', { path: '/plain-deny' });
    expect(plain.deniedResponse.status.code).toBe('Forbidden');
    expect(plain.deniedResponse.body ?? '').toBe('');
  });

  test('allow-only fields are read only on an allow: an ill-typed one fails an allow, not a deny', async () => {
    const allow = await check('result', { path: '/bad-remove-allow' });
    expect([allow.status.code, hv(allow.deniedResponse.headers)]).toEqual([7, expect.arrayContaining([['x-callback-reason', 'invalid_decision']])]);
    const deny = await check('result', { path: '/bad-remove-deny' });
    expect([deny.status.code, deny.deniedResponse.status.code, hv(deny.deniedResponse.headers)]).toEqual([7, 'Forbidden', []]);
  });

  test.each([
    ['bad-allowed', 'invalid_decision'], // allowed is not a boolean
    ['no-allowed', 'invalid_decision'], // no allowed key
    ['bad-status', 'invalid_decision'], // not a status Envoy knows
    ['bad-header', 'invalid_decision'], // a header value that is not a string
    ['number', 'invalid_decision'], // neither boolean nor object
    ['conflict', 'policy_error'], // evaluation error (two values for one complete rule)
    ['undefined-here', 'policy_undefined'], // no rule matches
  ])('/%s is denied %s (fail closed), and dry-run does not let it through', async (seg, reason) => {
    for (const app of ['result', 'dry']) {
      const r = await check(app, { path: `/${seg}` });
      expect(r.status.code).toBe(7);
      expect(r.deniedResponse.status.code).toBe('Forbidden');
      expect(hv(r.deniedResponse.headers)).toContainEqual(['x-callback-reason', reason]);
      expect(JSON.parse(r.deniedResponse.body)).toEqual({ error: 'request_denied', reason, decision_id: md(r).decision_id });
    }
  });

  test('a request the plugin cannot read (bad escape, ; in the query) is 400 malformed_request and never evaluated', async () => {
    for (const p of ['/ok?x=%zz', '/ok?a=1;b=2']) {
      const before = apps.allow.decisionLines.length;
      const r = await check('allow', { path: p });
      expect([r.status.code, r.deniedResponse.status.code]).toEqual([7, 'BadRequest']);
      expect(hv(r.deniedResponse.headers)).toContainEqual(['x-callback-reason', 'malformed_request']);
      const ev = JSON.parse(apps.allow.decisionLines[before]);
      expect(ev.input).toBeUndefined();
      expect(ev.error.code).toBe('malformed_request');
      expect(JSON.stringify(ev)).not.toContain('zz');
    }
  });

  test('dry-run: a denial is allowed with an empty OkHttpResponse; the decision log keeps the would-be decision', async () => {
    const before = apps.dry.decisionLines.length;
    const r = await check('dry', { path: '/redirect' });
    expect(r.status.code).toBe(0);
    expect(r.okResponse).toBeDefined();
    expect([hv(r.okResponse.headers), r.okResponse.headersToRemove ?? [], r.okResponse.queryParametersToSet ?? []]).toEqual([[], [], []]);
    expect(r.deniedResponse ?? null).toBeNull();
    const ev = JSON.parse(apps.dry.decisionLines[before]);
    expect(ev.result).toMatchObject({ allowed: false, http_status: 302, body: 'log in first' });
    expect(ev.result.headers.location).toBe('REDACTED'); // header values masked in the log
    expect(ev.masked).toContain('/result/headers/location');
    const b = await check('dryBool', { path: '/other' });
    expect(b.status.code).toBe(0);
    // An allow stays as the policy said.
    const a = await check('dry', { path: '/rich-allow' });
    expect(hv(a.okResponse.headers)).toHaveLength(3);
  });

  test('parsed_body from a JSON body; a body cut short is truncated_body; skip-request-body-parse leaves both out', async () => {
    const json = (user: string, ok: boolean) => JSON.stringify({ user, ok });
    const allowed = await check('result', { method: 'POST', path: '/json', headers: { 'content-type': 'application/json' }, body: json('ann', true) });
    expect([allowed.status.code, hv(allowed.okResponse.headers)]).toEqual([0, [['x-user', 'ann']]]);
    const denied = await check('result', { method: 'POST', path: '/json', headers: { 'content-type': 'application/json' }, body: json('bob', false) });
    expect(denied.status.code).toBe(7);
    const cut = await check('result', { method: 'POST', path: '/body-meta', headers: { 'content-type': 'application/json', 'content-length': '999' }, body: '{"a":' });
    expect(md(cut)).toMatchObject({ truncated: true, has_body: true });
    const skipped = await check('skip', { method: 'POST', path: '/body-meta', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(md(skipped)).toMatchObject({ has_body: false });
    expect(md(skipped).truncated).toBe('absent');
    // Without skipping, a body that is not JSON is a request the plugin cannot read.
    const bad = await check('result', { method: 'POST', path: '/body-meta', headers: { 'content-type': 'application/json' }, body: '{nope' });
    expect(hv(bad.deniedResponse.headers)).toContainEqual(['x-callback-reason', 'malformed_request']);
  });

  test('the HTTP listener gives the same answers: nginx auth_request and Envoy http_service', async () => {
    const h = apps.result;
    const nginx = (uri: string) => httpRequest(h.httpPort, 'GET', '/authz', { 'x-original-method': 'GET', 'x-original-uri': uri, 'x-original-host': 'app.example' });
    const allowed = await nginx('/rich-allow');
    expect(allowed.status).toBe(200);
    expect(allowed.headers['x-multi']).toBe('a, b'); // two header lines, joined by node
    expect(allowed.headers['x-envoy-auth-headers-to-remove']).toBe('cookie');
    const denied = await httpRequest(h.httpPort, 'GET', '/envoy/authz/redirect', { host: 'app.example' });
    expect([denied.status, denied.headers.location, denied.body]).toEqual([302, 'https://login.example/', 'log in first']);
    const failed = await nginx('/conflict');
    expect([failed.status, failed.headers['x-callback-reason']]).toEqual([403, 'policy_error']);
    // No Pin API in this mode.
    const pin = await httpRequest(h.httpPort, 'POST', '/v1/pins:mint', { 'content-type': 'application/json' }, '{}');
    expect(pin.status).toBe(404);
  });

  test('--shadow-policy: the candidate runs beside the enforcing policy; a difference is logged, the answer is the enforcing one', async () => {
    const h = apps.shadow;
    const before = h.decisionLines.length;
    const r = await check('shadow', { path: '/other' });
    expect(r.status.code).toBe(7);
    const deadline = Date.now() + 5000;
    while (!h.decisionLines.slice(before).some((l) => l.includes('"shadow"')) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    const events = h.decisionLines.slice(before).map((l) => JSON.parse(l));
    expect(events.find((e) => e.shadow === undefined)).toMatchObject({ decision_id: md(r).decision_id, result: false });
    expect(events.find((e) => e.shadow !== undefined)).toMatchObject({ decision_id: md(r).decision_id, result: false, shadow: { result: true } });
    const same = await check('shadow', { path: '/ok' });
    expect(same.status.code).toBe(0);
  });

  test('readiness and metrics work without a registry', async () => {
    const h = apps.result;
    const ready = await httpRequest(h.adminPort, 'GET', '/readyz', {});
    expect(ready.status).toBe(200);
    const metrics = await httpRequest(h.adminPort, 'GET', '/metrics', {});
    expect(metrics.body).toMatch(/reason="opa_envoy_allowed"/);
    expect(metrics.body).toMatch(/reason="policy_error"/);
  });
});
