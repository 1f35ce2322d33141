// Registry hot reload: a good change is installed, a bad file reports onError and keeps the last good.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { RegistryWatcher } from '../../ext-authz/src/config/registry-watcher';
import type { ConfigError } from '../../ext-authz/src/config/registry';
import type { RegistryConfig } from '../../ext-authz/src/model/registry';
import { createDemoRegistry } from '../../ext-authz/src/config/default';
import { waitFor as waitUntil } from '../support/wait';

const waitFor = (pred: () => boolean, ms = 5000): Promise<void> => waitUntil(pred, ms);

describe('RegistryWatcher', () => {
  let dir: string;
  let file: string;
  const base = createDemoRegistry();
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-watch-'));
    file = path.join(dir, 'registry.yaml');
    fs.writeFileSync(file, stringify(base));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('installs a good change and keeps the last good on a bad one', async () => {
    const changes: RegistryConfig[] = [];
    const errors: ConfigError[] = [];
    const w = new RegistryWatcher(file, { onChange: (r) => changes.push(r), onError: (e) => errors.push(e), debounceMs: 20, pollMs: 100 }).start();
    try {
      expect(w.current.connections[0].stage).toBe('canary');
      const next = structuredClone(base);
      next.connections[0].stage = 'cutover';
      // Write-and-rename, like editors and Kubernetes volume updates.
      fs.writeFileSync(`${file}.tmp`, stringify(next));
      fs.renameSync(`${file}.tmp`, file);
      await waitFor(() => changes.length === 1);
      expect(w.current.connections[0].stage).toBe('cutover');

      fs.writeFileSync(file, stringify({ ...next, connections: [{ ...next.connections[0], stage: 'bogus' }] }));
      await waitFor(() => errors.length === 1);
      expect(errors[0].code).toBe('config_invalid');
      expect(errors[0].message).toContain('connections[0].stage');
      expect(w.current.connections[0].stage).toBe('cutover');
      // The same bad file is reported once, not on every poll.
      await new Promise((r) => setTimeout(r, 300));
      expect(errors).toHaveLength(1);
    } finally {
      w.close();
    }
  });

  it('throws on a bad first load (start-up must stop)', () => {
    fs.writeFileSync(file, 'version: 2\n');
    expect(() => new RegistryWatcher(file, { onChange: () => undefined, onError: () => undefined })).toThrow(expect.objectContaining({ code: 'config_invalid' }));
  });
});
