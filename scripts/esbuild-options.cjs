// The one set of esbuild transform options for our TypeScript, shared by `npm run build` (scripts/build.cjs,
// files in dist/) and the dev-time require hook (scripts/ts-register.cjs, bench and demo): both produce the
// same JavaScript, so a benchmark run through the hook measures the code the image ships.
'use strict';

/** @type {import('esbuild').TransformOptions & import('esbuild').BuildOptions} */
const TRANSFORM = {
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // Names are not preserved: keepNames wraps every closure, which measurably slows the Rego interpreter's
  // hot loop; stack traces map back to source positions instead.
  keepNames: false,
  // import() would go to Node's ESM loader, which cannot resolve extensionless paths: keep it a require()
  // (the CLI's lazy imports stay lazy either way).
  supported: { 'dynamic-import': false },
};

module.exports = { TRANSFORM };
