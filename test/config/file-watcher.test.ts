// The one file watcher behind registry and policy reload: it reports a change only when the content
// digest differs (a rewrite with the same bytes is no change), debounces bursts, notices a file or a
// directory tree, one that vanishes and comes back, and stops for good on close().
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileWatcher } from '../../ext-authz/src/config/file-watcher';
import { waitFor as waitUntil } from '../support/wait';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-fw-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const waitFor = (pred: () => boolean, ms = 5000): Promise<void> => waitUntil(pred, ms);

test('a file: new bytes are a change, the same bytes are not, a vanished and restored file is two', () => {
  const f = path.join(dir, 'registry.yaml');
  fs.writeFileSync(f, 'a: 1\n');
  let n = 0;
  const w = new FileWatcher(f, { onChange: () => n++ });
  expect(w.check()).toBe(false);
  fs.writeFileSync(f, 'a: 1\n'); // touched, same content
  expect(w.check()).toBe(false);
  fs.writeFileSync(f, 'a: 2\n');
  expect(w.check()).toBe(true);
  expect(w.check()).toBe(false); // reported once
  fs.rmSync(f);
  expect(w.check()).toBe(true);
  fs.writeFileSync(f, 'a: 2\n');
  expect(w.check()).toBe(true);
  expect(n).toBe(3);
  w.close();
  fs.writeFileSync(f, 'a: 3\n');
  expect(w.check()).toBe(false);
  expect(n).toBe(3);
});

test('a directory tree: files in sub-directories count; dot-files do not, except .manifest', () => {
  fs.mkdirSync(path.join(dir, 'sub'));
  fs.writeFileSync(path.join(dir, 'a.rego'), 'package a\n');
  let n = 0;
  const w = new FileWatcher(dir, { onChange: () => n++ });
  fs.writeFileSync(path.join(dir, 'sub', 'data.json'), '{}');
  expect(w.check()).toBe(true);
  fs.writeFileSync(path.join(dir, '.a.rego.swp'), 'editor noise');
  expect(w.check()).toBe(false);
  fs.writeFileSync(path.join(dir, '.manifest'), '{"revision":"r2"}');
  expect(w.check()).toBe(true);
  fs.renameSync(path.join(dir, 'sub', 'data.json'), path.join(dir, 'sub', 'data.yaml'));
  expect(w.check()).toBe(true);
  expect(n).toBe(3);
  w.close();
});

test('started: a burst of writes (write-and-rename, as editors and Kubernetes do) is one change', async () => {
  const f = path.join(dir, 'registry.yaml');
  fs.writeFileSync(f, 'v: 0\n');
  let n = 0;
  const w = new FileWatcher(f, { onChange: () => n++, debounceMs: 150, pollMs: 100 }).start();
  try {
    for (let i = 1; i <= 5; i++) {
      fs.writeFileSync(`${f}.tmp`, `v: ${i}\n`);
      fs.renameSync(`${f}.tmp`, f);
    }
    await waitFor(() => n >= 1);
    await new Promise((r) => setTimeout(r, 400));
    expect(n).toBe(1);
  } finally {
    w.close();
  }
});

test('started on a missing directory: the poll notices when it appears', async () => {
  const target = path.join(dir, 'later');
  let n = 0;
  const w = new FileWatcher(target, { onChange: () => n++, debounceMs: 10, pollMs: 50 }).start();
  try {
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'x.rego'), 'package x\n');
    await waitFor(() => n >= 1);
  } finally {
    w.close();
  }
});
