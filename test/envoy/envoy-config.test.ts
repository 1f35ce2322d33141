// envoy/envoy.yaml and its variants: decoded against envoy.config.bootstrap.v3.Bootstrap (Envoy's own
// protos from @grpc/grpc-js-xds) and linted; deliberately broken copies must fail with a named finding.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { checkEnvoyText, formatReport, reportOk } from '../../ext-authz/src/envoy/check-file';
import { lintEnvoyConfig } from '../../ext-authz/src/envoy/lint';

const ROOT = path.join(__dirname, '..', '..');
const ENVOY_YAML = path.join(ROOT, 'envoy', 'envoy.yaml');
const text = fs.readFileSync(ENVOY_YAML, 'utf8');

type Obj = Record<string, any>;
function mutate(fn: (doc: Obj, hcm: Obj, authz: Obj) => void): string {
  const doc = YAML.parse(text) as Obj;
  const hcm = doc.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  const authz = hcm.http_filters.find((f: Obj) => f.name === 'envoy.filters.http.ext_authz').typed_config;
  fn(doc, hcm, authz);
  return YAML.stringify(doc);
}

describe('envoy/envoy.yaml', () => {
  it('decodes as a v3 Bootstrap with every typed_config resolved, and passes the lint rules', () => {
    const r = checkEnvoyText(text, 'envoy.yaml');
    expect(formatReport(r)).toEqual([]);
    expect(reportOk(r)).toBe(true);
  });

  it('keeps the fail-closed ext_authz settings the design asks for', () => {
    const doc = YAML.parse(text) as Obj;
    const hcm = doc.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    const authz = hcm.http_filters[0].typed_config;
    expect(hcm.http_filters[0].name).toBe('envoy.filters.http.ext_authz');
    expect(authz.failure_mode_allow).toBe(false);
    expect(authz.with_request_body.allow_partial_message).toBe(false);
    expect(authz.clear_route_cache).toBe(true);
    expect(doc.admin.address.socket_address.address).toBe('127.0.0.1');
  });
});

describe('broken envoy.yaml variants fail with a clear finding', () => {
  const cases: [string, (d: Obj, h: Obj, a: Obj) => void, string][] = [
    ['T-X4 failure_mode_allow: true (ext-authz down must be a 403)', (_d, _h, a) => (a.failure_mode_allow = true), 'lint/ext_authz_fail_open'],
    ['T-Z1 header section limit raised above 96 KiB', (_d, h) => (h.max_request_headers_kb = 200), 'lint/hcm_headers_limit'],
    ['T-Z5 no request_timeout (slow-loris body)', (_d, h) => delete h.request_timeout, 'lint/hcm_timeouts'],
    ['T-Z5 stream_idle_timeout disabled', (_d, h) => (h.stream_idle_timeout = '0s'), 'lint/hcm_timeouts'],
    ['misspelled field', (_d, _h, a) => (a.failure_mode_alow = false), 'schema/unknown_field'],
    ['allow_partial_message: true (T-Z3)', (_d, _h, a) => (a.with_request_body.allow_partial_message = true), 'lint/ext_authz_partial_body'],
    ['body limit too small for SAML', (_d, _h, a) => (a.with_request_body.max_request_bytes = 1024), 'lint/ext_authz_body_too_small'],
    ['no clear_route_cache', (_d, _h, a) => delete a.clear_route_cache, 'lint/ext_authz_no_clear_route_cache'],
    ['query string in the access log (T-L1)', (_d, h) => (h.access_log[0].typed_config.log_format.json_format.path = '%REQ(:PATH)%'), 'lint/access_log_query'],
    ['access log reads a metadata key ext-authz never sets', (_d, h) => (h.access_log[0].typed_config.log_format.json_format.callback_reasons = '%DYNAMIC_METADATA(envoy.filters.http.ext_authz:reason)%'), 'lint/access_log_unknown_metadata'],
    ['merge_slashes off (T-P5)', (_d, h) => (h.merge_slashes = false), 'lint/hcm_merge_slashes'],
    ['escaped slashes kept (T-P2)', (_d, h) => (h.path_with_escaped_slashes_action = 'KEEP_UNCHANGED'), 'lint/hcm_escaped_slashes'],
    ['underscore headers allowed (T-H7)', (_d, h) => delete h.common_http_protocol_options.headers_with_underscores_action, 'lint/hcm_underscore_headers'],
    ['XFF trusted (T-H6)', (_d, h) => (h.use_remote_address = false), 'lint/hcm_remote_address'],
    ['admin on all interfaces', (d) => (d.admin.address.socket_address.address = '0.0.0.0'), 'lint/admin_not_loopback'],
    ['route without the routing header', (_d, h) => delete h.route_config.virtual_hosts[0].routes[0].match.headers, 'lint/route_without_routing_header'],
    ['route to an undefined cluster', (_d, h) => (h.route_config.virtual_hosts[0].routes[1].route.cluster = 'nope'), 'lint/route_unknown_cluster'],
    ['ext_authz removed', (_d, h) => h.http_filters.shift(), 'lint/ext_authz_missing'],
    ['bad enum', (_d, h) => (h.codec_type = 'HTTP9'), 'schema/bad_enum'],
    ['wrong scalar type', (_d, h) => (h.normalize_path = 'yes'), 'schema/type_mismatch'],
  ];
  for (const [name, fn, code] of cases) {
    it(name, () => {
      const r = checkEnvoyText(mutate(fn), 'broken.yaml');
      expect(reportOk(r)).toBe(false);
      expect(formatReport(r).some((l) => l.includes(`[${code}]`))).toBe(true);
    });
  }

  it('an unknown typed_config @type is reported', () => {
    const broken = mutate((_d, h) => (h.http_filters[1].typed_config['@type'] = 'type.googleapis.com/envoy.nope.v3.Nope'));
    const r = checkEnvoyText(broken, 'broken.yaml');
    expect(r.schema.map((f) => f.code)).toContain('unknown_type');
  });

  it('a YAML syntax error is reported, not thrown', () => {
    const r = checkEnvoyText('admin: [unclosed', 'x.yaml');
    expect(r.parseError).toBeDefined();
    expect(reportOk(r)).toBe(false);
  });

  it('two members of one oneof are a schema finding', () => {
    const broken = mutate((_d, h) => (h.route_config.virtual_hosts[0].routes[0].match.path = '/x'));
    expect(checkEnvoyText(broken, 'b.yaml').schema.map((f) => f.code)).toContain('oneof_conflict');
  });
});

describe('lint on configs that are not ours', () => {
  it('a config without any HTTP connection manager is a finding', () => {
    expect(lintEnvoyConfig({ static_resources: { listeners: [] } }).map((f) => f.code)).toEqual(['no_http_connection_manager']);
  });
});
