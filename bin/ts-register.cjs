// Loads the project's TypeScript in production runs: `node -r ./bin/ts-register.cjs file.ts`.
// Each .ts file is transformed once at load with esbuild (types stripped, CommonJS, inline source maps).
// Unlike tsx, names are not preserved (keepNames wraps every closure, which measurably slows the Rego
// interpreter's hot loop), so stack traces show source positions rather than inferred function names.
'use strict';
const fs = require('node:fs');
const { transformSync } = require('esbuild');

require.extensions['.ts'] = function compileTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { code } = transformSync(source, {
    loader: 'ts',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    sourcefile: filename,
    keepNames: false,
    // import() would go to Node's ESM loader, which cannot resolve extensionless .ts paths.
    supported: { 'dynamic-import': false },
  });
  module._compile(code, filename);
};
