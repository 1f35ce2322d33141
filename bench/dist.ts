// The benchmarks measure the runtime the service ships: the compiled dist/ (`npm run build`, the same
// tree bin/callback-proxy.cjs runs), not the TypeScript sources through a require hook. Types come from
// the sources; the code is required from dist/src at run time. `ensureBuilt()` brings dist/ up to date
// first (a no-op when it already is).
import * as path from 'node:path';

export const ROOT = path.join(__dirname, '..');
/**
 * The compiled tree the servers run: this checkout's, or BENCH_DIST_ROOT's (another checkout with its own
 * `npm run build`, the baseline of `npm run bench` with BENCH_BASELINE, bench/check-grpc.ts).
 */
export const DIST_SRC = path.join(process.env.BENCH_DIST_ROOT ? path.resolve(process.env.BENCH_DIST_ROOT) : ROOT, 'dist', 'src');

/** Builds dist/ when it is stale (scripts/build.cjs skips an up-to-date tree). */
export async function ensureBuilt(): Promise<void> {
  const { build } = require(path.join(ROOT, 'scripts', 'build.cjs')) as { build: () => Promise<{ files: number; skipped: boolean }> };
  await build();
}

// Typed handles on the compiled modules (`typeof import(...)` is erased at compile time).
export const distApp = (): typeof import('../ext-authz/src/app') => require(path.join(DIST_SRC, 'app'));
export const distProtos = (): typeof import('../ext-authz/src/check/protos') => require(path.join(DIST_SRC, 'check', 'protos'));
export const distLogger = (): typeof import('../ext-authz/src/telemetry/logger') => require(path.join(DIST_SRC, 'telemetry', 'logger'));
export const distDefault = (): typeof import('../ext-authz/src/config/default') => require(path.join(DIST_SRC, 'config', 'default'));
