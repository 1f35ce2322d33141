// The deployment files around Envoy: Istio manifests, docker-compose and the nginx example must agree
// with envoy.yaml and with each other on names (provider, routing header, clusters, services).
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { EnvoyProtoRoot } from '../../ext-authz/src/envoy/proto-root';
import { checkMessage } from '../../ext-authz/src/envoy/schema-check';

const ROOT = path.join(__dirname, '..', '..');
const read = (...p: string[]): string => fs.readFileSync(path.join(ROOT, ...p), 'utf8');
const yaml = (...p: string[]): any => YAML.parse(read(...p));
const ROUTING_HEADER = 'x-callback-backend';

describe('Istio manifests', () => {
  // A patch of istiod's meshConfig (Helm values / IstioOperator spec), not a whole ConfigMap.
  const mesh = yaml('envoy', 'istio', 'mesh-config.yaml').meshConfig;
  const policy = yaml('envoy', 'istio', 'authorization-policy.yaml');
  const vs = yaml('envoy', 'istio', 'virtual-service.yaml');
  const filter = yaml('envoy', 'istio', 'envoy-filter.yaml');

  it('registers ext-authz as a fail-closed envoyExtAuthzGrpc provider with body and route-cache settings', () => {
    const p = mesh.extensionProviders[0];
    expect(p.envoyExtAuthzGrpc).toBeDefined();
    expect(p.envoyExtAuthzGrpc.failOpen).toBe(false);
    expect(p.envoyExtAuthzGrpc.clearRouteCache).toBe(true);
    expect(p.envoyExtAuthzGrpc.includeRequestBodyInCheck.allowPartialMessage).toBe(false);
    expect(p.envoyExtAuthzGrpc.includeRequestBodyInCheck.maxRequestBytes).toBeGreaterThanOrEqual(65536);
  });

  it('the AuthorizationPolicy is CUSTOM and names the provider the mesh config defines', () => {
    expect(policy.kind).toBe('AuthorizationPolicy');
    expect(policy.spec.action).toBe('CUSTOM');
    expect(mesh.extensionProviders.map((p: any) => p.name)).toContain(policy.spec.provider.name);
  });

  it('the VirtualService routes only on the routing header and denies without it', () => {
    const routes = vs.spec.http;
    const matched = routes.filter((r: any) => r.match);
    expect(matched.map((r: any) => Object.keys(r.match[0].headers))).toEqual([[ROUTING_HEADER], [ROUTING_HEADER]]);
    expect(matched.map((r: any) => r.match[0].headers[ROUTING_HEADER].exact).sort()).toEqual(['legacy', 'new']);
    expect(routes[routes.length - 1].directResponse.status).toBe(403);
    expect(vs.spec.hosts).toEqual(policy.spec.rules[0].to[0].operation.hosts);
  });

  it("the EnvoyFilter patch is a valid HttpConnectionManager fragment with the edge settings", () => {
    const patch = filter.spec.configPatches[0].patch.value.typed_config;
    const { '@type': type, ...rest } = patch;
    expect(type).toMatch(/HttpConnectionManager$/);
    // A MERGE patch is a fragment: "required" rules apply to the merged result, not the patch.
    const findings = checkMessage(new EnvoyProtoRoot(), type.split('/').pop(), rest).filter((f) => f.code !== 'validate_rule');
    expect(findings).toEqual([]);
    expect(rest).toMatchObject({ merge_slashes: true, normalize_path: true, path_with_escaped_slashes_action: 'REJECT_REQUEST' });
    expect(rest.common_http_protocol_options.headers_with_underscores_action).toBe('REJECT_REQUEST');
  });
});

describe('docker-compose.yml', () => {
  const compose = yaml('docker-compose.yml');
  const envoy = yaml('envoy', 'envoy.yaml');

  it('has the services envoy.yaml forwards to, on the ports it uses', () => {
    for (const c of envoy.static_resources.clusters) {
      const addr = c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
      expect(Object.keys(compose.services)).toContain(addr.address);
      const svc = compose.services[addr.address];
      const text = JSON.stringify(svc);
      expect(text).toContain(String(addr.port_value));
    }
  });

  it('mounts the checked envoy.yaml into Envoy', () => {
    expect(compose.services.envoy.volumes[0]).toMatch(/^\.\/envoy\/envoy\.yaml:/);
  });

  it('binds host ports to 127.0.0.1 only and pins every image by version', () => {
    for (const [name, svc] of Object.entries<any>(compose.services)) {
      for (const p of svc.ports ?? []) expect(`${name}: ${p}`).toMatch(/: 127\.0\.0\.1:\d+:\d+$/);
      expect(svc.image).toBeDefined();
      expect(`${name}: ${svc.image}`).toMatch(/:[^:]*\d[^:]*$/);
      expect(svc.image).not.toMatch(/:latest$/);
    }
  });

  it('every file it mounts exists in the repo', () => {
    for (const svc of Object.values<any>(compose.services)) {
      for (const v of svc.volumes ?? []) expect(fs.existsSync(path.join(ROOT, v.split(':')[0]))).toBe(true);
    }
    expect(fs.existsSync(path.join(ROOT, 'Dockerfile'))).toBe(true);
  });
});

describe('nginx example', () => {
  const conf = read('envoy', 'nginx', 'nginx.conf.template');
  it('asks the forward-auth endpoint and routes on the returned header, failing closed', () => {
    expect(conf).toMatch(/auth_request \/_callback_authz;/);
    expect(conf).toMatch(/auth_request_set \$callback_backend \$upstream_http_x_callback_backend;/);
    expect(conf).toMatch(/default callback_denied;/);
    expect(conf).toMatch(/proxy_set_header X-Callback-Backend \$callback_backend;/);
  });
  it('never logs the query string', () => {
    const formats = conf.split('\n').filter((l) => l.includes('log_format'));
    expect(formats.length).toBeGreaterThan(0);
    for (const f of formats) expect(f).not.toMatch(/\$request_uri|\$args|\$query_string|"\$request"/);
  });
});
