// Bundle signature verification, OPA's rules. The signed fixtures (built and signed by OPA 0.61) must
// verify or fail exactly as their README says; bundles signed here with jose and keys made in the test
// cover what the fixtures lack: an unlisted file, a listed file that is missing, scope, key ids, HS256,
// several JWTs, and excluded files.
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { failure } from './bundle-failure';
import { loadBundleArchive, loadBundlePath } from '../../../ext-authz/src/policy/bundle/load-bundle';
import { singleKeyVerification } from '../../../ext-authz/src/policy/bundle/signature';
import type { VerificationConfig } from '../../../ext-authz/src/policy/bundle/signature';
import { sharedFixture } from '../../support/shared-fixtures';
import { tarGz } from '../../support/tar-gz';
import type { TreeFiles } from '../../support/tar-gz';
import { sha256, signedBundle } from './signed-bundle';

const shared = sharedFixture('opa-wasm', 'signed bundle fixtures');
const withFixtures = shared ? describe : describe.skip;

withFixtures('the signed fixtures', () => {
  const signed = (f: string): string => path.join(shared!, 'signed', f);
  const key = (f: string): string => fs.readFileSync(signed(`keys/${f}`), 'utf8');
  const verifyWith = (pub: string): { verification: VerificationConfig } => ({ verification: singleKeyVerification({ key: key(pub), algorithm: 'RS256' }) });

  test('bundle.tar.gz verifies with the signing key and loads its modules', async () => {
    const b = await loadBundlePath(signed('bundle.tar.gz'), verifyWith('test-signing-key.pub.pem'));
    expect(b.signed).toBe(true);
    expect(b.modules.map((m) => m.path).sort()).toEqual(['src/decision.rego', 'src/facts.rego', 'src/stages.rego', 'src/threats.rego']);
    expect(b.data).toEqual({});
  });

  test('bundle-tampered.tar.gz fails with a digest mismatch naming src/decision.rego', async () => {
    const e = await failure(loadBundlePath(signed('bundle-tampered.tar.gz'), verifyWith('test-signing-key.pub.pem')));
    expect(e.code).toBe('bundle_digest_mismatch');
    expect(e.file).toBe('src/decision.rego');
    expect(e.message).toBe(
      'src/decision.rego: digest mismatch (want: dd055e22cd4e5400dfa4fc2cf30cafe6059c450cafde2126844cf3299d464c0f, got: dadc2a46e6da376293e72f81cc263715c56ee84d4b0948fdd309fe2a5ca36efb)',
    );
  });

  test('bundle-wrong-key.tar.gz fails verification, and verifies with the wrong key\'s public key', async () => {
    const e = await failure(loadBundlePath(signed('bundle-wrong-key.tar.gz'), verifyWith('test-signing-key.pub.pem')));
    expect(e.code).toBe('bundle_signature_invalid');
    expect(e.message).toContain('failed to verify message');
    const b = await loadBundlePath(signed('bundle-wrong-key.tar.gz'), verifyWith('test-wrong-signing-key.pub.pem'));
    expect(b.signed).toBe(true);
  });

  test('the unsigned source directory with a key configured: missing .signatures.json', async () => {
    const e = await failure(loadBundlePath(path.join(shared!, 'callback', 'src'), verifyWith('test-signing-key.pub.pem')));
    expect(e.code).toBe('bundle_signature_missing');
    expect(e.message).toContain('missing .signatures.json');
  });

  test('a signed bundle without a key is refused; --skip-verify loads even the tampered one', async () => {
    expect(await failure(loadBundlePath(signed('bundle-tampered.tar.gz')))).toMatchObject({ code: 'bundle_verification_key_missing' });
    const b = await loadBundlePath(signed('bundle-tampered.tar.gz'), { skipVerify: true });
    expect(b.signed).toBe(false);
    expect(b.modules.find((m) => m.path === 'src/decision.rego')!.text).toContain('"action": "allow",');
  });

  test('the private key PEM also works as the verification key (its public half is derived)', async () => {
    const b = await loadBundlePath(signed('bundle.tar.gz'), verifyWith('test-signing-key.pem'));
    expect(b.signed).toBe(true);
  });
});

