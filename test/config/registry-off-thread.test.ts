// Registry reloads off the event loop (docs/performance.md, "Reload"): the compiled worker (dist/, which
// jest's global setup builds) reads, parses and validates the file, and what comes back is the same
// registry, with the same revision, as the synchronous load; a bad file is the same ConfigError; and the
// watcher installs the newest content when changes arrive during a load. The event loop keeps turning
// while a large registry loads.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { createDemoRegistry } from '../../ext-authz/src/config/default';
import { loadRegistryFile } from '../../ext-authz/src/config/registry';
import type { ConfigError } from '../../ext-authz/src/config/registry';
import { RegistryWatcher } from '../../ext-authz/src/config/registry-watcher';
import { registryDigest } from '../../ext-authz/src/config/registry-digest';
import type { RegistryConfig } from '../../ext-authz/src/model/registry';
import { waitFor as waitUntil } from '../support/wait';

const DIST = path.join(__dirname, '..', '..', 'dist', 'src', 'config');
// The compiled module: from the sources there is no worker file (offThreadRegistryLoader says null).
const compiled = require(path.join(DIST, 'registry-off-thread.js')) as typeof import('../../ext-authz/src/config/registry-off-thread');
const compiledDigest = require(path.join(DIST, 'registry-digest.js')) as typeof import('../../ext-authz/src/config/registry-digest');

const waitFor = (pred: () => boolean, ms = 10_000): Promise<void> => waitUntil(pred, ms);

describe('off-thread registry load', () => {
  let dir: string;
  let file: string;
  const base = createDemoRegistry();
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-offthread-'));
    file = path.join(dir, 'registry.yaml');
    fs.writeFileSync(file, stringify(base));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const loader = (): NonNullable<ReturnType<typeof compiled.offThreadRegistryLoader>> => {
    const l = compiled.offThreadRegistryLoader();
    if (l === null) throw new Error('dist/ has no registry-load-worker.js: run `npm run build`');
    return l;
  };

  it('returns the registry the synchronous load returns, and its revision', async () => {
    const sync = loadRegistryFile(file);
    const off = await loader()(file, {});
    expect(off).toEqual(sync);
    expect(compiledDigest.registryDigest(off)).toBe(registryDigest(sync));
  });

  it('rejects a bad file with the ConfigError the synchronous load throws, naming the field', async () => {
    fs.writeFileSync(file, stringify({ ...base, connections: [{ ...base.connections[0], stage: 'bogus' }] }));
    const e = (await loader()(file, {}).then(() => null, (x: unknown) => x)) as ConfigError;
    expect(e).toMatchObject({ name: 'ConfigError', code: 'config_invalid' });
    expect(e.message).toContain('connections[0].stage');
    fs.rmSync(file);
    await expect(loader()(file, {})).rejects.toMatchObject({ code: 'config_unreadable' });
  });

  it('is unavailable without the compiled worker (running from the sources)', () => {
    expect(compiled.offThreadRegistryLoader(path.join(dir, 'no-such-worker.js'))).toBeNull();
  });

  it('lets the event loop turn while a large registry loads', async () => {
    const big = structuredClone(base);
    // 400 copies of the demo connection: long enough to parse that a blocked loop would show.
    const demo = base.connections[0];
    big.connections = [
      demo,
      ...Array.from({ length: 400 }, (_, i) => ({
        ...demo,
        name: `c${i}`,
        hosts: [`c${i}.example.com`],
        backends: demo.backends.map((b) => ({ ...b, id: `c${i}-${b.id}` })),
        routes: { ...demo.routes, webhook: [] },
        webhook: undefined,
      })),
    ];
    fs.writeFileSync(file, stringify(big, { aliasDuplicateObjects: false }));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const t0 = Date.now();
    let offMs: number;
    try {
      const reg = await loader()(file, {});
      offMs = Date.now() - t0;
      expect(reg.connections).toHaveLength(401);
    } finally {
      clearInterval(timer);
    }
    // A held loop would have run no tick until the load ended. At least a third of the 5 ms ticks that
    // fit in the load happened (a loaded machine delays some).
    expect(ticks).toBeGreaterThan(0);
    expect(ticks).toBeGreaterThanOrEqual(Math.floor(offMs / 5 / 3));
  });

  it('a watcher with the loader installs the newest content when changes arrive during a load', async () => {
    const changes: RegistryConfig[] = [];
    const errors: ConfigError[] = [];
    const w = new RegistryWatcher(file, { loader: loader(), onChange: (r) => changes.push(r), onError: (e) => errors.push(e), debounceMs: 1, pollMs: 50 }).start();
    try {
      for (const stage of ['shadow', 'cutover', 'rollback'] as const) {
        const next = structuredClone(base);
        next.connections[0].stage = stage;
        fs.writeFileSync(`${file}.tmp`, stringify(next));
        fs.renameSync(`${file}.tmp`, file);
        await new Promise((r) => setTimeout(r, 15));
      }
      await waitFor(() => w.current.connections[0].stage === 'rollback');
      await new Promise((r) => setTimeout(r, 200));
      expect(w.current.connections[0].stage).toBe('rollback');
      expect(changes[changes.length - 1].connections[0].stage).toBe('rollback');
      expect(errors).toEqual([]);
    } finally {
      w.close();
    }
  });
});
