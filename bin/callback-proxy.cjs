#!/usr/bin/env node
// Entry for `callback-proxy …` (npx, npm start, the image): runs the compiled CLI from dist/ in this
// process: no compiler and no wrapper process, so SIGTERM/SIGINT reach `serve`'s own drain
// (ext-authz/src/cli shutdown handling). dist/ comes from `npm run build`.
'use strict';
const path = require('node:path');

const MAIN = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
// Stack traces point into the TypeScript sources (dist/ ships linked .map files).
process.setSourceMapsEnabled(true);
let cli;
try {
  cli = require(MAIN);
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes(MAIN)) {
    process.stderr.write('callback-proxy: dist/ is missing: run `npm run build` (or `npm ci`, which builds)\n');
    process.exit(2);
  }
  throw e;
}
cli.run();
