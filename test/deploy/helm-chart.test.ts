// deploy/helm/callback-proxy rendered for several value sets (test/deploy/support/helm-template.ts stands
// in for `helm template`; no helm binary here), every object checked against the maintained Kubernetes
// and Prometheus Operator schemas, the chart's rules checked on the objects, and the rendered registry
// validated by the real CLI with exactly the secrets the Deployment wires.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import YAML from 'yaml';
import { ChartError, manifests, renderChart } from './support/helm-template';
import { validateObject } from './support/k8s-schemas';
import { unknownServeFlags } from './support/serve-flags';
import { BIN, ROOT } from '../cli/run-cli';
import { VERSION } from '../../ext-authz/src/model/version';

jest.setTimeout(120_000);

type Obj = Record<string, any>;
const CHART = path.join(ROOT, 'deploy', 'helm', 'callback-proxy');
const RELEASE = { releaseName: 'callback-proxy', namespace: 'callback-proxy' };
const render = (values: Obj = {}): Obj[] => manifests(renderChart(CHART, { ...RELEASE, values }));
const one = (objs: Obj[], kind: string, name?: string): Obj => {
  const found = objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0];
};
const container = (objs: Obj[]): Obj => one(objs, 'Deployment').spec.template.spec.containers[0];
const envOf = (objs: Obj[]): Obj[] => container(objs).env;
const argValue = (args: string[], flag: string): string | undefined => args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);

