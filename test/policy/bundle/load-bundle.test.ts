// Reading OPA bundles: OPA-built archives from the shared fixtures, archives made by GNU tar in each
// format, directories, data merging at any level, roots, wasm resolvers, and the refusals (traversal,
// absolute names, duplicates, links, limits) with the code and the file they name.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadBundleArchive, loadBundlePath, modulePackagePath } from '../../../ext-authz/src/policy/bundle/load-bundle';
import { failure } from './bundle-failure';
import { sharedFixture } from '../../support/shared-fixtures';
import { rawTarGz, tarGz, writeTree } from '../../support/tar-gz';

const opaWasm = sharedFixture('opa-wasm', 'OPA-built bundle fixtures');
const withFixtures = opaWasm ? describe : describe.skip;

withFixtures('bundles built by OPA 0.61', () => {
  test('the callback wasm bundle: manifest, wasm module with its entrypoint, rewritten modules, data', async () => {
    const b = await loadBundlePath(path.join(opaWasm!, 'callback', 'bundle.tar.gz'));
    expect(b.name).toBe('bundle.tar.gz');
    expect(b.revision).toBe('');
    expect(b.roots).toEqual(['']);
    expect(b.wasm).toHaveLength(1);
    expect(b.wasm![0].module).toBe('policy.wasm');
    expect(b.wasm![0].entrypoints).toEqual(['callback/decision']);
    expect(Buffer.from(b.wasm![0].bytes).equals(fs.readFileSync(path.join(opaWasm!, 'callback', 'policy.wasm')))).toBe(true);
    expect(b.modules.map((m) => m.path).sort()).toEqual(['src/decision.rego', 'src/facts.rego', 'src/stages.rego', 'src/threats.rego']);
    expect(b.data).toEqual({});
    expect(b.signed).toBe(false);
    expect(b.contentHash).toMatch(/^[0-9a-f]{64}$/);
  });

  test('the opa-envoy bundle: three entrypoints on one module, data from a root-level file', async () => {
    const b = await loadBundlePath(path.join(opaWasm!, 'opa-envoy', 'bundle.tar.gz'), { name: 'authz' });
    expect(b.name).toBe('authz');
    expect(b.wasm![0].entrypoints.sort()).toEqual(['envoy/authz/allow', 'envoy/authz/result', 'envoy/authz/status']);
    expect(b.data).toEqual({ callback_routes: [['oauth2', 'callback'], ['saml', 'acs']] });
  });

  test('a directory reads like the archive', async () => {
    const b = await loadBundlePath(path.join(opaWasm!, 'callback', 'src'));
    expect(b.wasm).toBeNull();
    expect(b.modules.map((m) => m.path)).toEqual(['decision.rego', 'facts.rego', 'stages.rego', 'threats.rego']);
    expect(b.modules[0].text).toBe(fs.readFileSync(path.join(opaWasm!, 'callback', 'src', 'decision.rego'), 'utf8'));
  });
});

describe('archives from GNU tar in each format', () => {
  const long = `${'deep/'.repeat(30)}policy.rego`; // > 100 bytes: needs PAX, GNU or the ustar prefix
  const files = { 'a/data.json': '{"x": 1}', [long]: 'package deep\nallow := true\n', 'z.rego': 'package z\n' };
  test.each(['pax', 'gnu', 'ustar'] as const)('%s', async (format) => {
    const b = await loadBundleArchive(tarGz(files, format));
    expect(b.modules.map((m) => m.path).sort()).toEqual([long, 'z.rego']);
    expect(b.data).toEqual({ a: { x: 1 } });
  });
});

