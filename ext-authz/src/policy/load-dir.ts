// Policy phase, loading: a policy directory read like an OPA bundle — every `.rego` file, and
// `data.json` / `data.yaml` merged into `data` at their directory's path (OPA bundle format, "Data
// files"). Runs at start and on reload only; the hot path never touches the file system.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PolicyLoadError } from './engine';
import { setOwn } from '../model/own-property';

export interface PolicySource {
  /** Rego modules, `file` relative to the policy directory with `/` separators. */
  modules: { file: string; text: string }[];
  /** Base document built from data files (plus `extraData` merged at the root). */
  data: Record<string, unknown>;
  /** `.manifest` revision when present, else a short hash of every file read. */
  revision: string;
}

export interface LoadOptions {
  /** Include `*_test.rego` (the test runner); serving never loads tests. */
  includeTests?: boolean;
  /** Extra data documents (`serve --data file`), merged at the root after the directory's. */
  extraData?: Record<string, unknown>[];
}

const DATA_FILES = new Set(['data.json', 'data.yaml', 'data.yml']);
const MAX_FILES = 10_000;

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Merges `src` into `dst` (objects recursively); a conflict on a non-object is an error, like OPA. */
export function mergeData(dst: Record<string, unknown>, src: Record<string, unknown>, where: string): void {
  for (const k of Object.keys(src)) {
    const cur = Object.prototype.hasOwnProperty.call(dst, k) ? dst[k] : undefined;
    const next = src[k];
    if (cur === undefined) setOwn(dst, k, next);
    else if (isPlainObject(cur) && isPlainObject(next)) mergeData(cur, next, `${where}.${k}`);
    else throw new PolicyLoadError('policy_data_error', `data conflict at ${where}.${k}`);
  }
}

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.') || name === 'node_modules') continue;
    const full = join(dir, name);
    const st = statSync(full);
    if (st.isDirectory()) walk(full, out);
    else if (st.isFile()) out.push(full);
    if (out.length > MAX_FILES) throw new PolicyLoadError('policy_data_error', `more than ${MAX_FILES} files under the policy directory`);
  }
}

function readData(file: string, text: string): unknown {
  try {
    return file.endsWith('.json') ? (JSON.parse(text) as unknown) : (parseYaml(text) as unknown);
  } catch (e) {
    throw new PolicyLoadError('policy_data_error', `${file}: ${(e as Error).message}`);
  }
}

/** Places `value` at `path` inside `root`, creating objects on the way. */
function dataAt(path: string[], value: unknown): Record<string, unknown> {
  let v: unknown = value;
  for (let i = path.length - 1; i >= 0; i--) v = { [path[i]]: v };
  if (!isPlainObject(v)) throw new PolicyLoadError('policy_data_error', 'a root data file must hold an object');
  return v;
}

/** Reads one policy directory (or a single `.rego` file). Throws PolicyLoadError. */
export function loadPolicyDir(path: string, opts: LoadOptions = {}): PolicySource {
  if (!existsSync(path)) throw new PolicyLoadError('policy_dir_missing', `policy path ${path} does not exist`);
  const root = statSync(path).isDirectory() ? path : join(path, '..');
  const files: string[] = [];
  if (statSync(path).isDirectory()) walk(path, files);
  else files.push(path);

  const hash = createHash('sha256');
  const modules: PolicySource['modules'] = [];
  const data: Record<string, unknown> = {};
  let manifestRevision: string | null = null;
  for (const full of files) {
    const rel = relative(root, full).split(sep).join('/');
    const base = rel.slice(rel.lastIndexOf('/') + 1);
    const isRego = base.endsWith('.rego');
    if (isRego && base.endsWith('_test.rego') && !opts.includeTests) continue;
    if (!isRego && !DATA_FILES.has(base)) continue;
    const text = readFileSync(full, 'utf8');
    hash.update(rel).update('\0').update(text).update('\0');
    if (isRego) {
      modules.push({ file: rel, text });
      continue;
    }
    const dirPath = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')).split('/') : [];
    const doc = readData(rel, text);
    if (doc === null || doc === undefined) continue;
    mergeData(data, dataAt(dirPath, doc), 'data');
  }
  const manifest = join(root, '.manifest');
  if (statSync(path).isDirectory() && existsSync(manifest)) {
    const m = readData('.manifest', readFileSync(manifest, 'utf8'));
    if (isPlainObject(m) && typeof m.revision === 'string' && m.revision.length > 0) manifestRevision = m.revision;
  }
  for (const extra of opts.extraData ?? []) mergeData(data, extra, 'data');
  if (modules.length === 0) throw new PolicyLoadError('policy_empty', `no .rego files under ${path}`);
  return { modules, data, revision: manifestRevision ?? hash.digest('hex').slice(0, 16) };
}

/** Reads a `--data` file (JSON or YAML) that must hold an object. */
export function readDataFile(file: string): Record<string, unknown> {
  const doc = readData(file, readFileSync(file, 'utf8'));
  if (!isPlainObject(doc)) throw new PolicyLoadError('policy_data_error', `${file}: must hold an object`);
  return doc;
}
