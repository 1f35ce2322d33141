// Reads an OPA bundle (a directory or a `.tar.gz`) into one typed value both policy engines consume:
// Rego modules, the merged base document, wasm modules with their entrypoints, the manifest, and
// whether the signature was verified. Follows the OPA bundle format: `data.json`/`data.yaml` at any
// level merge at their directory's path, roots bound what a bundle may define, `policy.wasm` modules
// are named by the manifest's `wasm` resolvers. Runs at start and on reload, never per request.
import { errnoCode } from '../../model/errors';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { BundleError } from './bundle-errors';
import { DEFAULT_BUNDLE_LIMITS, filesFromDir, filesFromTarGz } from './bundle-files';
import type { BundleFile, BundleLimits } from './bundle-files';
import { EMPTY_MANIFEST, parseManifest, rootsContain } from './manifest';
import type { BundleManifest } from './manifest';
import { SIGNATURES_FILE, verifyBundle } from './signature';
import type { VerificationConfig } from './signature';
import { setOwn } from '../../model/own-property';

export interface BundleModule {
  /** Bundle-relative path, e.g. `src/decision.rego`. */
  path: string;
  text: string;
}

export interface BundleWasmModule {
  /** Bundle-relative path, e.g. `policy.wasm`. */
  module: string;
  /** Entrypoints the manifest maps to this module, slash form (`envoy/authz/allow`). */
  entrypoints: string[];
  bytes: Uint8Array;
}

export interface LoadedBundle {
  /** Bundle name: the configured name, else the file or directory name. */
  name: string;
  /** Manifest revision ('' when the manifest gives none, as in OPA). */
  revision: string;
  roots: string[];
  modules: BundleModule[];
  data: Record<string, unknown>;
  /** The wasm modules, or null when the bundle has none (then the Rego modules are the policy). */
  wasm: BundleWasmModule[] | null;
  manifest: BundleManifest;
  /** Manifest `metadata`. */
  metadata: Record<string, unknown>;
  /** The bundle server's ETag, for downloaded bundles. */
  etag?: string;
  /** True when `.signatures.json` was verified. */
  signed: boolean;
  /** sha256 over every file path and content: a stable id when the revision is empty. */
  contentHash: string;
  files: number;
  bytes: number;
}

export interface BundleReadOptions {
  name?: string;
  limits?: Partial<BundleLimits>;
  /** When set, the bundle must be signed and verify. */
  verification?: VerificationConfig;
  /** Load a signed bundle without checking its signature (OPA's --skip-verify). */
  skipVerify?: boolean;
  /** Drop `*_test.rego` modules (serving does not need them). */
  skipTestModules?: boolean;
  etag?: string;
}

