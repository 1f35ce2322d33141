// A whole migration of the demo connection driven by `callback-proxy stage set` alone — observe →
// canary 10 → canary 50 → cutover → retired → decommissioned — with logins running between (and across)
// the steps and none broken, the removal report saying no (with the right reasons) until it can say yes,
// and every step in an audit chain that `callback-proxy audit verify` accepts (and rejects once edited).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createDemoSetup, DEMO_ADMIN_TOKEN } from '../../ext-authz/src/config/default';
import { cb, ISS_LEGACY, ISS_NEW, startHarness } from '../support/app-harness';
import type { Harness } from '../support/app-harness';
import { adminCall, mountAdmin } from '../support/admin-listener';
import type { AdminListener } from '../support/admin-listener';
import { runCliAsync } from '../cli/run-cli';

jest.setTimeout(180_000);

let dir: string;
let h: Harness;
let admin: AdminListener;
let auditFile: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-migration-'));
  auditFile = path.join(dir, 'audit.jsonl');
  const demo = createDemoSetup();
  demo.registry.connections[0].stage = 'observe';
  demo.registry.connections[0].canary_percent = 0;
  // Cohorts drawn at random at login start (and pinned), so a canary really splits these test users.
  demo.registry.connections[0].cohort_key = 'random';
  // Legacy must be quiet for 3 s (the default is a week) before the connection counts as removable.
  demo.registry.lifecycle!.removal.quiet_s = 3;
  h = await startHarness({ demo, auditLog: auditFile, lifecycle: { pollMs: 50, flushMs: 100, censusMaxAgeMs: 0 } });
  admin = await mountAdmin(h.app.adminRoutes);
});

