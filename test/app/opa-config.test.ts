// `serve --opa-config opa.yaml` with the kind of file an OPA-Envoy deployment has: a service with a bearer
// token (and an S3 credential we do not implement), a signed bundle with its key, decision logs uploaded
// to the service with a mask decision and labels, the Envoy plugin's options, and a section we ignore.
// The file is parsed by the real `serve` command into App options, every key we do not act on is
// reported by its path, and the App then serves the bundle, masks and labels its decision logs, and
// uploads them to the service. A broken file stops `serve` (exit 2) naming the field.
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startHarness, cb, ISS_NEW } from '../support/app-harness';
import { startBundleServer } from '../policy/bundle/bundle-server';
import type { TestBundleServer } from '../policy/bundle/bundle-server';
import { signedBundle } from '../policy/bundle/signed-bundle';
import { runCliAsync } from '../cli/run-cli';
import { parseServe } from '../support/serve-options';

const serveOptionsFor = parseServe;

const POLICY = `package callback

import rego.v1

# Allow what the pin allows (the pipeline routes it); everything else is denied.
decision := {"action": "allow", "backend": input.pin.backend, "reasons": ["pinned_new"]} if {
  input.pin.found
  input.pin.backend == "new"
} else := {"action": "deny", "reasons": ["stage_unknown"]}
`;

const MASK = `package system.log

import rego.v1

# OPA's mask decision: drop the peer address, replace the user agent.
mask contains "/input/attributes/source"

mask contains {"op": "upsert", "path": "/input/attributes/request/http/headers/user-agent", "value": "masked-by-policy"}
`;

function opaYaml(publicPem: string): string {
  return `# An OPA-Envoy style configuration
services:
  acmecorp:
    url: \${BUNDLE_SERVER}
    response_header_timeout_seconds: 5
    credentials:
      bearer:
        token: "\${BUNDLE_TOKEN}"
      s3_signing:
        environment_credentials: {}
bundles:
  authz:
    service: acmecorp
    resource: bundles/authz.tar.gz
    polling:
      min_delay_seconds: 1
      max_delay_seconds: 2
    signing:
      keyid: ci
keys:
  ci:
    algorithm: RS256
    key: |
${publicPem.trim().split('\n').map((l) => `      ${l}`).join('\n')}
decision_logs:
  service: acmecorp
  resource: /logs
  mask_decision: /system/log/mask
  reporting:
    min_delay_seconds: 300
    max_delay_seconds: 600
labels:
  region: eu-west-1
  team: identity
default_decision: /callback/decision
status:
  console: true
plugins:
  envoy_ext_authz_grpc:
    addr: 127.0.0.1:0
    path: callback/decision
    dry-run: true
    enable-reflection: true
    skip-request-body-parse: true
`;
}

