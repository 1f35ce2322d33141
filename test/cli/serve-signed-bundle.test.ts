// Signed bundles through `callback-proxy serve` (the shipped CLI in a child process) and the App: every
// case of shared/opa-wasm/signed verifies or is refused exactly as its README says OPA 0.61 did — the
// tampered file by its digests, the wrong key, a file the signature does not list — each as a start-up
// failure (exit 2) whose message names the bundle, the file and the problem; the good bundle serves.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { runCliAsync } from './run-cli';
import { startServe } from '../support/serve-child';
import { startHarness, cb, ISS_NEW } from '../support/app-harness';
import { describeWithFixtures, OPA_WASM_DIR } from '../policy/wasm/fixtures';

const SIGNED = path.join(OPA_WASM_DIR, 'signed');
const KEY = path.join(SIGNED, 'keys', 'test-signing-key.pub.pem');
const WRONG_KEY = path.join(SIGNED, 'keys', 'test-wrong-signing-key.pub.pem');
const ADDRS = ['--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', '--admin-addr', '127.0.0.1:0', '--grace-ms', '0'];

async function refused(args: string[]): Promise<string> {
  const r = await runCliAsync(['serve', ...ADDRS, ...args]);
  expect(r.status).toBe(2);
  const line = r.stderr.split('\n').find((l) => l.startsWith('callback-proxy: start-up failed:'));
  expect(line).toBeDefined();
  return line!;
}

/** bundle.tar.gz with one more file that its signature does not list. */
function withUnlistedFile(dir: string): string {
  const root = path.join(dir, 'root');
  fs.mkdirSync(root);
  execFileSync('tar', ['-xzf', path.join(SIGNED, 'bundle.tar.gz'), '-C', root]);
  fs.writeFileSync(path.join(root, 'src', 'extra.rego'), 'package extra\n\nx := 1\n');
  const out = path.join(dir, 'bundle-unlisted.tar.gz');
  const members = ['.signatures.json', 'data.json', 'src'].filter((f) => fs.existsSync(path.join(root, f)));
  execFileSync('tar', ['-czf', out, '-C', root, ...members]);
  return out;
}

describeWithFixtures('signed bundles (shared/opa-wasm/signed) through serve', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-signed-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('bundle.tar.gz verifies with the signing key and serves', async () => {
    const child = await startServe(['--policy', path.join(SIGNED, 'bundle.tar.gz'), '--verification-key', KEY, '--signing-alg', 'RS256']);
    expect(await child.stop()).toBe(0);
    expect(child.stdout()).toMatch(/"event":"ready","engine":"rego"/);
  });

  test('bundle-tampered.tar.gz is refused by the digest of src/decision.rego, with both digests', async () => {
    const line = await refused(['--policy', path.join(SIGNED, 'bundle-tampered.tar.gz'), '--verification-key', KEY]);
    expect(line).toContain('bundle-tampered.tar.gz');
    expect(line).toContain('src/decision.rego: digest mismatch (want: dd055e22cd4e5400dfa4fc2cf30cafe6059c450cafde2126844cf3299d464c0f, got: dadc2a46e6da376293e72f81cc263715c56ee84d4b0948fdd309fe2a5ca36efb)');
    expect(line).toContain('[bundle_digest_mismatch]');
  });

  test('bundle-wrong-key.tar.gz is refused: the signature does not verify with the configured key', async () => {
    const line = await refused(['--policy', path.join(SIGNED, 'bundle-wrong-key.tar.gz'), '--verification-key', KEY]);
    expect(line).toContain('bundle-wrong-key.tar.gz');
    expect(line).toContain('failed to verify message with key "default"');
    expect(line).toContain('[bundle_signature_invalid]');
  });

  test('bundle-wrong-key.tar.gz verifies with its own key', async () => {
    const child = await startServe(['--policy', path.join(SIGNED, 'bundle-wrong-key.tar.gz'), '--verification-key', WRONG_KEY]);
    expect(await child.stop()).toBe(0);
  });

  test('a file the signature does not list is refused, naming it; --exclude-files lets it through', async () => {
    const unlisted = withUnlistedFile(dir);
    const line = await refused(['--policy', unlisted, '--verification-key', KEY]);
    expect(line).toContain('src/extra.rego: file not included in bundle signature [bundle_file_unsigned]');
    const child = await startServe(['--policy', unlisted, '--verification-key', KEY, '--exclude-files', 'src/extra.rego']);
    expect(await child.stop()).toBe(0);
  });

  test('a signed bundle without a key, an unsigned directory with one, and a scope it was not signed for are refused', async () => {
    expect(await refused(['--policy', path.join(SIGNED, 'bundle-tampered.tar.gz')])).toContain('the bundle is signed but no verification key is configured [bundle_verification_key_missing]');
    expect(await refused(['--policy', path.join(OPA_WASM_DIR, 'callback', 'src'), '--verification-key', KEY])).toContain('bundle missing .signatures.json file [bundle_signature_missing]');
    expect(await refused(['--policy', path.join(SIGNED, 'bundle.tar.gz'), '--verification-key', KEY, '--scope', 'write'])).toContain('scope mismatch: the bundle is signed for "", expected "write" [bundle_scope_mismatch]');
    expect(await refused(['--policy', path.join(SIGNED, 'bundle.tar.gz'), '--verification-key', KEY, '--signing-alg', 'ES256'])).toContain('[bundle_signature_invalid]');
  });

  test('the verified bundle decides through the App like the policy directory it was built from', async () => {
    const h = await startHarness({ policyDir: path.join(SIGNED, 'bundle.tar.gz'), verification: { keys: { default: { key: fs.readFileSync(KEY, 'utf8'), algorithm: 'RS256' } }, keyId: 'default' } });
    try {
      expect(h.app.current!.engine.kind).toBe('rego');
      const s = await h.mint('new');
      expect(await h.ask('grpc', { path: cb({ code: 'a', state: s, iss: ISS_NEW }) })).toMatchObject({ allowed: true, backend: 'new' });
      expect(await h.ask('grpc', { path: cb({ code: 'a', state: s, iss: ISS_NEW }) })).toMatchObject({ allowed: false, reason: 'code_replayed' });
    } finally {
      await h.close();
    }
  });
});
