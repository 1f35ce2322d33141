// The removal report's verdict and evidence over controlled inputs: every blocker appears exactly when
// its condition holds, credentials are named (never valued), unused mappings need enough history.
import { createDemoRegistry } from '../../ext-authz/src/config/default';
import { buildReport, reportText } from '../../ext-authz/src/lifecycle/removal-report';
import type { ReportInputs } from '../../ext-authz/src/lifecycle/removal-report';
import type { StageOverride } from '../../ext-authz/src/lifecycle/overrides';
import type { Stage } from '../../ext-authz/src/model/registry';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const DAY = 86_400_000;

function inputs(stage: Stage, over: Partial<ReportInputs> = {}, seen: Record<string, number> = {}): ReportInputs {
  const registry = createDemoRegistry();
  registry.connections[0].stage = stage;
  registry.lifecycle!.removal = { quiet_s: 3600, unused_mapping_days: 30 };
  return {
    now: NOW,
    registry,
    overrides: new Map(),
    unknown: null,
    census: { pins: new Map(), markers: new Map(), truncated: false, at: NOW },
    traffic: new Map([['demo', { hours: [], seen }]]),
    trackingSince: NOW - 40 * DAY,
    ...over,
  };
}

test('before retirement: stage_not_retired and legacy_tokens_accepted (until the earliest end date)', () => {
  const inp = inputs('canary');
  inp.registry.connections[0].sunset_at = NOW + 10 * DAY;
  inp.registry.connections[0].backends[0].retire_tokens_at = NOW + 5 * DAY;
  const c = buildReport(inp).connections[0];
  expect(c).toMatchObject({ removable: false, reasons: ['stage_not_retired', 'legacy_tokens_accepted'], legacy_tokens: { accepted: true, until: new Date(NOW + 5 * DAY).toISOString() }, sunset: { passed: false } });
  expect(c.revocable_credentials).toEqual([]);
});

test('retired: recent legacy traffic blocks; outstanding legacy pins are shown but no longer block; quiet is removable with revocable credentials', () => {
  const census = { pins: new Map([['demo|legacy', { count: 3, latest_expiry: NOW + 600_000 }], ['demo|new', { count: 9, latest_expiry: NOW }]]), markers: new Map([['code', { count: 4, latest_expiry: NOW + 60_000 }]]), truncated: false, at: NOW };
  let c = buildReport(inputs('retired', { census }, { 'b:legacy': NOW - 60_000, any: NOW })).connections[0];
  expect(c).toMatchObject({ removable: false, reasons: ['legacy_traffic_recent'], outstanding: { legacy_pins: 3, new_pins: 9, replay_markers: 4 } });
  // Before retired, the same legacy pins can still be honoured: they block.
  expect(buildReport(inputs('cutover', { census }, { 'b:legacy': NOW - 2 * 3_600_000, any: NOW })).connections[0].reasons).toContain('legacy_pins_outstanding');
  c = buildReport(inputs('retired', {}, { 'b:legacy': NOW - 2 * 3_600_000, 'b:new': NOW, any: NOW })).connections[0];
  expect(c).toMatchObject({ removable: true, reasons: [], legacy_tokens: { accepted: false, until: null }, traffic: { last_legacy_callback: new Date(NOW - 2 * 3_600_000).toISOString() } });
  const names = c.revocable_credentials.map((k) => k.name);
  expect(names).toEqual(['keys.pin_api_tokens.legacy', 'issuers[https://legacy-idp.example.com]']);
  // The demo's legacy pin API token has the same value as new's: only names appear anywhere.
  const reg = inputs('retired').registry;
  const text = reportText(buildReport(inputs('retired', {}, { 'b:legacy': NOW - 2 * 3_600_000 })));
  expect(text).toContain('removable=true');
  for (const secret of [reg.keys.hash_key, reg.keys.cookie_key, ...Object.values(reg.keys.pin_api_tokens)]) expect(text).not.toContain(secret);
});

test('decommissioned: requests after the change mean the proxy is still in the request path', () => {
  const o: StageOverride = { stage: 'decommissioned', canary_percent: 0, drain_until: null, set_by: 'x', set_at: NOW - 600_000, reason: 'r', ticket: null, previous: { stage: 'retired', canary_percent: 0, drain_until: null } };
  const overrides = new Map([['demo', o]]);
  let c = buildReport(inputs('retired', { overrides }, { any: NOW - 1000 })).connections[0];
  expect(c).toMatchObject({ removable: false, reasons: ['proxy_in_request_path'], proxy_in_request_path: true, stage: { file: 'retired', effective: 'decommissioned', override: true } });
  c = buildReport(inputs('retired', { overrides }, { any: NOW - 700_000 })).connections[0];
  expect(c).toMatchObject({ removable: true, proxy_in_request_path: false });
  expect(c.revocable_credentials.map((k) => k.name).sort()).toEqual([
    'connections[demo].webhook.secrets[demo]', 'issuers[https://legacy-idp.example.com]', 'keys.admin_tokens[demo-admin]', 'keys.pin_api_tokens.legacy', 'keys.pin_api_tokens.new', 'keys.state_keys.new',
  ]);
});

test('an unreadable store or overrides make it not removable, never removable by default', () => {
  expect(buildReport(inputs('retired', { traffic: new Map([['demo', null]]) })).connections[0].reasons).toEqual(['stats_unavailable']);
  expect(buildReport(inputs('retired', { census: null })).connections[0].reasons).toEqual(['stats_unavailable']);
  expect(buildReport(inputs('retired', { unknown: new Set(['demo']) })).connections[0].reasons).toEqual(['stage_unknown']);
});

test('sunset passed is reported (an alarm, not a blocker); unused mappings need N days of counting', () => {
  const inp = inputs('retired', {}, { 'r:/oauth2/callback': NOW - DAY, 'b:new': NOW - DAY });
  inp.registry.connections[0].sunset_at = NOW - 3600_000;
  const c = buildReport(inp).connections[0];
  expect(c.sunset).toEqual({ at: new Date(NOW - 3600_000).toISOString(), passed: true, exceeded_s: 3600 });
  expect(c.unused_mappings.map((m) => `${m.kind}:${m.name}`).sort()).toEqual(['backend:legacy', 'route:/backchannel-logout', 'route:/login', 'route:/saml/acs', 'route:/webhooks/idp']);
  // Counting only started 10 days ago: nothing can be called unused for 30 days yet.
  expect(buildReport(inputs('retired', { trackingSince: NOW - 10 * DAY })).connections[0].unused_mappings).toEqual([]);
});
