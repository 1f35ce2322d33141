// A registry reload in the shipped runtime (`node bin/callback-proxy.cjs serve`, the compiled dist/):
// the edited file is read, parsed and validated off the event loop (config/registry-off-thread.ts) and
// installed, the log line says how long loading and preparing took; a broken edit keeps the last good
// registry and names the field at fault, never a value (docs/operations.md, "Reload").
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { createDemoRegistry } from '../../ext-authz/src/config/default';
import { startServe } from '../support/serve-child';
import type { ServeChild } from '../support/serve-child';
import { waitFor as waitUntil } from '../support/wait';

function lines(s: ServeChild): Record<string, unknown>[] {
  return s
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const waitFor = (pred: () => boolean, ms = 20_000): Promise<void> => waitUntil(pred, ms);

test('an edited registry is loaded off the event loop and installed; a broken one is refused by field', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-serve-reload-'));
  const file = path.join(dir, 'registry.yaml');
  const reg = createDemoRegistry();
  fs.writeFileSync(file, stringify(reg));
  const s = await startServe(['--config', file]);
  try {
    reg.connections[0].stage = 'cutover';
    fs.writeFileSync(`${file}.tmp`, stringify(reg));
    fs.renameSync(`${file}.tmp`, file);
    await waitFor(() => lines(s).some((l) => l.event === 'registry_reloaded'));
    const ok = lines(s).find((l) => l.event === 'registry_reloaded')!;
    expect(ok).toMatchObject({ connections: 1, load_ms: expect.any(Number), prepare_ms: expect.any(Number), revision: expect.stringMatching(/^[0-9a-f]{12}$/) });

    fs.writeFileSync(file, stringify({ ...reg, connections: [{ ...reg.connections[0], stage: 'bogus' }] }));
    await waitFor(() => lines(s).some((l) => l.event === 'registry_reload_failed'));
    const failed = lines(s).filter((l) => l.event === 'registry_reload_failed');
    expect(failed).toEqual([expect.objectContaining({ stage: 'validate', error_code: 'config_invalid', problem: expect.stringContaining('connections[0].stage') })]);
    // No secret of the registry reached the log.
    for (const secret of [reg.keys.hash_key, reg.keys.cookie_key, ...Object.values(reg.keys.state_keys)]) expect(s.stdout()).not.toContain(secret);
  } finally {
    expect(await s.stop()).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
