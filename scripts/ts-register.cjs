// Dev-time runner for TypeScript that is not part of the build (bench/, demo/):
// `node -r ./scripts/ts-register.cjs file.ts`. Each .ts file is transformed once at load with esbuild and
// the same options as `npm run build` (scripts/esbuild-options.cjs), with inline source maps. The service
// itself (bin/, `npm start`, the image) runs the compiled dist/ and needs neither this hook nor esbuild.
'use strict';
const fs = require('node:fs');
const { transformSync } = require('esbuild');
const { TRANSFORM } = require('./esbuild-options.cjs');

process.setSourceMapsEnabled(true);

require.extensions['.ts'] = function compileTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { code } = transformSync(source, { ...TRANSFORM, loader: 'ts', sourcemap: 'inline', sourcefile: filename });
  module._compile(code, filename);
};
