// Registry validation: defaults, cross-field rules with the field
// path in the message, secret references, and no secret value in any error.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { ConfigError, loadRegistryFile, parseRegistry } from '../../ext-authz/src/config/registry';
import { credentialOwners, generateKeyFile, renderKeyFile } from '../../ext-authz/src/config/key-file';
import { DEFAULT_STRIP_HEADERS } from '../../ext-authz/src/config/registry-schema';
import { thrown } from '../support/errors';

const KEY = 'c2VjcmV0LWtleS1ieXRlcy0wMTIzNDU2Nzg5YWJjZGVm'; // base64url, 32 bytes

function minimal(): Record<string, any> {
  return {
    version: 1,
    connections: [
      {
        name: 'demo',
        hosts: ['auth.example.com'],
        routes: { oauth_callback: ['/cb'] },
        backends: [
          { id: 'legacy', role: 'legacy', cluster: 'l', issuer: 'https://l.example' },
          { id: 'new', role: 'new', cluster: 'n', issuer: 'https://n.example', iss_parameter_supported: true },
        ],
        stage: 'observe',
      },
    ],
    issuers: [{ issuer: 'https://n.example', backend: 'new', jwks_uri: 'https://n.example/jwks', algs: ['RS256'] }],
    keys: { hash_key: KEY, cookie_key: KEY },
  };
}

const errorOf = (doc: unknown, env: NodeJS.ProcessEnv = {}): ConfigError => thrown(() => parseRegistry(stringify(doc), 'registry.yaml', { env }), ConfigError);

describe('parseRegistry', () => {
  it('applies defaults', () => {
    const r = parseRegistry(stringify(minimal()), 'registry.yaml');
    expect(r.limits).toEqual({
      max_params: 20, max_state_bytes: 512, max_code_bytes: 2048, max_relay_state_bytes: 80, max_token_bytes: 16384, max_body_bytes: 262144,
      max_state_markers: 250_000, max_code_markers: 250_000, max_webhook_markers: 100_000, max_jti_markers: 100_000, max_pins: 250_000,
      unknown_states_per_source_per_min: 60, unknown_states_per_connection_per_min: 6000, max_limited_sources: 50_000,
    });
    expect(r.routing_header).toBe('x-callback-backend');
    expect(r.strip_headers).toEqual(DEFAULT_STRIP_HEADERS);
    const c = r.connections[0];
    expect(c).toMatchObject({ canary_percent: 0, cohort_key: 'client_id', require_pin: true, pin_ttl_s: 600, return_params: [], allowed_params: [], idp_initiated_saml: [] });
    expect(c.routes).toEqual({ oauth_callback: ['/cb'], saml_acs: [], login_start: [], webhook: [], logout: [], agent: [] });
    expect(c.backends[0].iss_parameter_supported).toBe(false);
    expect(r.issuers[0]).toMatchObject({ clock_skew_s: 60, audiences: [] });
  });

  it('turns RFC 3339 instants into epoch ms', () => {
    const d = minimal();
    d.connections[0].drain_until = '2027-01-31T00:00:00Z';
    d.connections[0].sunset_at = '2027-06-01T02:00:00+02:00';
    const c = parseRegistry(stringify(d), 'r.yaml').connections[0];
    expect(c.drain_until).toBe(Date.parse('2027-01-31T00:00:00Z'));
    expect(c.sunset_at).toBe(Date.parse('2027-06-01T00:00:00Z'));
  });

  it.each([
    ['stage', (d: any) => (d.connections[0].stage = 'live'), 'registry.yaml: connections[0].stage: expected one of observe|shadow|canary|cutover|rollback|retired|decommissioned'],
    ['canary_percent', (d: any) => (d.connections[0].canary_percent = 101), 'connections[0].canary_percent: expected 0..100'],
    ['backends roles', (d: any) => (d.connections[0].backends[1].role = 'legacy'), 'connections[0].backends: expected exactly one legacy and one new backend'],
    ['issuer backend', (d: any) => (d.issuers[0].backend = 'ghost'), 'issuers[0].backend: no connection has a backend ghost'],
    ['route shape', (d: any) => (d.connections[0].routes.oauth_callback = ['cb']), 'connections[0].routes.oauth_callback[0]: expected an exact path'],
    ['route with query', (d: any) => (d.connections[0].routes.oauth_callback = ['/cb?x=1']), 'connections[0].routes.oauth_callback[0]: a route is an exact path'],
    ['duplicate host', (d: any) => d.connections.push({ ...structuredClone(d.connections[0]), name: 'two' }), 'connections[1].hosts[0]: host auth.example.com already belongs to connection demo'],
    ['unknown field', (d: any) => (d.connections[0].stagee = 'x'), 'connections[0]: unknown field(s) stagee'],
    ['version', (d: any) => (d.version = 2), 'version: expected version: 1'],
    ['bad date', (d: any) => (d.connections[0].drain_until = 'tomorrow'), 'connections[0].drain_until: expected an RFC 3339 date-time'],
    ['jwks xor', (d: any) => (d.issuers[0].jwks = { keys: [{ kty: 'EC' }] }), 'issuers[0]: expected exactly one of jwks or jwks_uri'],
    ['private jwk', (d: any) => { delete d.issuers[0].jwks_uri; d.issuers[0].jwks = { keys: [{ kty: 'EC', d: 'x' }] }; }, 'issuers[0].jwks.keys[0]: inline JWKS must hold public keys only'],
    ['symmetric alg', (d: any) => (d.issuers[0].algs = ['HS256']), 'issuers[0].algs[0]: expected an asymmetric JWS alg'],
    ['webhook route needs secrets', (d: any) => (d.connections[0].routes.webhook = ['/wh']), 'connections[0].webhook: webhook routes need a webhook section'],
    ['default port', (d: any) => (d.connections[0].hosts = ['auth.example.com:443']), 'connections[0].hosts[0]: drop the default port'],
  ])('%s → the field path in the message', (_n, mutate, message) => {
    const d = minimal();
    mutate(d);
    const e = errorOf(d);
    expect(e.code).toBe('config_invalid');
    expect(e.message).toContain(message);
  });

  it('never echoes a secret value', () => {
    const d = minimal();
    d.keys.hash_key = 'TOPSECRET!!not-base64url';
    d.keys.pin_api_tokens = { new: 'short-SECRET' };
    d.connections[0].routes.webhook = ['/wh'];
    d.connections[0].webhook = { scheme: 'standard', secrets: [{ id: 'a', secret: 'whsec_SECRETVALUE', retire_at: 'nope' }] };
    const e = errorOf(d);
    expect(e.message).toContain('keys.hash_key: expected a base64url key');
    expect(e.message).toContain('keys.pin_api_tokens.new: pin API tokens need at least 16 characters');
    expect(e.message).not.toMatch(/SECRET/);
  });

  it('resolves env: and file: references', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-reg-'));
    fs.writeFileSync(path.join(dir, 'cookie.key'), `${KEY}\n`);
    const d = minimal();
    d.keys.hash_key = 'env:CBP_TEST_HASH';
    d.keys.cookie_key = 'file:cookie.key';
    fs.writeFileSync(path.join(dir, 'registry.yaml'), stringify(d));
    const r = loadRegistryFile(path.join(dir, 'registry.yaml'), { env: { CBP_TEST_HASH: KEY } });
    expect(r.keys.hash_key).toBe(KEY);
    expect(r.keys.cookie_key).toBe(KEY);
    const e = (() => {
      try {
        loadRegistryFile(path.join(dir, 'registry.yaml'), { env: {} });
      } catch (x) {
        return x as ConfigError;
      }
      throw new Error('expected failure');
    })();
    expect(e.message).toContain('keys.hash_key: environment variable CBP_TEST_HASH is not set');
    fs.rmSync(dir, { recursive: true });
  });

  it('YAML syntax errors → config_yaml with a position, no source excerpt', () => {
    try {
      parseRegistry('version: 1\nkeys: {hash_key: "SECRETVAL\n', 'registry.yaml');
      throw new Error('expected failure');
    } catch (e) {
      expect((e as ConfigError).code).toBe('config_yaml');
      expect((e as ConfigError).message).toMatch(/^registry\.yaml: YAML \w+ at line \d+/);
      expect((e as ConfigError).message).not.toContain('SECRETVAL');
    }
  });

  it('duplicate keys are a YAML error', () => {
    expect(() => parseRegistry('version: 1\nversion: 1\n', 'r.yaml')).toThrow(expect.objectContaining({ code: 'config_yaml' }));
  });

  it('unreadable file → config_unreadable', () => {
    expect(() => loadRegistryFile('/nonexistent/registry.yaml')).toThrow(expect.objectContaining({ code: 'config_unreadable' }));
  });
});