describe('data files', () => {
  test('data.json / data.yaml / data.yml merge at their directory path, at any depth', async () => {
    const b = await loadBundleArchive(
      tarGz({
        'data.json': '{"top": true, "a": {"k": 1}}',
        'a/b/data.yaml': 'list: [1, 2]\n',
        'a/c/data.yml': 'name: c\n',
        'x.rego': 'package x\n',
      }),
    );
    expect(b.data).toEqual({ top: true, a: { k: 1, b: { list: [1, 2] }, c: { name: 'c' } } });
  });

  test('a conflict names both files', async () => {
    const e = await failure(loadBundleArchive(tarGz({ 'data.json': '{"a": {"b": 1}}', 'a/data.json': '{"b": 2}' })));
    expect(e.code).toBe('bundle_data_conflict');
    // GNU tar writes a/data.json first, so the root file is the one that conflicts.
    expect(e.file).toBe('data.json');
    expect(e.message).toContain('/a/b');
    expect(e.message).toContain('a/data.json');
  });

  test('bad JSON and a non-object root document are refused naming the file', async () => {
    expect(await failure(loadBundleArchive(tarGz({ 'p/data.json': '{nope' })))).toMatchObject({ code: 'bundle_data_invalid', file: 'p/data.json' });
    expect(await failure(loadBundleArchive(tarGz({ 'data.json': '[1]' })))).toMatchObject({ code: 'bundle_data_invalid', file: 'data.json' });
    expect(await failure(loadBundleArchive(tarGz({ 'd/data.yaml': 'a: [' })))).toMatchObject({ code: 'bundle_data_invalid', file: 'd/data.yaml' });
  });
});

describe('manifest', () => {
  test('revision, roots, metadata and rego_version are read', async () => {
    const manifest = { revision: 'r7', roots: ['app'], rego_version: 1, metadata: { team: 'iam' } };
    const b = await loadBundleArchive(tarGz({ '.manifest': JSON.stringify(manifest), 'app/data.json': '{"k": 1}', 'p.rego': 'package app.authz\n' }));
    expect(b.revision).toBe('r7');
    expect(b.roots).toEqual(['app']);
    expect(b.metadata).toEqual({ team: 'iam' });
    expect(b.manifest.regoVersion).toBe(1);
  });

  test('data outside the roots is refused', async () => {
    const e = await failure(loadBundleArchive(tarGz({ '.manifest': '{"roots": ["app"]}', 'other/data.json': '{"k": 1}' })));
    expect(e.code).toBe('bundle_root_violation');
    expect(e.file).toBe('other/data.json');
  });

  test('a package outside the roots is refused naming the module', async () => {
    const e = await failure(loadBundleArchive(tarGz({ '.manifest': '{"roots": ["app/authz"]}', 'm.rego': '# c\npackage app.other\n' })));
    expect(e).toMatchObject({ code: 'bundle_root_violation', file: 'm.rego' });
  });

  test('overlapping roots, wrong types and a missing wasm module are refused', async () => {
    expect(await failure(loadBundleArchive(tarGz({ '.manifest': '{"roots": ["a", "a/b"]}' })))).toMatchObject({ code: 'bundle_manifest_invalid', file: '.manifest' });
    expect((await failure(loadBundleArchive(tarGz({ '.manifest': '{"revision": 3}' })))).message).toContain('revision');
    const e = await failure(loadBundleArchive(tarGz({ '.manifest': '{"wasm": [{"entrypoint": "a/b", "module": "/policy.wasm"}]}' })));
    expect(e.code).toBe('bundle_wasm_invalid');
  });

  test('a manifest below the root and a delta bundle are refused', async () => {
    expect(await failure(loadBundleArchive(tarGz({ 'x/.manifest': '{}' })))).toMatchObject({ code: 'bundle_manifest_invalid', file: 'x/.manifest' });
    expect(await failure(loadBundleArchive(tarGz({ 'patch.json': '{"data": []}' })))).toMatchObject({ code: 'bundle_delta_unsupported' });
  });

  test('package paths are read like OPA reads them', () => {
    expect(modulePackagePath('# header\n\npackage envoy.authz # trailing\n')).toBe('envoy/authz');
    expect(modulePackagePath('package data.a["b-c"].d\n')).toBe('a/b-c/d');
    expect(modulePackagePath('allow := true\n')).toBeNull();
  });
});

