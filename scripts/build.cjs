// `npm run build`: transpiles every ext-authz/src/**/*.ts file to dist/src/**/*.js (CommonJS, Node 20,
// linked source maps), one output file per input, no bundling. Type checking stays with tsc
// (`npm run typecheck`); this only strips types, in well under a second.
//
// Layout: dist/src stands where ext-authz/src stands, two levels below the package root, so every path
// a module computes from __dirname (our protos in proto/, package.json) resolves the same from source
// and from dist/. Run-time assets (proto/, policies/) are read in place from the package root, not copied.
//
// The build is skipped when dist/ is already up to date with the sources (jest's global setup calls it
// on every run), and a rebuild swaps the new tree in with two renames so that a CLI started meanwhile
// never sees a half-written dist/. `--force` rebuilds regardless.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { TRANSFORM } = require('./esbuild-options.cjs');

const ROOT = path.join(__dirname, '..');
const SRC = path.join(ROOT, 'ext-authz', 'src');
const DIST = path.join(ROOT, 'dist');
const OUT = path.join(DIST, 'src');
/** Changing these changes the output too. */
const INPUTS = [__filename, path.join(__dirname, 'esbuild-options.cjs')];

/** Every TypeScript source, relative to ext-authz/src, sorted. */
function sources() {
  return fs
    .readdirSync(SRC, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort();
}

const outputOf = (rel) => rel.replace(/\.ts$/, '.js');

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/** True when every source has a newer output and dist/src holds no output without a source. */
function upToDate(rels) {
  const tool = Math.max(...INPUTS.map((f) => mtime(f) ?? Infinity));
  for (const rel of rels) {
    const out = mtime(path.join(OUT, outputOf(rel)));
    if (out === undefined || out < (mtime(path.join(SRC, rel)) ?? Infinity) || out < tool) return false;
  }
  let existing;
  try {
    existing = fs.readdirSync(OUT, { recursive: true }).map(String).filter((f) => f.endsWith('.js'));
  } catch {
    return false;
  }
  return existing.length === rels.length;
}

async function build({ force = false } = {}) {
  const rels = sources();
  if (!force && upToDate(rels)) return { files: rels.length, skipped: true };
  let esbuild;
  try {
    esbuild = require('esbuild');
  } catch {
    throw new Error('esbuild is not installed: `npm run build` needs the dev dependencies (npm ci without --omit=dev)');
  }
  fs.mkdirSync(DIST, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(DIST, '.src-'));
  try {
    const result = await esbuild.build({
      ...TRANSFORM,
      entryPoints: rels.map((r) => path.join(SRC, r)),
      outbase: SRC,
      outdir: tmp,
      bundle: false,
      sourcemap: 'linked',
      sourcesContent: false,
      logLevel: 'warning',
    });
    if (result.errors.length > 0) throw new Error(`build failed with ${result.errors.length} error(s)`);
    // The maps were written for files in tmp/…; the relative source paths stay right after the rename
    // because tmp and OUT are siblings at the same depth.
    const old = `${tmp}.old`;
    if (fs.existsSync(OUT)) fs.renameSync(OUT, old);
    fs.renameSync(tmp, OUT);
    fs.rmSync(old, { recursive: true, force: true });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return { files: rels.length, skipped: false };
}

module.exports = { build, sources, OUT };

if (require.main === module) {
  const t0 = process.hrtime.bigint();
  build({ force: process.argv.includes('--force') }).then(
    (r) => {
      const ms = Math.round(Number(process.hrtime.bigint() - t0) / 1e6);
      process.stderr.write(r.skipped ? `build: dist/src is up to date (${r.files} files)\n` : `build: ${r.files} files -> dist/src in ${ms} ms\n`);
    },
    (e) => {
      process.stderr.write(`build: ${e.message}\n`);
      process.exit(1);
    },
  );
}
