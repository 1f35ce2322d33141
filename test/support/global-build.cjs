// jest globalSetup: the CLI tests run the shipped entry (bin/callback-proxy.cjs → dist/), so dist/ must
// match the sources. scripts/build.cjs skips the work when it already does (a fresh build is < 1 s).
'use strict';
const { build } = require('../../scripts/build.cjs');

module.exports = async function globalBuild() {
  await build();
};
