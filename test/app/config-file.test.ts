// `serve --config registry.yaml`: the service runs from a registry file (no demo), the Pin API uses the
// file's tokens, and an edited file is picked up (a broken edit keeps the last good registry).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { createDemoRegistry } from '../../ext-authz/src/config/default';
import { startHarness, cb, ISS_LEGACY } from '../support/app-harness';
import type { Harness } from '../support/app-harness';

jest.setTimeout(60_000);

let dir: string;
let file: string;
let h: Harness;
const TOKEN = 'file-registry-pin-token-0123456789';

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-reg-'));
  file = path.join(dir, 'registry.yaml');
  const reg = createDemoRegistry();
  reg.keys.pin_api_tokens = { legacy: TOKEN, new: TOKEN };
  fs.writeFileSync(file, stringify(reg));
  h = await startHarness({ configFile: file, watch: true });
});
afterAll(async () => {
  await h.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function waitFor(pred: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('runs from the file: no demo setup, the file\'s Pin API token works', async () => {
  expect(h.app.demo).toBeNull();
  await expect(h.mint('legacy')).rejects.toMatchObject({ code: 16 });
  const state = await h.mint('legacy', { token: TOKEN });
  expect(await h.ask('grpc', { path: cb({ code: 'file-c1', state, iss: ISS_LEGACY }) })).toMatchObject({ allowed: true, backend: 'legacy' });
});

test('an edited registry is reloaded; a broken edit keeps the last good one', async () => {
  const stage = (): string | undefined => h.app.current?.registry().connections[0].stage;
  expect(stage()).toBe('canary');
  const reg = createDemoRegistry();
  reg.keys.pin_api_tokens = { legacy: TOKEN, new: TOKEN };
  reg.connections[0].stage = 'cutover';
  fs.writeFileSync(file, stringify(reg));
  await waitFor(() => stage() === 'cutover');
  fs.writeFileSync(file, 'version: 1\nconnections: nope\n');
  await new Promise((r) => setTimeout(r, 2500));
  expect(stage()).toBe('cutover');
  // The failure says why: its code and the field at fault (never a value).
  const failed = h.logs.join('').split('\n').filter((l) => l.includes('"event":"registry_reload_failed"')).map((l) => JSON.parse(l));
  expect(failed).toEqual([expect.objectContaining({ stage: 'validate', error_code: 'config_invalid', problem: expect.stringContaining(`${file}: connections`) })]);
  expect(h.logs.join('')).not.toContain('[REDACTED]');
  // Still serving.
  expect(await h.ask('grpc', { path: cb({ code: 'file-c2' }) })).toMatchObject({ allowed: false, reason: 'state_missing' });
});