afterAll(async () => {
  await admin?.close();
  await h?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCliAsync([...args, '--server', admin.url, '--token', DEMO_ADMIN_TOKEN]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let users = 0;

/** One login as the browser + backends do it: start (the stage picks), the backend mints a pinned state, the callback. */
async function startLogin(): Promise<{ backend: string; finish: () => Promise<{ allowed: boolean; backend: string | null; reason: string | null }> }> {
  const user = `user-${users++}`;
  const start = await h.ask('grpc', { path: '/login' });
  expect(start.allowed).toBe(true);
  const backend = start.backend!;
  const state = await h.mint(backend);
  return {
    backend,
    finish: () => h.ask('grpc', { path: cb({ code: `code-${user}`, state, iss: backend === 'legacy' ? ISS_LEGACY : ISS_NEW }) }),
  };
}

/** Logins that start and complete now: every one reaches the backend that started it. */
async function logins(n: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const l = await startLogin();
    expect(await l.finish()).toMatchObject({ allowed: true, backend: l.backend });
    seen.add(l.backend);
  }
  return seen;
}

/** The removal report through the API (fast: the quiet period is short) … */
async function report(): Promise<any> {
  const r = await adminCall(admin.url, 'GET', '/v1/report', { token: DEMO_ADMIN_TOKEN });
  expect(r.status).toBe(200);
  return r.json;
}

/** … and through `callback-proxy audit report`, whose exit code gates a pipeline. */
async function reportCli(): Promise<{ status: number | null; json: any }> {
  const r = await cli('audit', 'report', '--format', 'json');
  return { status: r.status, json: JSON.parse(r.stdout) };
}

test('observe → canary 10 → 50 → cutover → retired → decommissioned by `stage set`, no login broken, audited', async () => {
  expect(await logins(3)).toEqual(new Set(['legacy']));
  expect((await report()).connections[0]).toMatchObject({ removable: false, reasons: ['stage_not_retired', 'legacy_traffic_recent', 'legacy_tokens_accepted'] });
  let rc = await reportCli();
  expect(rc.status).toBe(1);
  expect(rc.json.connections[0].reasons).toEqual(expect.arrayContaining(['stage_not_retired', 'legacy_tokens_accepted']));

  let r = await cli('stage', 'set', 'demo', 'canary', '--percent', '10', '--reason', 'first cohort', '--ticket', 'CHG-100');
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('demo: observe → canary 10 %: done (audit #1)');
  expect(r.stdout).toContain('10 % of new flows go to new');

  // Flows that start in canary 10 and finish after the next step.
  const straddling: Awaited<ReturnType<typeof startLogin>>[] = [];
  // A random 10 % cohort: keep starting logins until both backends have some (bounded; 200 misses of a
  // 10 % draw has odds of about 1e-9).
  for (let i = 0; i < 200 && !(straddling.length >= 12 && new Set(straddling.map((s) => s.backend)).size === 2); i++) straddling.push(await startLogin());
  expect(new Set(straddling.map((s) => s.backend))).toEqual(new Set(['legacy', 'new']));

  r = await cli('stage', 'set', 'demo', 'canary', '--percent', '50', '--reason', 'half');
  expect(r.status).toBe(0);
  for (const s of straddling) expect(await s.finish()).toMatchObject({ allowed: true, backend: s.backend });
  expect(await logins(12)).toEqual(new Set(['legacy', 'new']));

  // Legacy flows in flight at cutover: two finish during the drain, one straggler only after retirement.
  const legacyInFlight: Awaited<ReturnType<typeof startLogin>>[] = [];
  while (legacyInFlight.length < 3) {
    const l = await startLogin();
    if (l.backend === 'legacy') legacyInFlight.push(l);
    else expect(await l.finish()).toMatchObject({ allowed: true, backend: 'new' });
  }
  r = await cli('stage', 'set', 'demo', 'cutover', '--drain-until', 'now+6s', '--reason', 'go live', '--ticket', 'CHG-101');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/3 flows are pinned to legacy; they drain until \d{4}-/);
  // The change line shows the drain deadline as a date, not the API's epoch milliseconds.
  expect(r.stdout).toMatch(/→ cutover \(drain until \d{4}-\d\d-\d\dT[^)]*Z\): done/);
  for (const l of legacyInFlight.slice(0, 2)) expect(await l.finish()).toMatchObject({ allowed: true, backend: 'legacy' });
  const lastLegacy = Date.now();
  expect(await logins(5)).toEqual(new Set(['new']));

  // Retiring before the drain deadline would cut legacy flows off: refused, exit 1, and audited.
  r = await cli('stage', 'set', 'demo', 'retired', '--reason', 'too early');
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('illegal_transition');

  const shown = await cli('stage', 'show', 'demo', '--json');
  const drainUntil = Date.parse(JSON.parse(shown.stdout).effective.drain_until);
  // Past the drain deadline, and legacy quiet for longer than quiet_s.
  await sleep(Math.max(drainUntil + 200, lastLegacy + 3500) - Date.now());
  r = await cli('stage', 'set', 'demo', 'retired', '--reason', 'legacy closed');
  expect(r.status).toBe(0);
  // The straggler's pin is still outstanding, and shown; once retired it can never be honoured again, so
  // it does not hold the proxy in place.
  expect((await report()).connections[0]).toMatchObject({ removable: true, reasons: [], legacy_tokens: { accepted: false }, outstanding: { legacy_pins: 1 } });

  // The straggler arrives after retirement: denied by design (restart). A refused callback does not use
  // up its state, so the pin stays outstanding; but legacy traffic is recent again, so not removable,
  // and decommissioned is refused.
  expect(await legacyInFlight[2].finish()).toMatchObject({ allowed: false, reason: 'backend_retired' });
  expect((await report()).connections[0]).toMatchObject({ removable: false, reasons: ['legacy_traffic_recent'], outstanding: { legacy_pins: 1 } });
  r = await cli('stage', 'set', 'demo', 'decommissioned', '--reason', 'too soon');
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('not_removable');

  await sleep(3200);
  expect(await logins(2)).toEqual(new Set(['new']));
  rc = await reportCli();
  expect(rc.status).toBe(0);
  const c = rc.json.connections[0];
  expect(c).toMatchObject({ removable: true, reasons: [], outstanding: { legacy_pins: 1 }, stage: { effective: 'retired', override: true, file: 'observe' } });
  expect(c.traffic.last_legacy_callback).not.toBeNull();
  expect(c.revocable_credentials.map((k: { name: string }) => k.name)).toEqual(expect.arrayContaining(['keys.pin_api_tokens.legacy', 'issuers[https://legacy-idp.example.com]']));

  r = await cli('stage', 'set', 'demo', 'decommissioned', '--reason', 'migration done', '--ticket', 'CHG-102');
  expect(r.status).toBe(0);
  // Requests still arriving after decommissioned: the proxy is in the request path.
  await logins(1);
  expect((await report()).connections[0]).toMatchObject({ removable: false, reasons: ['proxy_in_request_path'], proxy_in_request_path: true });
  await sleep(3200);
  rc = await reportCli();
  expect(rc.status).toBe(0);
  expect(rc.json.connections[0].revocable_credentials.map((k: { kind: string }) => k.kind)).toEqual(expect.arrayContaining(['pin_api_token', 'issuer', 'webhook_secret', 'admin_token']));
  const text = await cli('audit', 'report');
  expect(text.stdout).toContain('connection demo: removable=true');
  expect(text.stdout).not.toContain(DEMO_ADMIN_TOKEN);

  // Every step is in the history and in a chain that verifies (also against the service's head).
  const hist = await cli('stage', 'history', 'demo', '--json');
  const records = JSON.parse(hist.stdout) as { action: string; outcome: string; to: { stage: string; canary_percent: number } | null }[];
  expect(records.filter((x) => x.outcome === 'applied').map((x) => `${x.to?.stage}${x.to?.stage === 'canary' ? x.to.canary_percent : ''}`)).toEqual(['canary10', 'canary50', 'cutover', 'retired', 'decommissioned']);
  expect(records.filter((x) => x.outcome === 'refused').map((x) => (x as { error?: string }).error)).toEqual(['illegal_transition', 'not_removable']);
  const v = await cli('audit', 'verify', auditFile);
  expect(v.stdout).toContain('ok, 7 records');
  expect(v.stdout).toContain('(matches the service)');
  expect(v.status).toBe(0);
});

