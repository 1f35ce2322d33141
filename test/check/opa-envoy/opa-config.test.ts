// `serve --mode opa-envoy --opa-config opa.yaml`, as an opa-envoy-plugin user runs OPA: the configured
// bundle (OPA's wasm build of the shared OPA-Envoy policy) is the policy, plugins.envoy_ext_authz_grpc's
// `path` is the decision and its `dry-run` lets a denial through while the decision log (console, with the
// file's labels) keeps what the policy decided, with the bundle's name. The real process, over gRPC.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadProtos } from '../../../ext-authz/src/check/protos';
import { checkRequestFor, grpcCheck } from '../../support/app-harness';
import { startServe } from '../../support/serve-child';
import { sharedFixture } from '../../support/shared-fixtures';

const shared = sharedFixture('opa-wasm', 'opa-envoy mode with --opa-config');
const maybe = shared ? test : test.skip;

maybe('the OPA config\'s bundle, decision path and dry-run drive --mode opa-envoy', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opa-envoy-config-'));
  const config = path.join(dir, 'opa.yaml');
  fs.writeFileSync(
    config,
    [
      'bundles:',
      '  authz:',
      `    resource: ${pathToFileURL(path.join(shared!, 'opa-envoy', 'bundle.tar.gz')).href}`,
      'decision_logs:',
      '  console: true',
      'labels:',
      '  team: edge',
      'plugins:',
      '  envoy_ext_authz_grpc:',
      '    addr: 127.0.0.1:0',
      '    path: envoy/authz/result',
      '    dry-run: true',
      '',
    ].join('\n'),
  );
  const svc = await startServe(['--mode', 'opa-envoy', '--opa-config', config, '--engine', 'wasm', '--log-level', 'warn']);
  const client = new (loadProtos().AuthorizationClient)(`127.0.0.1:${svc.grpcPort}`, grpc.credentials.createInsecure()) as any;
  try {
    const denied = await grpcCheck(client, checkRequestFor({ path: '/admin' }));
    expect(denied.status.code).toBe(0); // dry-run
    expect(denied.okResponse.headers ?? []).toEqual([]);
    const allowed = await grpcCheck(client, checkRequestFor({ path: '/oauth2/callback?code=c&state=s' }));
    expect(allowed.okResponse.headers).toEqual([{ header: { key: 'x-ext-authz-policy', value: 'opa-envoy-example' } }]);
  } finally {
    client.close();
    expect(await svc.stop()).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const events = svc.stdout().split('\n').filter((l) => l.startsWith('{"decision_id"')).map((l) => JSON.parse(l));
  expect(events).toHaveLength(2);
  expect(events[0]).toMatchObject({ path: 'envoy/authz/result', labels: { team: 'edge' }, bundles: { authz: { revision: '' } }, dry_run: true, result: { allowed: false, http_status: 403 } });
  expect(events[1]).toMatchObject({ result: { allowed: true } });
}, 90_000);
