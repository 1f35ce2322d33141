// `callback-proxy check --mode opa-envoy`: one CheckRequest offline through opa-envoy-plugin's input and
// decision rules, with the exit code saying allowed (0), denied (1) or bad usage (2).
import { runCli, ROOT } from './run-cli';
import path from 'node:path';

const EXAMPLE = path.join(ROOT, 'policies', 'examples', 'opa-envoy');
const req = (p: string, method = 'GET') => JSON.stringify({ attributes: { request: { http: { method, path: p, host: 'auth.example.com' } } } });
const check = (p: string, extra: string[] = [], method = 'GET') =>
  runCli(['check', '--mode', 'opa-envoy', '--policy', EXAMPLE, '--data', path.join(EXAMPLE, 'routes.json'), ...extra, '-'], req(p, method));

describe('check --mode opa-envoy', () => {
  it('allows a callback with the object decision\'s header, and says so in the exit code', () => {
    const r = check('/saml/acs?error=access_denied&state=s', ['--decision', 'envoy/authz/result']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ allowed: true, reason: 'opa_envoy_allowed', check_response: { status: { code: 0 } } });
    expect(out.check_response.okResponse.headers).toEqual([{ header: { key: 'x-ext-authz-policy', value: 'opa-envoy-example' } }]);
    expect(out.check_response.dynamicMetadata.fields.decision_id.stringValue).toBe(out.decision_id);
  });

  it('denies by the default path envoy/authz/allow (boolean: no HTTP response) and exits 1', () => {
    const r = check('/oauth2/callback?code=c&state=s', [], 'POST');
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ allowed: false, reason: 'opa_envoy_denied', check_response: { status: { code: 7 } } });
    expect(out.check_response.deniedResponse).toBeUndefined();
  });

  it('an unreadable request is malformed_request; --config and an unknown mode are usage errors', () => {
    const bad = check('/oauth2/callback?code=%zz');
    expect([bad.status, JSON.parse(bad.stdout).reason]).toEqual([1, 'malformed_request']);
    expect(runCli(['check', '--mode', 'opa-envoy', '--policy', EXAMPLE, '--config', 'r.yaml', '-'], req('/')).stderr).toContain('--config: not used with --mode opa-envoy');
    const mode = runCli(['check', '--mode', 'opa', '-'], req('/'));
    expect([mode.status, mode.stderr.includes('--mode: unknown mode "opa"')]).toEqual([2, true]);
  });
});
