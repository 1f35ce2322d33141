// `serve --config registry.yaml`: the service runs from a registry file (no demo), the Pin API uses the
// file's tokens, and an edited file is picked up (a broken edit keeps the last good registry).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { createDemoRegistry } from '../../ext-authz/src/config/default';
import { startHarness, cb, httpRequest, ISS_LEGACY } from '../support/app-harness';
import type { Harness } from '../support/app-harness';
import { waitFor as waitUntil } from '../support/wait';

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

const waitFor = (pred: () => boolean, ms = 8000): Promise<void> => waitUntil(pred, ms);

/** One sample's value from the admin listener's Prometheus text, or undefined. */
async function sample(series: string): Promise<number | undefined> {
  const text = (await httpRequest(h.adminPort, 'GET', '/metrics', {})).body;
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('a registry without --redis warns at start that pins live in this process only', () => {
  const lines = h.logs.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  expect(lines.find((l) => l.event === 'pins_per_process')).toMatchObject({ level: 'warn', store: 'memory' });
});

test('runs from the file: no demo setup, the file\'s Pin API token works', async () => {
  expect(h.app.demo).toBeNull();
  await expect(h.mint('legacy')).rejects.toMatchObject({ code: 16 });
  const state = await h.mint('legacy', { token: TOKEN });
  expect(await h.ask('grpc', { path: cb({ code: 'file-c1', state, iss: ISS_LEGACY }) })).toMatchObject({ allowed: true, backend: 'legacy' });
});

test('an edited registry is reloaded; a broken edit keeps the last good one', async () => {
  const stage = (): string | undefined => h.app.current?.registry().connections[0].stage;
  expect(stage()).toBe('canary');
  const revision = h.app.current!.registryRevision();
  expect(await sample(`callback_proxy_registry_info{revision="${revision}"}`)).toBe(1);
  expect(await sample('callback_proxy_connection_stage{connection="demo",stage="canary"}')).toBe(1);
  expect(await sample('callback_proxy_connection_legacy_share_ratio{connection="demo"}')).toBe(0.5);
  const reg = createDemoRegistry();
  reg.keys.pin_api_tokens = { legacy: TOKEN, new: TOKEN };
  reg.connections[0].stage = 'cutover';
  fs.writeFileSync(file, stringify(reg));
  await waitFor(() => stage() === 'cutover');
  expect(await sample('callback_proxy_reloads_total{kind="registry",result="success"}')).toBe(1);
  expect(await sample('callback_proxy_connection_stage{connection="demo",stage="cutover"}')).toBe(1);
  expect(await sample('callback_proxy_connection_stage{connection="demo",stage="canary"}')).toBeUndefined();
  expect(await sample('callback_proxy_connection_legacy_share_ratio{connection="demo"}')).toBe(0);
  expect(await sample(`callback_proxy_registry_info{revision="${revision}"}`)).toBeUndefined();
  fs.writeFileSync(file, 'version: 1\nconnections: nope\n');
  await new Promise((r) => setTimeout(r, 2500));
  expect(stage()).toBe('cutover');
  // The failure says why: its code and the field at fault (never a value).
  const failed = h.logs.join('').split('\n').filter((l) => l.includes('"event":"registry_reload_failed"')).map((l) => JSON.parse(l));
  expect(failed).toEqual([expect.objectContaining({ stage: 'validate', error_code: 'config_invalid', problem: expect.stringContaining(`${file}: connections`) })]);
  expect(h.logs.join('')).not.toContain('[REDACTED]');
  expect(await sample('callback_proxy_reloads_total{kind="registry",result="failure"}')).toBe(1);
  // Still serving.
  expect(await h.ask('grpc', { path: cb({ code: 'file-c2' }) })).toMatchObject({ allowed: false, reason: 'state_missing' });
});
