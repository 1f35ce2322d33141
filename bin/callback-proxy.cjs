#!/usr/bin/env node
// Entry for `npx callback-proxy ...`: runs the TypeScript CLI with the esbuild require hook (no build step).
'use strict';
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const hook = path.join(__dirname, 'ts-register.cjs');
const main = path.join(__dirname, '..', 'ext-authz', 'src', 'cli', 'main.ts');
const r = spawnSync(process.execPath, ['--enable-source-maps', '-r', hook, main, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status === null ? 1 : r.status);
