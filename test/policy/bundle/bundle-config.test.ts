// From OPA's configuration to bundle sources: the service URL and resource a source polls, the
// signing section and top-level keys that verify it, and a file:// bundle read from disk.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseOpaConfig } from '../../../ext-authz/src/config/opa-config';
import { bundleSourcesFromConfig, verificationForBundle, LocalBundleSource } from '../../../ext-authz/src/policy/bundle/index';
import type { LoadedBundle } from '../../../ext-authz/src/policy/bundle/index';
import { sharedFixture } from '../../support/shared-fixtures';
import { tarGz } from '../../support/tar-gz';
import { startBundleServer } from './bundle-server';

test('an http bundle polls <service url>/<resource> and activates through the callback', async () => {
  const server = await startBundleServer();
  server.publish({ body: tarGz({ '.manifest': '{"revision":"c1"}', 'p.rego': 'package p\n' }), etag: '"c1"' });
  const { config } = parseOpaConfig(`services: {acme: {url: "${server.url}/api/v1/"}}\nbundles: {authz: {service: acme, resource: bundles/authz.tar.gz}}`, { file: 'opa.yaml', env: {} });
  const got: [string, LoadedBundle][] = [];
  const { sources, clients } = bundleSourcesFromConfig(config, { activate: (name, b) => void got.push([name, b]) });
  try {
    expect(sources).toHaveLength(1);
    expect(sources[0].kind).toBe('http');
    const src = sources[0].source as import('../../../ext-authz/src/policy/bundle/index').HttpBundleSource;
    expect(await src.pollOnce()).toMatchObject({ kind: 'activated', revision: 'c1' });
    expect(server.requests[0].path).toBe('/api/v1/bundles/authz.tar.gz');
    expect(got.map(([n, b]) => [n, b.revision])).toEqual([['authz', 'c1']]);
  } finally {
    for (const c of clients) c.close();
    await server.close();
  }
});

test('signing: the bundle keyid and scope, key algorithm and scope from keys', () => {
  const { config } = parseOpaConfig(
    'services: {s: {url: "https://x"}}\nkeys: {k1: {key: PEM, algorithm: ES256, scope: read}, k2: {private_key: P}}\nbundles: {a: {signing: {keyid: k1, scope: write, exclude_files: ["*.md"]}}, b: {}}',
    { file: 'opa.yaml', env: {} },
  );
  expect(verificationForBundle(config.bundles.a, config.keys)).toEqual({ keys: { k1: { key: 'PEM', algorithm: 'ES256', scope: 'read' } }, keyId: 'k1', scope: 'write', excludeFiles: ['*.md'] });
  expect(verificationForBundle(config.bundles.b, config.keys)).toBeUndefined();
});

const shared = sharedFixture('opa-wasm', 'file:// signed bundle from config');
(shared ? test : test.skip)('a file:// resource with signing verifies the OPA-signed fixture, and refuses the tampered one', async () => {
  const key = fs.readFileSync(path.join(shared!, 'signed', 'keys', 'test-signing-key.pub.pem'), 'utf8');
  const yaml = (file: string): string =>
    `keys: {signer: {key: ${JSON.stringify(key)}, algorithm: RS256}}\nbundles: {local: {resource: "file://${path.join(shared!, 'signed', file)}", signing: {keyid: signer}}}`;
  const load = async (file: string): Promise<LocalBundleSource> => {
    const { config } = parseOpaConfig(yaml(file), { file: 'opa.yaml', env: {} });
    const { sources } = bundleSourcesFromConfig(config, { activate: () => undefined });
    expect(sources[0].kind).toBe('local');
    return sources[0].source as LocalBundleSource;
  };
  const good = await load('bundle.tar.gz');
  expect((await good.load()).signed).toBe(true);
  const bad = await load('bundle-tampered.tar.gz');
  await expect(bad.load()).rejects.toMatchObject({ code: 'bundle_digest_mismatch', file: 'src/decision.rego' });
  expect(bad.status().lastError).toMatchObject({ code: 'bundle_digest_mismatch' });
  expect(bad.current()).toBeNull();
});
