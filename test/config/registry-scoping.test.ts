// Credentials are scoped by connection AND backend (docs/threat-model.md, pins): the registry rejects
// a credential that could serve two connections, naming the field; and only facts the caller cannot
// choose may key a canary cohort.
// Threat rows (docs/threat-model.md): T-D7, T-T5.
import { stringify } from 'yaml';
import { ConfigError, parseRegistry } from '../../ext-authz/src/config/registry';

const KEY = 'c2VjcmV0LWtleS1ieXRlcy0wMTIzNDU2Nzg5YWJjZGVm'; // base64url, 32 bytes
const KEY2 = 'b3RoZXIta2V5LWJ5dGVzLTAxMjM0NTY3ODlhYmNkZWY';
const TOKEN_A = 'token-of-demo-legacy-0123456789';
const TOKEN_B = 'token-of-other-legacy-0123456789';

function connection(name: string, host: string): Record<string, unknown> {
  return {
    name,
    hosts: [host],
    client_ids: [`${name}-client`],
    routes: { oauth_callback: ['/cb'] },
    backends: [
      { id: 'legacy', role: 'legacy', cluster: 'l', issuer: 'https://l.example' },
      { id: 'new', role: 'new', cluster: 'n', issuer: 'https://n.example' },
    ],
    stage: 'observe',
  };
}

/** Two connections whose backends share the ids `legacy` and `new`. */
function twoConnections(keys: Record<string, unknown>): Record<string, any> {
  return {
    version: 1,
    connections: [connection('demo', 'auth.example.com'), connection('other', 'other.example.com')],
    keys: { hash_key: KEY, cookie_key: KEY, ...keys },
  };
}

function issues(doc: unknown): string {
  try {
    parseRegistry(stringify(doc), 'registry.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).message;
  }
  return '';
}

describe('credentials scoped by connection and backend', () => {
  it('a bare backend id shared by two connections is refused for Pin API tokens and state keys, naming the field', () => {
    const m = issues(twoConnections({ pin_api_tokens: { legacy: TOKEN_A }, state_keys: { new: KEY } }));
    expect(m).toContain('keys.pin_api_tokens.legacy: backend id legacy belongs to connections demo, other');
    expect(m).toContain('keys.state_keys.new: backend id new belongs to connections demo, other');
    expect(m).not.toContain(TOKEN_A);
  });

  it('the same value for two connections is refused, even under qualified names', () => {
    const m = issues(twoConnections({ pin_api_tokens: { 'demo/legacy': TOKEN_A, 'other/legacy': TOKEN_A }, state_keys: { 'demo/new': KEY, 'other/new': KEY } }));
    expect(m).toContain('keys.pin_api_tokens.other/legacy: the same value as demo/legacy of connection demo');
    expect(m).toContain('keys.state_keys.other/new: the same value as demo/new of connection demo');
    expect(m).not.toContain(TOKEN_A);
  });

  it('distinct qualified credentials per connection are accepted; within one connection backends may share a token', () => {
    const r = parseRegistry(stringify(twoConnections({
      pin_api_tokens: { 'demo/legacy': TOKEN_A, 'demo/new': TOKEN_A, 'other/legacy': TOKEN_B },
      state_keys: { 'demo/new': KEY, 'other/new': KEY2 },
    })), 'registry.yaml');
    expect(Object.keys(r.keys.pin_api_tokens).sort()).toEqual(['demo/legacy', 'demo/new', 'other/legacy']);
  });

  it('a qualified name must name a connection and one of its backends', () => {
    const m = issues(twoConnections({ pin_api_tokens: { 'nope/legacy': TOKEN_A, 'demo/ghost': TOKEN_B } }));
    expect(m).toContain('keys.pin_api_tokens.nope/legacy: no connection nope');
    expect(m).toContain('keys.pin_api_tokens.demo/ghost: connection demo has no backend ghost');
  });

  it('with one connection a bare id still works; a bare and a qualified name for the same pair is ambiguous', () => {
    const one = twoConnections({ pin_api_tokens: { legacy: TOKEN_A } });
    one.connections.pop();
    expect(() => parseRegistry(stringify(one), 'registry.yaml')).not.toThrow();
    one.keys.pin_api_tokens['demo/legacy'] = TOKEN_B;
    expect(issues(one)).toContain('keys.pin_api_tokens.legacy: both legacy and demo/legacy are given; keep one');
  });
});

describe('canary cohorts come from facts the caller cannot choose', () => {
  it.each(['login_hint', 'source_ip', 'session'])('cohort_key %s is refused, naming the field', (key) => {
    const doc = twoConnections({});
    doc.connections[0].cohort_key = key;
    expect(issues(doc)).toContain('connections[0].cohort_key: expected one of client_id|random');
  });

  it('a canary by client_id needs registered client_ids; random needs none', () => {
    const doc = twoConnections({});
    Object.assign(doc.connections[0], { stage: 'canary', canary_percent: 10, client_ids: [] });
    expect(issues(doc)).toContain('connections[0].client_ids: a canary keyed by client_id needs registered client_ids');
    doc.connections[0].cohort_key = 'random';
    expect(issues(doc)).toBe('');
  });
});