describe('ext-authz/config/registry.example.yaml', () => {
  const example = path.join(__dirname, '../../ext-authz/config/registry.example.yaml');

  it('loads with a generated key file next to it, keys per connection and backend', () => {
    const text = fs.readFileSync(example, 'utf8');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-ex-'));
    const { owners, keysRef } = credentialOwners(text, example);
    expect(keysRef).toBe('registry.example.keys.yaml');
    const keys = generateKeyFile(owners);
    fs.writeFileSync(path.join(dir, keysRef as string), renderKeyFile(keys, new Date()));
    const r = parseRegistry(text, 'registry.example.yaml', { baseDir: dir });
    expect(r.connections.map((c) => c.name)).toEqual(['workforce', 'partners']);
    expect(r.connections[0]).toMatchObject({ stage: 'canary', canary_percent: 25 });
    expect(r.connections[1].hosts).toEqual(['partners.example.com', 'partners.example.org:8443']);
    expect(r.keys.pin_api_tokens['partners-new']).toBe(keys.connections.partners['partners-new'].pin_api_token);
    expect(Object.keys(r.keys.state_keys).sort()).toEqual(['legacy', 'new', 'partners-legacy', 'partners-new']);
    fs.rmSync(dir, { recursive: true });
  });

  it('without its key file: config_invalid at keys, naming the command that makes one', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-ex-'));
    expect(() => parseRegistry(fs.readFileSync(example, 'utf8'), 'registry.example.yaml', { baseDir: dir })).toThrow(
      expect.objectContaining({ code: 'config_invalid', issues: [{ path: 'keys', message: expect.stringContaining('callback-proxy keys generate registry.example.yaml') }] }),
    );
    fs.rmSync(dir, { recursive: true });
  });
});