describe('serve --opa-config', () => {
  let dir: string;
  let server: TestBundleServer;
  let key: { privateKey: KeyObject; publicKey: KeyObject };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-opa-config-'));
    key = generateKeyPairSync('rsa', { modulusLength: 2048 });
    server = await startBundleServer();
  });
  afterAll(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a realistic opa.yaml: parsed into options, unknown keys reported, bundle served, logs masked, labelled and uploaded', async () => {
    // The decision-log service: a second local server keeping the raw gzip bodies.
    const raw: Buffer[] = [];
    const http = await import('node:http');
    const logServer = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        raw.push(Buffer.concat(chunks));
        expect(req.headers.authorization).toBe('Bearer reader-token-1');
        expect(req.headers['content-encoding']).toBe('gzip');
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => logServer.listen(0, '127.0.0.1', r));
    const logPort = (logServer.address() as { port: number }).port;

    server.publish({
      body: await signedBundle({ 'callback/p.rego': POLICY, 'system/log/mask.rego': MASK, '.manifest': '{"revision":"2026-12-06.1"}' }, { key: key.privateKey, alg: 'RS256', kid: 'ci' }),
      etag: '"a1"',
    });
    const file = path.join(dir, 'opa.yaml');
    fs.writeFileSync(file, opaYaml(key.publicKey.export({ type: 'spki', format: 'pem' }) as string));
    const opts = await serveOptionsFor(['--opa-config', file], { BUNDLE_SERVER: server.url, BUNDLE_TOKEN: 'reader-token-1' });

    expect(opts.grpcAddr).toBe('127.0.0.1:0');
    expect(opts.decisionPath).toBe('callback/decision');
    expect(opts.opaEnvoy).toEqual({ dryRun: true, skipRequestBodyParse: true });
    expect(opts.configuredBundle?.bundle).toMatchObject({ name: 'authz', service: 'acmecorp', resource: 'bundles/authz.tar.gz' });
    expect(opts.configuredBundle?.verification?.keyId).toBe('ci');
    expect(opts.decisionLogLabels).toEqual({ region: 'eu-west-1', team: 'identity' });
    expect(opts.decisionLogMask).toBe('/system/log/mask');
    expect(opts.decisionLogUpload?.resource).toBe('/logs');
    const warned = (opts.configWarnings ?? []).map((w) => w.path).sort();
    expect(warned).toEqual(['plugins.envoy_ext_authz_grpc.enable-reflection', 'services.acmecorp.credentials.s3_signing', 'status']);

    // The decision-log service goes to our capturing server (same token, as the file's service says).
    opts.decisionLogUpload = { ...opts.decisionLogUpload!, service: { ...opts.decisionLogUpload!.service, url: `http://127.0.0.1:${logPort}` } };
    const { decisionLog: _none, ...rest } = opts;
    void _none;
    const h = await startHarness({ ...rest, httpAddr: '127.0.0.1:0', adminAddr: '127.0.0.1:0' });
    try {
      expect(h.app.readiness.reasons()).toEqual([]);
      expect(h.app.current!.engine.revision).toBe('2026-12-06.1');
      for (const q of server.requests) expect(q.headers.authorization).toBe('Bearer reader-token-1');
      // Every warning was logged with its path.
      const logs = h.logs.join('');
      for (const p of warned) expect(logs).toContain(`"event":"opa_config_ignored","path":"${p}"`);

      const s = await h.mint('new');
      expect(await h.ask('grpc', { path: cb({ code: 'k', state: s, iss: ISS_NEW }) })).toMatchObject({ allowed: true, backend: 'new' });
      expect(await h.ask('grpc', { path: '/login' })).toMatchObject({ allowed: false, reason: 'stage_unknown' });

      const events = h.decisionLines.map((l) => JSON.parse(l) as Record<string, any>);
      expect(events).toHaveLength(2);
      for (const ev of events) {
        expect(ev.labels).toMatchObject({ app: 'callback-proxy', region: 'eu-west-1', team: 'identity' });
        expect(ev.bundles).toEqual({ authz: { revision: '2026-12-06.1' } });
        expect(ev.erased).toContain('/input/attributes/source');
        expect(ev.input.attributes.source).toBeUndefined();
        expect(ev.masked).toContain('/input/attributes/request/http/headers/user-agent');
        expect(ev.input.attributes.request.http.headers['user-agent']).toBe('masked-by-policy');
      }
    } finally {
      await h.close(); // the uploader's last flush
      await new Promise<void>((r) => logServer.close(() => r()));
    }
    const uploaded = raw.flatMap((b) => JSON.parse(gunzipSync(b).toString('utf8')) as Record<string, any>[]);
    expect(uploaded).toHaveLength(2);
    expect(uploaded.map((e) => e.labels.region)).toEqual(['eu-west-1', 'eu-west-1']);
    expect(uploaded.every((e) => e.input.attributes.source === undefined)).toBe(true);
  });

  test('a broken opa.yaml stops serve with exit 2, naming the file and the field', async () => {
    const file = path.join(dir, 'broken.yaml');
    fs.writeFileSync(file, 'services:\n  a:\n    url: https://b.example.com\nbundles:\n  authz:\n    service: nope\n');
    const r = await runCliAsync(['serve', '--opa-config', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`--opa-config: config_invalid: ${file}: bundles.authz.service: unknown service "nope"`);
    const two = path.join(dir, 'two.yaml');
    fs.writeFileSync(two, 'services:\n  a:\n    url: https://b.example.com\nbundles:\n  x: {}\n  y: {}\n');
    const r2 = await runCliAsync(['serve', '--opa-config', two]);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toContain('bundles: only one bundle can be the policy here (found x, y)');
  });
});
