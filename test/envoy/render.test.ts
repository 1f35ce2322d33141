// `envoy render`: an envoy.yaml generated from the migration registry passes the same schema check and
// lint as the hand-written one, and carries the registry's hosts, backends and clusters.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { createDemoRegistry } from '../../ext-authz/src/config/default';
import { checkEnvoyText, formatReport, reportOk } from '../../ext-authz/src/envoy/check-file';
import { renderEnvoyConfig, renderEnvoyYaml } from '../../ext-authz/src/envoy/render';
import { runCli, ROOT } from '../cli/run-cli';

describe('renderEnvoyYaml', () => {
  const reg = createDemoRegistry();

  it('renders the demo registry into a config that passes the Bootstrap schema check and the lint', () => {
    const r = checkEnvoyText(renderEnvoyYaml(reg, { extAuthzAddress: 'authz.internal:9191' }), 'rendered.yaml');
    expect(formatReport(r)).toEqual([]);
  });

  it('has one virtual host per connection, one header-matched route and one cluster per backend', () => {
    const cfg = renderEnvoyConfig(reg) as any;
    const hcm = cfg.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    const vh = hcm.route_config.virtual_hosts.find((v: any) => v.name === 'demo');
    expect(vh.domains).toContain('auth.example.com');
    const routed = vh.routes.filter((r: any) => r.route).map((r: any) => [r.match.headers[0].string_match.exact, r.route.cluster]);
    expect(routed.sort()).toEqual(reg.connections[0].backends.map((b) => [b.id, b.cluster]).sort());
    const clusters = cfg.static_resources.clusters.map((c: any) => c.name).sort();
    expect(clusters).toEqual(['ext_authz', ...reg.connections[0].backends.map((b) => b.cluster)].sort());
    expect(vh.routes[vh.routes.length - 1].direct_response.status).toBe(403);
  });

  it('a registry whose routing header differs is linted against that header', () => {
    const other = { ...reg, routing_header: 'x-route-to' };
    const text = renderEnvoyYaml(other);
    expect(reportOk(checkEnvoyText(text, 'r.yaml', { routingHeader: 'x-route-to' }))).toBe(true);
    expect(formatReport(checkEnvoyText(text, 'r.yaml')).some((l) => l.includes('route_without_routing_header'))).toBe(true);
  });
});

describe('callback-proxy envoy lint / render (the real CLI)', () => {
  it('lint exits 0 on envoy/envoy.yaml and 1 with a named finding on a broken copy', () => {
    const ok = runCli(['envoy', 'lint', path.join(ROOT, 'envoy', 'envoy.yaml')]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('ok');
    const doc = YAML.parse(fs.readFileSync(path.join(ROOT, 'envoy', 'envoy.yaml'), 'utf8'));
    doc.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.failure_mode_allow = true;
    const broken = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'envoy-')), 'broken.yaml');
    fs.writeFileSync(broken, YAML.stringify(doc));
    const bad = runCli(['envoy', 'lint', broken]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('[lint/ext_authz_fail_open]');
  });

  it('render writes a file that lint accepts', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'envoy-')), 'rendered.yaml');
    expect(runCli(['envoy', 'render', '--out', out]).status).toBe(0);
    expect(runCli(['envoy', 'lint', out]).status).toBe(0);
    expect(runCli(['envoy', 'render', '--port', 'eighty']).status).not.toBe(0);
  });
});
