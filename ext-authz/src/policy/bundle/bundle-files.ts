// The file list of a bundle, from a directory or a `.tar.gz`, as bundle-relative `/`-separated paths.
// OPA writes archive members as `/data.json`; one leading `/` (or `./`) is the bundle root. Anything
// that could point outside the bundle (`..`, `//`, a drive letter, a backslash, NUL) is refused, and so
// is a second entry with the same path. Limits (files, bytes per file, bytes in all) apply to both forms.
import { errnoCode } from '../../model/errors';
import { lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { BundleError } from './bundle-errors';
import { readTarGz } from './tar-reader';
import type { TarLimits } from './tar-reader';

export interface BundleFile {
  /** Bundle-relative path without a leading slash: `src/decision.rego`, `.manifest`. */
  path: string;
  data: Buffer;
}

export type BundleLimits = TarLimits;

export const DEFAULT_BUNDLE_LIMITS: BundleLimits = {
  maxTotalBytes: 256 * 1024 * 1024,
  maxFileBytes: 64 * 1024 * 1024,
  maxFiles: 10_000,
};

/** `/src/a.rego` or `./src/a.rego` → `src/a.rego`; throws bundle_path_invalid for anything unsafe. */
export function normalizeEntryPath(name: string): string {
  let p = name;
  if (p.startsWith('./')) p = p.slice(2);
  else if (p.startsWith('/')) p = p.slice(1);
  const shown = JSON.stringify(name);
  if (p === '' || p.endsWith('/')) throw new BundleError('bundle_path_invalid', `entry ${shown} has no file name`);
  if (p.includes('\0') || p.includes('\\')) throw new BundleError('bundle_path_invalid', `entry ${shown} contains NUL or a backslash`);
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) throw new BundleError('bundle_path_invalid', `entry ${shown} is an absolute path`);
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') {
      throw new BundleError('bundle_path_invalid', `entry ${shown} has an empty, "." or ".." segment (path traversal)`);
    }
  }
  return p;
}

function checked(files: BundleFile[], limits: BundleLimits): BundleFile[] {
  const seen = new Set<string>();
  let total = 0;
  for (const f of files) {
    if (seen.has(f.path)) throw new BundleError('bundle_duplicate_entry', 'appears twice in the bundle', f.path);
    seen.add(f.path);
    total += f.data.length;
    if (total > limits.maxTotalBytes) throw new BundleError('bundle_too_large', `the bundle's files exceed ${limits.maxTotalBytes} bytes in all`);
  }
  return files;
}

/** The files of a gzipped tarball, in archive order. */
export function filesFromTarGz(bytes: Uint8Array, limits: BundleLimits = DEFAULT_BUNDLE_LIMITS): BundleFile[] {
  const entries = readTarGz(bytes, limits);
  return checked(entries.map((e) => ({ path: normalizeEntryPath(e.name), data: e.data })), limits);
}

/**
 * The files under a directory, sorted by path. Symbolic links to regular files inside the directory
 * are followed (Kubernetes ConfigMap mounts are links into a `..data` directory); links that leave the
 * directory, links to directories, and the `..`-prefixed directories of such mounts are skipped.
 */
export function filesFromDir(dir: string, limits: BundleLimits = DEFAULT_BUNDLE_LIMITS): BundleFile[] {
  let root: string;
  try {
    root = realpathSync(dir);
  } catch (e) {
    throw new BundleError('bundle_unreadable', `bundle directory ${dir} is not readable (${errnoCode(e)})`);
  }
  const out: BundleFile[] = [];
  let total = 0;
  const walk = (abs: string, rel: string): void => {
    for (const name of readdirSync(abs).sort()) {
      const full = join(abs, name);
      const relPath = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(full);
      if (st.isDirectory()) {
        if (name.startsWith('..')) continue;
        walk(full, relPath);
        continue;
      }
      let size = st.size;
      if (st.isSymbolicLink()) {
        let target: string;
        try {
          target = realpathSync(full);
        } catch {
          continue; // dangling link
        }
        if (!target.startsWith(root + sep) || !statSync(target).isFile()) continue;
        size = statSync(target).size;
      } else if (!st.isFile()) {
        throw new BundleError('bundle_entry_type', 'a bundle holds only regular files', relPath);
      }
      if (size > limits.maxFileBytes) throw new BundleError('bundle_file_too_large', `${size} bytes exceeds the per-file limit of ${limits.maxFileBytes}`, relPath);
      total += size;
      if (total > limits.maxTotalBytes) throw new BundleError('bundle_too_large', `the bundle's files exceed ${limits.maxTotalBytes} bytes in all`);
      if (out.length >= limits.maxFiles) throw new BundleError('bundle_too_many_files', `more than ${limits.maxFiles} files in the bundle`);
      out.push({ path: normalizeEntryPath(relPath), data: readFileSync(full) });
    }
  };
  walk(root, '');
  return checked(out, limits);
}
