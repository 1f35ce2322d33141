#!/usr/bin/env node
// Entry for `npx callback-proxy ...`: runs the TypeScript CLI with the esbuild require hook (no build
// step) in a child process, forwarding SIGINT/SIGTERM so `serve` drains instead of being orphaned.
'use strict';
const path = require('node:path');
const { spawn } = require('node:child_process');
const hook = path.join(__dirname, 'ts-register.cjs');
const main = path.join(__dirname, '..', 'ext-authz', 'src', 'cli', 'main.ts');
const child = spawn(process.execPath, ['--enable-source-maps', '-r', hook, main, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (child.exitCode === null) child.kill(sig);
  });
}
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1));
});
