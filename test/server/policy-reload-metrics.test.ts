// Policy reloads are visible (docs/operations.md, "Metrics"): a good edit counts a success and moves
// callback_proxy_policy_info to the new revision; a broken edit counts a failure and keeps the revision.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { httpRequest, startHarness } from '../support/app-harness';
import type { Harness } from '../support/app-harness';

jest.setTimeout(60_000);

const ROOT = path.join(__dirname, '..', '..');
let dir: string;
let h: Harness;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-pol-'));
  fs.cpSync(path.join(ROOT, 'policies', 'callback'), dir, { recursive: true });
  h = await startHarness({ policyDir: dir, watch: true });
});
afterAll(async () => {
  await h?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function scrape(): Promise<string> {
  return (await httpRequest(h.adminPort, 'GET', '/metrics', {})).body;
}

async function until(pred: (text: string) => boolean, ms = 10_000): Promise<string> {
  const end = Date.now() + ms;
  let text = await scrape();
  while (!pred(text) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    text = await scrape();
  }
  return text;
}

test('a good reload counts a success and changes the revision; a broken one counts a failure and keeps it', async () => {
  const before = h.app.current!.engine.revision;
  let text = await scrape();
  expect(text).toContain(`callback_proxy_policy_info{revision="${before}",engine="rego"} 1`);
  expect(text).toContain('callback_proxy_reloads_total{kind="policy",result="success"} 0');

  fs.appendFileSync(path.join(dir, 'decision.rego'), '\n# an edit\n');
  text = await until((t) => t.includes('callback_proxy_reloads_total{kind="policy",result="success"} 1'));
  const after = h.app.current!.engine.revision;
  expect(after).not.toBe(before);
  expect(text).toContain(`callback_proxy_policy_info{revision="${after}",engine="rego"} 1`);
  expect(text).not.toContain(`revision="${before}"`);

  fs.appendFileSync(path.join(dir, 'decision.rego'), '\nthis is not rego {\n');
  text = await until((t) => t.includes('callback_proxy_reloads_total{kind="policy",result="failure"} 1'));
  expect(text).toContain('callback_proxy_reloads_total{kind="policy",result="failure"} 1');
  expect(h.app.current!.engine.revision).toBe(after);
  expect(text).toContain(`callback_proxy_policy_info{revision="${after}",engine="rego"} 1`);
});
