// envoy/istio/*.yaml: every Kubernetes object passes @kubernetes-models/istio's CRD schema, and
// mesh-config.yaml is a meshConfig patch (not a ConfigMap that would replace a mesh's whole config)
// whose provider matches Istio's MeshConfig API and points at the Helm chart's Service.
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import YAML from 'yaml';
import { validateObject } from './support/k8s-schemas';
import { manifests, renderChart } from './support/helm-template';

type Obj = Record<string, any>;
const ROOT = path.join(__dirname, '..', '..');
const DIR = path.join(ROOT, 'envoy', 'istio');
const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();
const load = (f: string): Obj => YAML.parse(fs.readFileSync(path.join(DIR, f), 'utf8'), { version: '1.1' }) as Obj;

/**
 * MeshConfig.ExtensionProvider with an envoyExtAuthzGrpc provider, as Istio's MeshConfig reference
 * (istio.mesh.v1alpha1: ExtensionProvider, EnvoyExternalAuthorizationGrpcProvider,
 * EnvoyExternalAuthorizationRequestBody) defines it; no schema package ships MeshConfig.
 */
const PROVIDER_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'envoyExtAuthzGrpc'],
  properties: {
    name: { type: 'string', minLength: 1 },
    envoyExtAuthzGrpc: {
      type: 'object',
      additionalProperties: false,
      required: ['service', 'port'],
      properties: {
        service: { type: 'string', minLength: 1 },
        port: { type: 'integer', minimum: 1, maximum: 65535 },
        timeout: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?s$' },
        failOpen: { type: 'boolean' },
        clearRouteCache: { type: 'boolean' },
        statusOnError: { type: 'string' },
        includeRequestBodyInCheck: {
          type: 'object',
          additionalProperties: false,
          properties: {
            maxRequestBytes: { type: 'integer', minimum: 0, maximum: 4294967295 },
            allowPartialMessage: { type: 'boolean' },
            packAsBytes: { type: 'boolean' },
          },
        },
      },
    },
  },
};
const checkProvider = new Ajv({ allErrors: true }).compile(PROVIDER_SCHEMA);

describe('envoy/istio Kubernetes objects', () => {
  const objects = files.filter((f) => load(f).kind !== undefined);

  it('are the AuthorizationPolicy, EnvoyFilter and VirtualService, each valid for its CRD schema', () => {
    expect(objects.map((f) => load(f).kind).sort()).toEqual(['AuthorizationPolicy', 'EnvoyFilter', 'VirtualService']);
    for (const f of objects) expect(() => validateObject(load(f))).not.toThrow();
  });

  it('the schema check is real: broken copies fail it', () => {
    const policy = load('authorization-policy.yaml');
    expect(() => validateObject({ ...policy, spec: { ...policy.spec, action: 'ALLOW_ALL' } })).toThrow(/action/);
    const vs = load('virtual-service.yaml');
    const broken = structuredClone(vs);
    broken.spec.http[0].route[0].destination.port.number = 'eighty-eighty-one';
    expect(() => validateObject(broken)).toThrow(/number/);
  });
});

describe('envoy/istio/mesh-config.yaml', () => {
  const patch = load('mesh-config.yaml');
  const providers: Obj[] = patch.meshConfig.extensionProviders;

  it('is a meshConfig patch, not a Kubernetes object that would replace the mesh config', () => {
    expect(Object.keys(patch)).toEqual(['meshConfig']);
    expect(Object.keys(patch.meshConfig)).toEqual(['extensionProviders']);
    expect(patch.apiVersion).toBeUndefined();
    expect(patch.kind).toBeUndefined();
  });

  it('its provider has only fields Istio\'s MeshConfig API defines, with their types', () => {
    expect(providers).toHaveLength(1);
    expect(checkProvider(providers[0]) ? [] : checkProvider.errors).toEqual([]);
    const typo = structuredClone(providers[0]);
    typo.envoyExtAuthzGrpc.failopen = false;
    expect(checkProvider(typo)).toBe(false);
  });

  it('names the AuthorizationPolicy\'s provider and the chart\'s gRPC Service (release and namespace callback-proxy)', () => {
    const p = providers[0];
    expect(load('authorization-policy.yaml').spec.provider.name).toBe(p.name);
    const objs = manifests(renderChart(path.join(ROOT, 'deploy', 'helm', 'callback-proxy'), { releaseName: 'callback-proxy', namespace: 'callback-proxy' }));
    const svc = (objs as Obj[]).find((o) => o.kind === 'Service' && o.metadata.name === 'callback-proxy') as Obj;
    expect(p.envoyExtAuthzGrpc.service).toBe(`${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local`);
    expect(svc.spec.ports.find((x: Obj) => x.name === 'grpc').port).toBe(p.envoyExtAuthzGrpc.port);
  });
});
