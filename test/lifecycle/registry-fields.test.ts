// The lifecycle's registry fields (docs/stages.md, "Registry fields"): admin tokens as secret references
// with roles, require_approval, the SLO guard, freeze windows and removal thresholds — their defaults and
// every refusal naming its field, never a token's value.
import { stringify } from 'yaml';
import { ConfigError, parseRegistry } from '../../ext-authz/src/config/registry';
import { DEFAULT_REMOVAL } from '../../ext-authz/src/config/registry-schema';
import { thrown } from '../support/errors';

const KEY = 'c2VjcmV0LWtleS1ieXRlcy0wMTIzNDU2Nzg5YWJjZGVm';
const TOKEN = 'admin-token-value-0123456789';

function doc(): Record<string, any> {
  return {
    version: 1,
    connections: [
      {
        name: 'demo',
        hosts: ['auth.example.com'],
        routes: { oauth_callback: ['/cb'] },
        backends: [
          { id: 'legacy', role: 'legacy', cluster: 'l', issuer: 'https://l.example' },
          { id: 'new', role: 'new', cluster: 'n', issuer: 'https://n.example' },
        ],
        stage: 'observe',
      },
    ],
    keys: { hash_key: KEY, cookie_key: KEY },
  };
}

const parse = (d: unknown, env: Record<string, string> = {}) => parseRegistry(stringify(d), 'registry.yaml', { env });

const problems = (d: unknown): string => thrown(() => parse(d), ConfigError).message;

test('defaults: no admin tokens, no approval, no guard, no freeze windows, the default removal thresholds', () => {
  const r = parse(doc());
  expect(r.keys.admin_tokens).toEqual([]);
  expect(r.connections[0].require_approval).toBe(false);
  expect(r.connections[0].guard).toBeUndefined();
  expect(r.lifecycle).toEqual({ freeze_windows: [], removal: { ...DEFAULT_REMOVAL } });
});

test('admin tokens resolve like other secrets; guard defaults; freeze windows become instants', () => {
  const d = doc();
  d.keys.admin_tokens = [{ name: 'alice', token: 'env:ALICE_TOKEN', role: 'approver' }, { name: 'ci', token: TOKEN, role: 'viewer' }];
  d.connections[0].require_approval = true;
  d.connections[0].guard = { deny_ratio: 0.02 };
  d.lifecycle = { freeze_windows: [{ start: '2026-12-20T00:00:00Z', end: '2027-01-04T00:00:00Z', reason: 'year end', connections: ['demo'] }], removal: { quiet_s: 3600 } };
  const r = parse(d, { ALICE_TOKEN: 'alice-token-from-env-0123' });
  expect(r.keys.admin_tokens).toEqual([{ name: 'alice', token: 'alice-token-from-env-0123', role: 'approver' }, { name: 'ci', token: TOKEN, role: 'viewer' }]);
  expect(r.connections[0]).toMatchObject({ require_approval: true, guard: { deny_ratio: 0.02, window_s: 300, min_callbacks: 50, reasons: expect.arrayContaining(['state_unknown', 'issuer_mismatch']) } });
  expect(r.lifecycle).toEqual({
    freeze_windows: [{ start: Date.parse('2026-12-20T00:00:00Z'), end: Date.parse('2027-01-04T00:00:00Z'), reason: 'year end', connections: ['demo'] }],
    removal: { quiet_s: 3600, unused_mapping_days: DEFAULT_REMOVAL.unused_mapping_days },
  });
});

test('bad lifecycle fields are refused, each naming its field, never echoing a token', () => {
  const d = doc();
  d.keys.pin_api_tokens = { new: TOKEN };
  d.keys.admin_tokens = [
    { name: 'ops', token: TOKEN, role: 'operator' },
    { name: 'ops', token: 'another-admin-token-0123', role: 'superuser' },
    { name: 'short', token: 'tiny', role: 'viewer' },
  ];
  d.connections[0].guard = { deny_ratio: 2, reasons: ['not_a_reason'] };
  d.lifecycle = { freeze_windows: [{ start: '2027-01-04T00:00:00Z', end: '2026-12-20T00:00:00Z', reason: 'backwards' }, { start: '2026-12-20T00:00:00Z', end: '2027-01-04T00:00:00Z', reason: 'x', connections: ['nope'] }] };
  const m = problems(d);
  expect(m).toContain('keys.admin_tokens[1].role: expected one of viewer|operator|approver');
  expect(m).toContain('keys.admin_tokens[2].token: admin tokens need at least 16 characters');
  expect(m).toContain('connections[0].guard.deny_ratio: expected a fraction in (0, 1)');
  expect(m).toContain('connections[0].guard.reasons[0]: expected a reason code');
  expect(m).toContain('lifecycle.freeze_windows[0].end: end must be after start');
  expect(m).not.toContain(TOKEN);
  expect(m).not.toContain('tiny');

  // Cross-field rules run on an otherwise valid file.
  const e = doc();
  e.keys.pin_api_tokens = { new: TOKEN };
  e.keys.admin_tokens = [{ name: 'ops', token: TOKEN, role: 'operator' }, { name: 'ops', token: 'another-admin-token-0123', role: 'viewer' }];
  e.lifecycle = { freeze_windows: [{ start: '2026-12-20T00:00:00Z', end: '2027-01-04T00:00:00Z', reason: 'x', connections: ['nope'] }] };
  const m2 = problems(e);
  expect(m2).toContain('keys.admin_tokens[0].token: admin tokens must be distinct from each other and from the Pin API tokens');
  expect(m2).toContain('keys.admin_tokens[1].name: duplicate admin token name ops');
  expect(m2).toContain('lifecycle.freeze_windows[0].connections[0]: no connection is named nope');
  expect(m2).not.toContain(TOKEN);
});
