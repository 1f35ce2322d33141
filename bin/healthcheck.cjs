#!/usr/bin/env node
// The image's HEALTHCHECK: `node bin/healthcheck.cjs <url>` exits 0 when the URL answers 200 within
// 3 s, else 1 (slim images have no curl). Default: the admin listener's /healthz on loopback.
'use strict';
const http = require('node:http');

const url = process.argv[2] || 'http://127.0.0.1:9193/healthz';
const req = http.get(url, { timeout: 3000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', (e) => {
  process.stderr.write(`healthcheck: ${url}: ${e.message}\n`);
  process.exit(1);
});