test('audit verify: an edited, a removed and a truncated line are each caught (exit 1)', async () => {
  const lines = fs.readFileSync(auditFile, 'utf8').trim().split('\n');
  const edited = path.join(dir, 'edited.jsonl');
  fs.writeFileSync(edited, `${[lines[0], lines[1].replace('"half"', '"quarter"'), ...lines.slice(2)].join('\n')}\n`);
  let r = await runCliAsync(['audit', 'verify', edited]);
  expect(r.status).toBe(1);
  expect(r.stdout).toContain('BROKEN at line 2: hash does not match the record');

  const removed = path.join(dir, 'removed.jsonl');
  fs.writeFileSync(removed, `${[lines[0], ...lines.slice(2)].join('\n')}\n`);
  r = await runCliAsync(['audit', 'verify', removed]);
  expect(r.status).toBe(1);
  expect(r.stdout).toContain('BROKEN at line 2: prev does not match');

  // A cut-off tail verifies on its own; only the service's head shows it.
  const truncated = path.join(dir, 'truncated.jsonl');
  fs.writeFileSync(truncated, `${lines.slice(0, -1).join('\n')}\n`);
  expect((await runCliAsync(['audit', 'verify', truncated])).status).toBe(0);
  r = await cli('audit', 'verify', truncated);
  expect(r.status).toBe(1);
  expect(r.stdout).toContain('truncated or behind');

  expect((await runCliAsync(['audit', 'verify', path.join(dir, 'missing.jsonl')])).status).toBe(2);
});

test('the stage and audit commands have --help and exit 2 on usage errors', async () => {
  const helps = [['stage', 'set', '--help'], ['stage', 'show', '--help'], ['stage', 'reset', '--help'], ['stage', 'history', '--help'], ['audit', 'verify', '--help'], ['audit', 'report', '--help'], ['explain', '--help']];
  const [missingReason, badToken, show, ...helped] = await Promise.all([
    runCliAsync(['stage', 'set', 'demo', 'cutover']),
    runCliAsync(['stage', 'show', '--server', admin.url, '--token', 'wrong-token-0123456789']),
    cli('stage', 'show'),
    ...helps.map((a) => runCliAsync(a)),
  ]);
  for (const r of helped) {
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Exit codes');
  }
  expect(missingReason.status).toBe(2);
  expect(missingReason.stderr).toContain('--reason');
  expect(badToken.status).toBe(2);
  expect(badToken.stderr).toContain('unauthenticated');
  expect(show.status).toBe(0);
  expect(show.stdout).toContain('demo: decommissioned  (file: observe; override decommissioned by demo-admin');
});
