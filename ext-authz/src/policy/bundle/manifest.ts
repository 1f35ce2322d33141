// The bundle `.manifest` (OPA bundle format): revision, roots, wasm entrypoint→module resolvers,
// rego_version (+ per-file overrides) and free-form metadata. Unknown fields are ignored, as OPA does;
// a field of the wrong type is an error naming it.
import { z } from 'zod';
import { BundleError } from './bundle-errors';

export interface WasmResolver {
  /** Decision path in slash form, e.g. `callback/decision`. */
  entrypoint: string;
  /** Bundle path of the module, e.g. `/policy.wasm`. */
  module: string;
}

export interface BundleManifest {
  revision: string;
  /** Data/package roots this bundle owns; `['']` (everything) when the manifest gives none. */
  roots: string[];
  wasm: WasmResolver[];
  regoVersion: 0 | 1 | null;
  fileRegoVersions: Record<string, 0 | 1>;
  metadata: Record<string, unknown>;
}

const regoVersion = z.union([z.literal(0), z.literal(1)], { message: 'expected 0 or 1' });

const schema = z.object({
  revision: z.string().optional(),
  roots: z.array(z.string()).optional(),
  wasm: z.array(z.object({ entrypoint: z.string().default(''), module: z.string().default('') })).optional(),
  rego_version: regoVersion.optional(),
  file_rego_versions: z.record(z.string(), regoVersion).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

export const EMPTY_MANIFEST: BundleManifest = { revision: '', roots: [''], wasm: [], regoVersion: null, fileRegoVersions: {}, metadata: {} };

function segments(p: string): string[] {
  return p.split('/');
}

/** Does root contain path? The empty root contains everything (OPA's RootPathsContain). */
export function rootContains(root: string, path: string): boolean {
  if (root === '') return true;
  const r = segments(root);
  const p = segments(path);
  if (r.length > p.length) return false;
  return r.every((s, i) => s === p[i]);
}

export function rootsContain(roots: readonly string[], path: string): boolean {
  return roots.some((r) => rootContains(r, path));
}

export function parseManifest(bytes: Buffer): BundleManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new BundleError('bundle_manifest_invalid', 'is not valid JSON', '.manifest');
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new BundleError('bundle_manifest_invalid', `${i.path.join('.') || '(root)'}: ${i.message}`, '.manifest');
  }
  const m = r.data;
  const roots = (m.roots ?? ['']).map((x) => x.replace(/^\/+|\/+$/g, ''));
  for (let i = 0; i < roots.length; i++) {
    for (let j = i + 1; j < roots.length; j++) {
      if (rootContains(roots[i], roots[j]) || rootContains(roots[j], roots[i])) {
        throw new BundleError('bundle_manifest_invalid', `roots ${JSON.stringify(roots[i])} and ${JSON.stringify(roots[j])} overlap`, '.manifest');
      }
    }
  }
  return {
    revision: m.revision ?? '',
    roots,
    wasm: (m.wasm ?? []).map((w) => ({ entrypoint: w.entrypoint, module: w.module })),
    regoVersion: m.rego_version ?? null,
    fileRegoVersions: m.file_rego_versions ?? {},
    metadata: m.metadata ?? {},
  };
}