const VALUE_SETS: [string, Obj][] = [
  ['default values', {}],
  ['replicas 3 with redis', { replicaCount: 3, redis: { url: 'redis://redis.callback-proxy.svc:6379/0' } }],
  ['replicas 3 with the redis URL in a Secret', { replicaCount: 3, redis: { existingSecret: 'callback-proxy-redis' } }],
  ['ServiceMonitor on, decision logs on stdout', { serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' } }, decisionLog: 'stdout' }],
  ['TLS on, client certificates verified', { tls: { enabled: true, secretName: 'callback-proxy-tls', verifyClient: true } }],
  [
    'a Pin API token from a mounted Secret file, OTLP export on',
    {
      secrets: { env: { CBP_PIN_API_TOKEN_NEW: null }, files: [{ name: 'pin-api', secretName: 'callback-proxy-pin-api' }] },
      registry: { config: { keys: { pin_api_tokens: { new: 'file:../secrets/pin-api/new.token' } } } },
      otel: { endpoint: 'http://otel-collector.observability:4318', resourceAttributes: { 'deployment.environment': 'prod' } },
    },
  ],
];

/** Runs `callback-proxy config validate` on the rendered registry with the Deployment's secret wiring. */
function validateRenderedRegistry(objs: Obj[]): { status: number | null; out: string } {
  const deploy = one(objs, 'Deployment');
  const pod = deploy.spec.template.spec;
  const c = pod.containers[0];
  const cm = one(objs, 'ConfigMap');
  const regMount = c.volumeMounts.find((m: Obj) => m.name === 'registry').mountPath as string;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-chart-'));
  const inRoot = (p: string): string => path.join(root, p);
  try {
    const regFile = inRoot(path.posix.join(regMount, argValue(c.args, '--config')!.slice(regMount.length + 1)));
    fs.mkdirSync(path.dirname(regFile), { recursive: true });
    fs.writeFileSync(regFile, cm.data['registry.yaml']);
    // Secret files: each file: reference that lands inside a mounted Secret volume gets a value.
    const secretMounts = c.volumeMounts.filter((m: Obj) => pod.volumes.find((v: Obj) => v.name === m.name)?.secret);
    const reg = YAML.parse(cm.data['registry.yaml']) as Obj;
    const refs = JSON.stringify(reg).match(/"file:[^"]+"/g) ?? [];
    for (const ref of refs) {
      const target = path.posix.resolve(regMount, JSON.parse(ref).slice(5));
      if (secretMounts.some((m: Obj) => target.startsWith(`${m.mountPath}/`))) {
        fs.mkdirSync(path.dirname(inRoot(target)), { recursive: true });
        fs.writeFileSync(inRoot(target), crypto.randomBytes(32).toString('base64url'));
      }
    }
    // Environment: only what the container gets from Secrets (plus PATH to run node).
    const env: Record<string, string> = { PATH: process.env.PATH ?? '' };
    for (const e of c.env) if (e.valueFrom?.secretKeyRef) env[e.name] = crypto.randomBytes(32).toString('base64url');
    const r = spawnSync(process.execPath, [BIN, 'config', 'validate', regFile], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, out: r.stdout + r.stderr };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

describe.each(VALUE_SETS)('chart rendered with %s', (_name, values) => {
  const objs = render(values);
  const deploy = one(objs, 'Deployment');
  const pod = deploy.spec.template.spec;
  const c = container(objs);
  const selector = deploy.spec.selector.matchLabels;

  it('every object passes its schema (kubernetes-models, prometheus-operator) and name/label rules', () => {
    expect(objs.length).toBeGreaterThanOrEqual(5);
    for (const o of objs) expect(() => validateObject(o)).not.toThrow();
  });

  it('every object carries the app.kubernetes.io labels and the release namespace', () => {
    for (const o of objs) {
      expect(o.metadata.namespace).toBe('callback-proxy');
      expect(o.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'callback-proxy',
        'app.kubernetes.io/instance': 'callback-proxy',
        'app.kubernetes.io/version': VERSION,
        'app.kubernetes.io/managed-by': 'Helm',
        'app.kubernetes.io/component': 'ext-authz',
        'app.kubernetes.io/part-of': 'callback-proxy',
      });
    }
  });

  it('Service, PodDisruptionBudget and pods agree on the selector; the Service exposes 9191/9192/9193 by port name', () => {
    expect(pod).toBeDefined();
    expect(deploy.spec.template.metadata.labels).toMatchObject(selector);
    expect(one(objs, 'PodDisruptionBudget').spec.selector.matchLabels).toEqual(selector);
    expect(one(objs, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
    const svc = one(objs, 'Service', 'callback-proxy');
    expect(svc.spec.selector).toEqual(selector);
    const named = Object.fromEntries(c.ports.map((p: Obj) => [p.name, p.containerPort]));
    expect(named).toEqual({ grpc: 9191, http: 9192, admin: 9193 });
    expect(svc.spec.ports.map((p: Obj) => [p.name, p.port, p.targetPort])).toEqual([
      ['grpc', 9191, 'grpc'],
      ['http', 9192, 'http'],
      ['admin', 9193, 'admin'],
    ]);
    const headless = one(objs, 'Service', 'callback-proxy-headless');
    expect(headless.spec.clusterIP).toBe('None');
    expect(headless.spec.selector).toEqual(selector);
  });

  it('the listeners the args open are the container ports, and serve accepts every flag', () => {
    const named = Object.fromEntries(c.ports.map((p: Obj) => [p.name, p.containerPort]));
    expect(c.args[0]).toBe('serve');
    expect(argValue(c.args, '--grpc-addr')).toBe(`0.0.0.0:${named.grpc}`);
    expect(argValue(c.args, '--http-addr')).toBe(`0.0.0.0:${named.http}`);
    expect(argValue(c.args, '--admin-addr')).toBe(`0.0.0.0:${named.admin}`);
    expect(unknownServeFlags(c.args)).toEqual([]);
    // $(VAR) in args and env only refers to variables defined earlier in env.
    const defined: string[] = [];
    for (const e of c.env) {
      for (const m of String(e.value ?? '').matchAll(/\$\(([A-Z_]+)\)/g)) expect(defined).toContain(m[1]);
      defined.push(e.name);
    }
    for (const a of c.args) for (const m of String(a).matchAll(/\$\(([A-Z_]+)\)/g)) expect(defined).toContain(m[1]);
  });

  it('probes use the admin listener: /healthz for start-up and liveness, /readyz for readiness', () => {
    expect(c.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'admin' });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'admin' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'admin' });
  });

  it('runs non-root with a read-only root filesystem, no capabilities, RuntimeDefault seccomp and no API token', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ['ALL'] } });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(one(objs, 'ServiceAccount').automountServiceAccountToken).toBe(false);
    // Writable only: an in-memory /tmp.
    const writable = c.volumeMounts.filter((m: Obj) => !m.readOnly).map((m: Obj) => m.mountPath);
    expect(writable).toEqual(['/tmp']);
  });

  it('has resources, topology spread over zones and nodes, and a grace period longer than the drain', () => {
    expect(c.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(c.resources.limits.memory).toEqual(expect.any(String));
    const spread = pod.topologySpreadConstraints;
    expect(spread.map((t: Obj) => t.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    for (const t of spread) expect(t.labelSelector.matchLabels).toEqual(selector);
    // The service exits at the latest 30 s after SIGTERM (grace + drain): the kubelet must wait longer.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(30);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(Number(argValue(c.args, '--grace-ms')));
  });

  it('no secret value is inline: keys and tokens come from Secret references', () => {
    for (const e of c.env) {
      if (/KEY|TOKEN|SECRET|PASSWORD/.test(e.name)) expect(e.valueFrom?.secretKeyRef).toBeDefined();
      if (e.name === 'REDIS_URL' && e.value !== undefined) expect(e.value).not.toContain('@');
    }
    const reg = YAML.parse(one(objs, 'ConfigMap').data['registry.yaml']) as Obj;
    const secrets = [reg.keys.hash_key, reg.keys.cookie_key, ...Object.values<string>(reg.keys.state_keys), ...Object.values<string>(reg.keys.pin_api_tokens)];
    for (const s of secrets) expect(s).toMatch(/^(env|file):/);
  });

  it('wires OpenTelemetry through the standard OTEL_* variables', () => {
    const env = Object.fromEntries(envOf(objs).filter((e: Obj) => e.value !== undefined).map((e: Obj) => [e.name, e.value]));
    expect(env.OTEL_SERVICE_NAME).toBe('callback-proxy');
    expect(env.OTEL_EXPORTER_OTLP_PROTOCOL).toBe('http/protobuf');
    expect(env.OTEL_TRACES_SAMPLER).toBe('parentbased_traceidratio');
    expect(env.OTEL_RESOURCE_ATTRIBUTES).toContain('k8s.pod.name=$(POD_NAME)');
    expect(env.OTEL_RESOURCE_ATTRIBUTES).toContain(`service.version=${VERSION}`);
    const endpoint = values.otel?.endpoint;
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(endpoint);
    if (endpoint) expect(env.OTEL_RESOURCE_ATTRIBUTES).toMatch(/,deployment\.environment=prod$/);
  });

  it('the registry ConfigMap is valid for the service with exactly the secrets the Deployment wires', () => {
    const r = validateRenderedRegistry(objs);
    expect(r.out).toContain(': ok (');
    expect(r.status).toBe(0);
  });
});

describe('value-specific objects', () => {
  it('decision logs are off unless asked for', () => {
    expect(argValue(container(render()).args, '--decision-log')).toBeUndefined();
    expect(argValue(container(render({ decisionLog: 'stdout' })).args, '--decision-log')).toBe('stdout');
  });

  it('replicas 3 + redis: three replicas sharing the Redis store', () => {
    const objs = render({ replicaCount: 3, redis: { url: 'redis://redis.callback-proxy.svc:6379/0' } });
    expect(one(objs, 'Deployment').spec.replicas).toBe(3);
    expect(container(objs).args).toContain('--redis=$(REDIS_URL)');
    expect(envOf(objs).find((e: Obj) => e.name === 'REDIS_URL')?.value).toBe('redis://redis.callback-proxy.svc:6379/0');
    const fromSecret = render({ replicaCount: 3, redis: { existingSecret: 'callback-proxy-redis' } });
    expect(envOf(fromSecret).find((e: Obj) => e.name === 'REDIS_URL')?.valueFrom.secretKeyRef).toEqual({ name: 'callback-proxy-redis', key: 'url' });
  });

  it('ServiceMonitor: scrapes /metrics on the Service port named admin', () => {
    const objs = render({ serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' } } });
    const sm = one(objs, 'ServiceMonitor');
    expect(sm.metadata.labels.release).toBe('kube-prometheus-stack');
    expect(sm.spec.endpoints).toEqual([expect.objectContaining({ port: 'admin', path: '/metrics' })]);
    const svc = one(objs, 'Service', 'callback-proxy');
    expect(svc.metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
    expect(svc.spec.ports.map((p: Obj) => p.name)).toContain('admin');
    expect(render().some((o) => o.kind === 'ServiceMonitor')).toBe(false);
  });

  it('TLS: the certificate, key and client CA come from the mounted kubernetes.io/tls Secret', () => {
    const objs = render({ tls: { enabled: true, secretName: 'callback-proxy-tls', verifyClient: true } });
    const c = container(objs);
    const mount = c.volumeMounts.find((m: Obj) => m.name === 'tls');
    const vol = one(objs, 'Deployment').spec.template.spec.volumes.find((v: Obj) => v.name === 'tls');
    expect(vol.secret.secretName).toBe('callback-proxy-tls');
    expect(argValue(c.args, '--tls-cert')).toBe(`${mount.mountPath}/tls.crt`);
    expect(argValue(c.args, '--tls-key')).toBe(`${mount.mountPath}/tls.key`);
    expect(argValue(c.args, '--tls-ca')).toBe(`${mount.mountPath}/ca.crt`);
    expect(argValue(container(render({ tls: { enabled: true, secretName: 'x' } })).args, '--tls-ca')).toBeUndefined();
  });

  it('an existing registry ConfigMap replaces the rendered one', () => {
    const objs = render({ registry: { existingConfigMap: 'my-registry' } });
    expect(objs.some((o) => o.kind === 'ConfigMap')).toBe(false);
    expect(one(objs, 'Deployment').spec.template.spec.volumes.find((v: Obj) => v.name === 'registry').configMap.name).toBe('my-registry');
  });
});

describe('the chart refuses what cannot work', () => {
  const refuses = (values: Obj, message: RegExp): void => {
    let err: unknown;
    try {
      render(values);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ChartError);
    expect((err as Error).message).toMatch(message);
  };

  it('replicaCount > 1 without Redis', () => {
    refuses({ replicaCount: 3 }, /replicaCount > 1 needs a shared store: set redis\.url or redis\.existingSecret/);
    refuses({ replicaCount: 2, redis: { url: '', existingSecret: '' } }, /needs a shared store/);
  });

  it('an inline secret in the registry keys, a Redis URL with a password, an inline env secret', () => {
    refuses({ registry: { config: { keys: { hash_key: 'c2VjcmV0LXZhbHVlLWlubGluZQ' } } } }, /\/registry\/config\/keys\/hash_key: must match pattern/);
    refuses({ redis: { url: 'redis://:hunter2@redis:6379' } }, /\/redis\/url: must match pattern/);
    refuses({ secrets: { env: { CBP_HASH_KEY: { value: 'inline' } } } }, /\/secrets\/env\/CBP_HASH_KEY/);
  });

  it('a misspelt value, a grace period shorter than the drain deadline', () => {
    refuses({ replicas: 3 }, /must NOT have additional properties \(replicas\)/);
    refuses({ terminationGracePeriodSeconds: 20 }, /\/terminationGracePeriodSeconds: must be >= 35/);
  });

  it('TLS without a Secret, no registry at all (the service would run its demo setup)', () => {
    refuses({ tls: { enabled: true } }, /tls\.enabled needs tls\.secretName/);
    refuses({ registry: { config: null } }, /set registry\.config or registry\.existingConfigMap/);
  });

  it('the registry check catches a secret the Deployment does not wire', () => {
    const r = validateRenderedRegistry(render({ secrets: { env: { CBP_HASH_KEY: null } } }));
    expect(r.status).toBe(1);
    expect(r.out).toContain('keys.hash_key: environment variable CBP_HASH_KEY is not set');
  });

  it('the schema check is real: a broken Deployment fails it', () => {
    const deploy = structuredClone(one(render(), 'Deployment'));
    deploy.spec.template.spec.containers[0].ports[0].containerPort = '9191';
    expect(() => validateObject(deploy)).toThrow(/containerPort must be integer/);
    deploy.spec.template.spec.containers[0].ports[0].containerPort = 9191;
    deploy.spec.template.spec.containers[0].resources.limits.memory = 'lots';
    expect(() => validateObject(deploy)).toThrow(/memory/);
  });
});

describe('Chart.yaml', () => {
  const chart = YAML.parse(fs.readFileSync(path.join(CHART, 'Chart.yaml'), 'utf8')) as Obj;
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Obj;
  it('is an apiVersion v2 application chart whose appVersion is the release the CLI reports', () => {
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'callback-proxy', type: 'application' });
    expect(chart.appVersion).toBe(pkg.version);
    expect(VERSION).toBe(pkg.version);
  });
  it('the image defaults to the appVersion tag; a digest pins it', () => {
    expect(container(render()).image).toBe(`callback-proxy/ext-authz:${pkg.version}`);
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(container(render({ image: { digest } })).image).toBe(`callback-proxy/ext-authz@${digest}`);
  });
});