describe('refused archives', () => {
  test.each([
    ['../escape.rego', 'bundle_path_invalid'],
    ['a/../../escape.rego', 'bundle_path_invalid'],
    ['//etc/passwd', 'bundle_path_invalid'],
    ['C:/win.rego', 'bundle_path_invalid'],
    ['a\\b.rego', 'bundle_path_invalid'],
  ])('%s → %s', async (name, code) => {
    const e = await failure(loadBundleArchive(rawTarGz([{ name, data: 'package x\n' }])));
    expect(e.code).toBe(code);
    expect(e.message).toContain(JSON.stringify(name));
  });

  test('a leading slash is the bundle root, as OPA writes it', async () => {
    const b = await loadBundleArchive(rawTarGz([{ name: '/p.rego', data: 'package p\n' }]));
    expect(b.modules[0].path).toBe('p.rego');
  });

  test('the same path twice (also as /x and ./x) is refused', async () => {
    const e = await failure(loadBundleArchive(rawTarGz([{ name: '/x.rego', data: 'package a\n' }, { name: './x.rego', data: 'package b\n' }])));
    expect(e).toMatchObject({ code: 'bundle_duplicate_entry', file: 'x.rego' });
  });

  test('symbolic and hard links are refused by name', async () => {
    expect(await failure(loadBundleArchive(rawTarGz([{ name: 'l.rego', type: '2' }])))).toMatchObject({ code: 'bundle_entry_type', file: 'l.rego' });
    expect(await failure(loadBundleArchive(rawTarGz([{ name: 'h.rego', type: '1' }])))).toMatchObject({ code: 'bundle_entry_type' });
  });

  test('per-file size, file count and total size limits', async () => {
    const big = tarGz({ 'big.rego': `package big\n${'#'.repeat(5000)}\n`, 'small.rego': 'package s\n' });
    expect(await failure(loadBundleArchive(big, { limits: { maxFileBytes: 1000 } }))).toMatchObject({ code: 'bundle_file_too_large', file: 'big.rego' });
    expect(await failure(loadBundleArchive(big, { limits: { maxFiles: 1 } }))).toMatchObject({ code: 'bundle_too_many_files' });
    expect(await failure(loadBundleArchive(big, { limits: { maxTotalBytes: 2048 } }))).toMatchObject({ code: 'bundle_too_large' });
  });

  test('a gzip bomb stops at the cap instead of filling memory', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024)); // ~64 KB compressed
    expect(bomb.length).toBeLessThan(200_000);
    expect(await failure(loadBundleArchive(bomb, { limits: { maxTotalBytes: 1024 * 1024 } }))).toMatchObject({ code: 'bundle_too_large' });
  });

  test('not gzip, corrupt gzip and a truncated tar are archive errors', async () => {
    expect(await failure(loadBundleArchive(Buffer.from('plain text')))).toMatchObject({ code: 'bundle_archive_invalid' });
    const good = tarGz({ 'a.rego': 'package a\n' });
    const corrupt = Buffer.from(good);
    corrupt.fill(0x55, 20, 60);
    expect(await failure(loadBundleArchive(corrupt))).toMatchObject({ code: 'bundle_archive_invalid' });
    const raw = rawTarGz([{ name: 'a.rego', data: 'x'.repeat(2000) }]);
    const { gunzipSync } = await import('node:zlib');
    const truncated = gzipSync(gunzipSync(raw).subarray(0, 1024));
    expect(await failure(loadBundleArchive(truncated))).toMatchObject({ code: 'bundle_archive_invalid', file: 'a.rego' });
  });
});

describe('directories', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-bundle-dir-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('dotfiles (.manifest) are part of the bundle; links inside are followed, links outside skipped', async () => {
    writeTree(dir, { '.manifest': '{"revision": "d1"}', 'real/p.rego': 'package p\n', 'real/data.json': '{"v": 1}' });
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-outside-'));
    fs.writeFileSync(path.join(outside, 'evil.rego'), 'package evil\n');
    fs.symlinkSync(path.join(dir, 'real', 'p.rego'), path.join(dir, 'link.rego'));
    fs.symlinkSync(path.join(outside, 'evil.rego'), path.join(dir, 'evil.rego'));
    try {
      const b = await loadBundlePath(dir, { name: 'd' });
      expect(b.revision).toBe('d1');
      expect(b.modules.map((m) => m.path).sort()).toEqual(['link.rego', 'real/p.rego']);
      expect(b.data).toEqual({ real: { v: 1 } });
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  test('skipTestModules drops *_test.rego; a missing path is bundle_unreadable', async () => {
    writeTree(dir, { 'p.rego': 'package p\n', 'p_test.rego': 'package p\n' });
    expect((await loadBundlePath(dir, { skipTestModules: true })).modules.map((m) => m.path)).toEqual(['p.rego']);
    expect((await loadBundlePath(dir)).modules).toHaveLength(2);
    expect(await failure(loadBundlePath(path.join(dir, 'nope')))).toMatchObject({ code: 'bundle_unreadable' });
  });
});