const DATA_FILES = new Set(['data.json', 'data.yaml', 'data.yml']);
const WASM_FILE = 'policy.wasm';

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function limitsOf(opts: BundleReadOptions): BundleLimits {
  return { ...DEFAULT_BUNDLE_LIMITS, ...opts.limits };
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

function dirSegments(p: string): string[] {
  const i = p.lastIndexOf('/');
  return i < 0 ? [] : p.slice(0, i).split('/');
}

function parseDataFile(f: BundleFile): unknown {
  const text = f.data.toString('utf8').replace(/^\uFEFF/, '');
  try {
    return f.path.endsWith('.json') ? (JSON.parse(text) as unknown) : (parseYaml(text) as unknown);
  } catch (e) {
    const what = e instanceof SyntaxError ? 'JSON' : 'YAML';
    throw new BundleError('bundle_data_invalid', `is not valid ${what}`, f.path);
  }
}

/** Merges `src` into `dst` (objects recursively); two values meeting at one key is a conflict. */
function merge(dst: Record<string, unknown>, src: Record<string, unknown>, at: string[], file: string, earlier: (at: string[]) => string): void {
  for (const k of Object.keys(src)) {
    const cur = Object.prototype.hasOwnProperty.call(dst, k) ? dst[k] : undefined;
    if (cur === undefined) setOwn(dst, k, src[k]);
    else if (isPlainObject(cur) && isPlainObject(src[k])) merge(cur, src[k] as Record<string, unknown>, [...at, k], file, earlier);
    else {
      const where = [...at, k];
      throw new BundleError('bundle_data_conflict', `data at /${where.join('/')} is also defined by ${earlier(where)}`, file);
    }
  }
}

function insertData(data: Record<string, unknown>, f: BundleFile, value: unknown, earlier: (at: string[]) => string): void {
  const at = dirSegments(f.path);
  if (at.length === 0) {
    if (!isPlainObject(value)) throw new BundleError('bundle_data_invalid', 'a data file at the bundle root must hold an object', f.path);
    merge(data, value, [], f.path, earlier);
    return;
  }
  let tree: Record<string, unknown> = { [at[at.length - 1]]: value };
  for (let i = at.length - 2; i >= 0; i--) tree = { [at[i]]: tree };
  merge(data, tree, [], f.path, earlier);
}

/** OPA's check: every data path must lie in a root (objects on the way to a root are walked into). */
function checkDataRoots(node: unknown, path: string[], roots: string[], fileOf: (p: string[]) => string): void {
  const p = path.join('/');
  if (rootsContain(roots, p)) return;
  if (isPlainObject(node) && roots.some((r) => r.split('/').length > path.length && r.split('/').slice(0, path.length).join('/') === p)) {
    for (const k of Object.keys(node)) checkDataRoots(node[k], [...path, k], roots, fileOf);
    return;
  }
  throw new BundleError('bundle_root_violation', `manifest roots ${JSON.stringify(roots)} do not permit data at path /${p}`, fileOf(path));
}

/** `package a.b["c-d"]` → `a/b/c-d` (the part of the module OPA checks against the roots). */
export function modulePackagePath(text: string): string | null {
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const m = /^package\s+(.*)$/.exec(t);
    if (!m) return null;
    const ref = m[1].replace(/\s+#.*$/, '').trim();
    const segs: string[] = [];
    const re = /^(?:\.?\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*("(?:[^"\\]|\\.)*")\s*\])\s*/;
    let rest = ref;
    while (rest.length > 0) {
      const s = re.exec(rest);
      if (!s) return null;
      segs.push(s[1] ?? (JSON.parse(s[2]) as string));
      rest = rest.slice(s[0].length);
    }
    if (segs[0] === 'data') segs.shift();
    return segs.length > 0 ? segs.join('/') : null;
  }
  return null;
}

function contentHash(files: readonly BundleFile[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    h.update(f.path).update('\0').update(String(f.data.length)).update('\0').update(f.data);
  }
  return h.digest('hex');
}

/** Builds the bundle from its files (already normalized and limit-checked). Throws BundleError. */
export async function loadBundleFiles(files: BundleFile[], opts: BundleReadOptions = {}): Promise<LoadedBundle> {
  const sigs = files.filter((f) => baseName(f.path) === SIGNATURES_FILE);
  if (sigs.some((f) => f.path !== SIGNATURES_FILE)) {
    throw new BundleError('bundle_signatures_invalid', 'only the bundle root may hold .signatures.json', sigs.find((f) => f.path !== SIGNATURES_FILE)?.path);
  }
  const signatures = sigs[0]?.data;
  let signed = false;
  if (!opts.skipVerify) {
    if (opts.verification) {
      await verifyBundle(files, signatures, opts.verification);
      signed = true;
    } else if (signatures !== undefined) {
      throw new BundleError('bundle_verification_key_missing', 'the bundle is signed but no verification key is configured', SIGNATURES_FILE);
    }
  }

  let manifest = EMPTY_MANIFEST;
  const modules: BundleModule[] = [];
  const wasmFiles: BundleFile[] = [];
  const dataFiles: BundleFile[] = [];
  for (const f of files) {
    const base = baseName(f.path);
    if (f.path === SIGNATURES_FILE) continue;
    if (base === '.manifest') {
      if (f.path !== '.manifest') throw new BundleError('bundle_manifest_invalid', 'the manifest must be at the bundle root', f.path);
      manifest = parseManifest(f.data);
    } else if (base === 'patch.json') {
      throw new BundleError('bundle_delta_unsupported', 'delta bundles (patch.json) are not supported; serve a snapshot bundle', f.path);
    } else if (f.path.endsWith('.rego')) {
      if (opts.skipTestModules && f.path.endsWith('_test.rego')) continue;
      modules.push({ path: f.path, text: f.data.toString('utf8') });
    } else if (base === WASM_FILE) {
      wasmFiles.push(f);
    } else if (DATA_FILES.has(base)) {
      dataFiles.push(f);
    }
  }

  const data: Record<string, unknown> = {};
  const origin = new Map<string, string>();
  /** The data file that defined the value at a data path (the deepest file at or above it). */
  const fileOf = (p: string[]): string => {
    for (let i = p.length; i >= 0; i--) {
      const f = origin.get(p.slice(0, i).join('/'));
      if (f) return f;
    }
    return 'another data file';
  };
  for (const f of dataFiles) {
    insertData(data, f, parseDataFile(f), fileOf);
    origin.set(dirSegments(f.path).join('/'), f.path);
  }
  const roots = manifest.roots;
  if (!roots.includes('')) {
    for (const k of Object.keys(data)) checkDataRoots(data[k], [k], roots, fileOf);
    for (const m of modules) {
      const pkg = modulePackagePath(m.text);
      if (pkg === null) throw new BundleError('bundle_root_violation', 'has no readable package declaration to check against the manifest roots', m.path);
      if (!rootsContain(roots, pkg)) {
        throw new BundleError('bundle_root_violation', `manifest roots ${JSON.stringify(roots)} do not permit package ${pkg.split('/').join('.')}`, m.path);
      }
    }
  }

  const byModule = new Map<string, string[]>(wasmFiles.map((f) => [f.path, []]));
  const seenEntrypoints = new Set<string>();
  for (const r of manifest.wasm) {
    const mod = r.module.replace(/^\/+/, '');
    const eps = byModule.get(mod);
    if (!eps) throw new BundleError('bundle_wasm_invalid', `manifest references wasm module ${JSON.stringify(r.module)} but the module file does not exist`, '.manifest');
    const ep = r.entrypoint.replace(/^\/+|\/+$/g, '');
    if (!rootsContain(roots, ep)) throw new BundleError('bundle_root_violation', `manifest roots do not permit entrypoint ${JSON.stringify(ep)}`, '.manifest');
    if (seenEntrypoints.has(ep)) throw new BundleError('bundle_wasm_invalid', `entrypoint ${JSON.stringify(ep)} is used by more than one wasm module`, '.manifest');
    seenEntrypoints.add(ep);
    eps.push(ep);
  }
  const wasm = wasmFiles.length === 0 ? null : wasmFiles.map((f) => ({ module: f.path, entrypoints: byModule.get(f.path) ?? [], bytes: new Uint8Array(f.data) }));

  const out: LoadedBundle = {
    name: opts.name ?? 'bundle',
    revision: manifest.revision,
    roots,
    modules,
    data,
    wasm,
    manifest,
    metadata: manifest.metadata,
    signed,
    contentHash: contentHash(files),
    files: files.length,
    bytes: files.reduce((n, f) => n + f.data.length, 0),
  };
  if (opts.etag !== undefined) out.etag = opts.etag;
  return out;
}

/** A `.tar.gz` bundle from bytes (a download, or a file read by the caller). */
export async function loadBundleArchive(bytes: Uint8Array, opts: BundleReadOptions = {}): Promise<LoadedBundle> {
  return loadBundleFiles(filesFromTarGz(bytes, limitsOf(opts)), opts);
}

/** A bundle directory or `.tar.gz` file on disk. */
export async function loadBundlePath(path: string, opts: BundleReadOptions = {}): Promise<LoadedBundle> {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    throw new BundleError('bundle_unreadable', `bundle path ${path} is not readable (${errnoCode(e)})`);
  }
  const name = opts.name ?? path.replace(/\/+$/, '').split('/').pop() ?? path;
  const limits = limitsOf(opts);
  if (isDir) return loadBundleFiles(filesFromDir(path, limits), { ...opts, name });
  const size = statSync(path).size;
  if (size > limits.maxTotalBytes) throw new BundleError('bundle_too_large', `bundle file ${path} is larger than ${limits.maxTotalBytes} bytes`);
  return loadBundleArchive(readFileSync(path), { ...opts, name });
}