describe('bundles signed in the test', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const files: TreeFiles = { 'app/p.rego': 'package app\nallow := true\n', 'app/data.json': '{"limit":3}', '.manifest': '{"revision":"v1","roots":["app"]}' };
  const cfg = (extra: Partial<VerificationConfig> = {}): VerificationConfig => ({ keys: { k1: { key: pub, algorithm: 'RS256' } }, keyId: 'k1', ...extra });

  test('a good bundle verifies; its manifest and data load', async () => {
    const b = await loadBundleArchive(await signedBundle(files, { key: privateKey }), { verification: cfg() });
    expect(b).toMatchObject({ signed: true, revision: 'v1', data: { app: { limit: 3 } } });
  });

  test('a file in the bundle that the signature does not list is refused by name', async () => {
    const archive = await signedBundle(files, { key: privateKey, extra: { 'app/extra.rego': 'package app\nx := 1\n' } });
    expect(await failure(loadBundleArchive(archive, { verification: cfg() }))).toMatchObject({ code: 'bundle_file_unsigned', file: 'app/extra.rego' });
  });

  test('a listed file that is not in the bundle is refused by name', async () => {
    const list = { ...Object.fromEntries(Object.entries(files).map(([n, c]) => [n, sha256(c)])), 'app/gone.rego': sha256('x') };
    const e = await failure(loadBundleArchive(await signedBundle(files, { key: privateKey, list }), { verification: cfg() }));
    expect(e).toMatchObject({ code: 'bundle_file_missing', file: 'app/gone.rego' });
  });

  test('scope: the payload scope must equal the configured one (or the key\'s)', async () => {
    const archive = await signedBundle(files, { key: privateKey, payload: { scope: 'write' } });
    expect(await failure(loadBundleArchive(archive, { verification: cfg() }))).toMatchObject({ code: 'bundle_scope_mismatch' });
    expect(await failure(loadBundleArchive(archive, { verification: cfg({ scope: 'read' }) }))).toMatchObject({ code: 'bundle_scope_mismatch' });
    expect((await loadBundleArchive(archive, { verification: cfg({ scope: 'write' }) })).signed).toBe(true);
    const keyScoped: VerificationConfig = { keys: { k1: { key: pub, scope: 'write' } }, keyId: 'k1' };
    expect((await loadBundleArchive(archive, { verification: keyScoped })).signed).toBe(true);
  });

  test('key id: configured id, else the JWS kid, else the payload keyid; unknown and empty ids are refused', async () => {
    const byKid = await signedBundle(files, { key: privateKey, kid: 'k1' });
    expect((await loadBundleArchive(byKid, { verification: { keys: { k1: { key: pub } } } })).signed).toBe(true);
    const byPayload = await signedBundle(files, { key: privateKey, payload: { keyid: 'k1' } });
    expect((await loadBundleArchive(byPayload, { verification: { keys: { k1: { key: pub } } } })).signed).toBe(true);
    const anonymous = await signedBundle(files, { key: privateKey });
    expect(await failure(loadBundleArchive(anonymous, { verification: { keys: { k1: { key: pub } } } }))).toMatchObject({ code: 'bundle_key_id_missing' });
    expect(await failure(loadBundleArchive(byKid, { verification: { keys: { other: { key: pub } } } }))).toMatchObject({ code: 'bundle_key_unknown' });
  });

  test('HS256 with a shared secret; the wrong secret fails verification', async () => {
    const secret = 'a shared secret of some length!!';
    const archive = await signedBundle(files, { key: Buffer.from(secret), alg: 'HS256' });
    const hs = (s: string): VerificationConfig => ({ keys: { default: { key: s, algorithm: 'HS256' } }, keyId: 'default' });
    expect((await loadBundleArchive(archive, { verification: hs(secret) })).signed).toBe(true);
    expect(await failure(loadBundleArchive(archive, { verification: hs('another secret, also long enough') }))).toMatchObject({ code: 'bundle_signature_invalid' });
  });

  test('a token signed with another algorithm than the key\'s is refused', async () => {
    const archive = await signedBundle(files, { key: privateKey, alg: 'PS256' });
    expect(await failure(loadBundleArchive(archive, { verification: cfg() }))).toMatchObject({ code: 'bundle_signature_invalid' });
  });

  test('.signatures.json must hold exactly one JWT', async () => {
    const one = await signedBundle(files, { key: privateKey });
    const { filesFromTarGz } = await import('../../../ext-authz/src/policy/bundle/bundle-files');
    const jws = JSON.parse(filesFromTarGz(one).find((f) => f.path === '.signatures.json')!.data.toString()).signatures[0] as string;
    const two = tarGz({ ...files, '.signatures.json': JSON.stringify({ signatures: [jws, jws] }) });
    expect(await failure(loadBundleArchive(two, { verification: cfg() }))).toMatchObject({ code: 'bundle_signatures_invalid' });
    const none = tarGz({ ...files, '.signatures.json': '{"signatures": []}' });
    expect(await failure(loadBundleArchive(none, { verification: cfg() }))).toMatchObject({ code: 'bundle_signatures_invalid' });
  });

  test('excluded files need not be listed', async () => {
    const archive = await signedBundle(files, { key: privateKey, extra: { 'app/notes.txt': 'unsigned' } });
    const b = await loadBundleArchive(archive, { verification: cfg({ excludeFiles: ['app/*.txt'] }) });
    expect(b.signed).toBe(true);
  });

  test('a non-PEM key for RS256 is a key error, not a crash', async () => {
    const archive = await signedBundle(files, { key: privateKey });
    expect(await failure(loadBundleArchive(archive, { verification: { keys: { k1: { key: 'not a pem' } }, keyId: 'k1' } }))).toMatchObject({ code: 'bundle_key_invalid' });
  });

  test('error messages never contain the key material', async () => {
    const secret = 'super-secret-hmac-key-value-0123456789';
    const archive = await signedBundle(files, { key: Buffer.from('other-secret-hmac-key-value-9876543210'), alg: 'HS256' });
    const e = await failure(loadBundleArchive(archive, { verification: { keys: { k: { key: secret, algorithm: 'HS256' } }, keyId: 'k' } }));
    expect(e.message).not.toContain(secret);
  });
});
