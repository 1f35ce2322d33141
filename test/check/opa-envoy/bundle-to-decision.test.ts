// The pieces of `--mode opa-envoy` together, without the gRPC server: the project's opa-envoy example
// read as a bundle directory (with the routes data OPA put in its bundle's data.json) and compiled by
// the Rego engine answers the shared samples as `opa eval` did; CheckRequests written as protojson go
// through the plugin's input rules, that policy and the plugin's decision rules to the answer
// opa-envoy-plugin would give. (The .rego files inside OPA's wasm bundle are not the whole policy:
// OPA leaves the entrypoint rules to policy.wasm, so a bundle with wasm must run on the wasm engine.)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fromProtojson } from '../../../ext-authz/src/check/protojson-request';
import { buildOpaEnvoyInput, interpretOpaEnvoyDecision } from '../../../ext-authz/src/check/opa-envoy/index';
import { loadBundlePath } from '../../../ext-authz/src/policy/bundle/index';
import { decisionToJson } from '../../../ext-authz/src/policy/value-json';
import { compilePolicy } from '../../../ext-authz/src/rego/engine';
import type { PreparedQuery, Value } from '../../../ext-authz/src/rego/engine';
import { REPO_ROOT, sharedFixture } from '../../support/shared-fixtures';

const shared = sharedFixture('opa-wasm', 'opa-envoy bundle → decision');
const maybe = shared ? describe : describe.skip;

maybe('the opa-envoy example bundle built by OPA', () => {
  let result: PreparedQuery;
  let allow: PreparedQuery;
  beforeAll(async () => {
    const b = await loadBundlePath(path.join(REPO_ROOT, 'policies', 'examples', 'opa-envoy'), { skipTestModules: true });
    expect(b.modules.map((m) => m.path)).toEqual(['authz.rego']);
    const wasmBundle = await loadBundlePath(path.join(shared!, 'opa-envoy', 'bundle.tar.gz'));
    const policy = compilePolicy(b.modules.map((m) => ({ file: m.path, text: m.text })), { data: wasmBundle.data });
    result = policy.prepare('data.envoy.authz.result');
    allow = policy.prepare('data.envoy.authz.allow');
  });

  const run = (q: PreparedQuery, input: unknown): unknown => {
    const r = q.evaluate(input);
    return r.defined ? decisionToJson(r.value as Value) : undefined;
  };

  test('answers every sample as opa eval did', () => {
    const samples = JSON.parse(fs.readFileSync(path.join(shared!, 'opa-envoy', 'samples.json'), 'utf8')).samples as { name: string; entrypoint: string; input: unknown; want: unknown }[];
    expect(samples.length).toBe(12);
    for (const s of samples) {
      const q = s.entrypoint === 'envoy/authz/result' ? result : allow;
      expect({ name: s.name, entrypoint: s.entrypoint, got: run(q, s.input) }).toEqual({ name: s.name, entrypoint: s.entrypoint, got: s.want });
    }
  });

  const check = (p: string, method = 'GET', dryRun = false) => {
    const req = fromProtojson({ attributes: { request: { http: { method, path: p, host: 'auth.example.com', headers: { ':path': p } } } } }).decoded;
    const input = buildOpaEnvoyInput(req);
    if (!input.ok) throw new Error(input.detail);
    return interpretOpaEnvoyDecision(run(result, input.input), { decisionId: 'd-1', dryRun });
  };

  test('a callback is allowed with the policy\'s header; /admin is denied 403 with it', () => {
    expect(check('/oauth2/callback?code=c&state=s')).toEqual({
      ok: true,
      result: {
        allowed: true,
        policyAllowed: true,
        dryRunOverride: false,
        ok: { headers: [{ key: 'x-ext-authz-policy', value: 'opa-envoy-example' }], headersToRemove: [], responseHeadersToAdd: [], queryParametersToSet: [], queryParametersToRemove: [] },
        denied: null,
        dynamicMetadata: { decision_id: 'd-1' },
      },
    });
    expect(check('/admin')).toMatchObject({ ok: true, result: { allowed: false, denied: { status: 403, headers: [{ key: 'x-ext-authz-policy', value: 'opa-envoy-example' }], body: '' } } });
  });

  test('a repeated state and a POST are denied; the data file route (saml/acs) is allowed; dry-run lets the denial through', () => {
    expect(check('/oauth2/callback?code=c&state=s&state=t')).toMatchObject({ ok: true, result: { allowed: false } });
    expect(check('/oauth2/callback?code=c&state=s', 'POST')).toMatchObject({ ok: true, result: { allowed: false } });
    expect(check('/saml/acs?error=access_denied&state=s')).toMatchObject({ ok: true, result: { allowed: true } });
    expect(check('/admin', 'GET', true)).toMatchObject({ ok: true, result: { allowed: true, policyAllowed: false, dryRunOverride: true } });
  });

  test('a request the plugin cannot read never reaches the policy', () => {
    const req = fromProtojson({ attributes: { request: { http: { method: 'GET', path: '/oauth2/callback?code=%zz&state=s' } } } }).decoded;
    expect(buildOpaEnvoyInput(req)).toMatchObject({ ok: false, code: 'request_parse_error' });
  });
});
