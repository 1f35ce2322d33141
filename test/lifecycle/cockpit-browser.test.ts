// The cockpit in a real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core): log in
// with a token, see one row per connection matching the API, the plotted decision mix and the sunset
// banner, change a stage as an operator through the confirmation that states its effect, find it in the
// audit list, and be refused as a viewer — with no CSP violation or script error on the way. Saves a
// screenshot to test/artifacts/cockpit.png. Skips loudly without chromium, except in CI.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { createDemoSetup, DEMO_ADMIN_TOKEN } from '../../ext-authz/src/config/default';
import { cb, ISS_LEGACY, ISS_NEW, startHarness } from '../support/app-harness';
import type { Harness } from '../support/app-harness';
import { adminCall, mountAdmin } from '../support/admin-listener';
import type { AdminListener } from '../support/admin-listener';

jest.setTimeout(180_000);

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(__dirname, '..', 'artifacts');

function chromiumAvailable(): boolean {
  if (fs.existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is required in CI (apt-get install chromium)`);
  console.warn(`SKIPPING cockpit browser tests: ${CHROMIUM} not found`);
  return false;
}

const maybe = chromiumAvailable() ? describe : describe.skip;

const OPERATOR = 'cockpit-operator-token-0123456789';
const VIEWER = 'cockpit-viewer-token-0123456789ab';

maybe('the cockpit in headless Chromium', () => {
  let h: Harness;
  let admin: AdminListener;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    const demo = createDemoSetup();
    const reg = demo.registry;
    reg.keys.admin_tokens!.push({ name: 'olga-operator', token: OPERATOR, role: 'operator' }, { name: 'victor-viewer', token: VIEWER, role: 'viewer' });
    // A second connection past its sunset: the cockpit must raise the banner.
    const partner = structuredClone(reg.connections[0]);
    partner.name = 'partner';
    partner.hosts = ['partner.example.com'];
    partner.stage = 'cutover';
    partner.drain_until = Date.now() - 3_600_000;
    partner.sunset_at = Date.now() - 2 * 3_600_000;
    delete partner.webhook;
    partner.routes.webhook = [];
    reg.connections.push(partner);
    // Cohorts drawn at random at login start (and pinned), so the canary really splits the users below.
    reg.connections[0].cohort_key = 'random';
    reg.connections[0].guard = { deny_ratio: 0.05, window_s: 300, min_callbacks: 50, reasons: ['state_unknown', 'issuer_mismatch'] };
    h = await startHarness({ demo, lifecycle: { pollMs: 100, flushMs: 200, censusMaxAgeMs: 0 } });
    admin = await mountAdmin(h.app.adminRoutes);
    // Some traffic to plot: logins on both backends, a few broken ones, and legacy flows left pinned.
    for (let i = 0; i < 16; i++) {
      const start = await h.ask('grpc', { path: '/login' });
      const state = await h.mint(start.backend!);
      if (i % 4 !== 3) await h.ask('grpc', { path: cb({ code: `c-${i}`, state, iss: start.backend === 'legacy' ? ISS_LEGACY : ISS_NEW }) });
    }
    for (let i = 0; i < 3; i++) await h.ask('grpc', { path: cb({ code: `x-${i}`, state: `unknown-${i}`, iss: ISS_NEW }) });
    for (let i = 0; i < 4; i++) await h.ask('grpc', { host: 'partner.example.com', path: `/login?client_id=demo-client` });

    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1500, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    // Script errors and CSP violations ("Refused to …"); refused API calls (401/403) are expected here.
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource: the server responded with a status of 40')) problems.push(m.text());
    });
    // A refresh still in flight when the test navigates is aborted by the navigation: not a problem.
    page.on('requestfailed', (r) => {
      if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
    });
    page.on('pageerror', (e) => problems.push(e.message));
  });

  afterAll(async () => {
    await context?.close();
    await admin?.close();
    await h?.close();
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
  });

  async function signIn(token: string): Promise<void> {
    await page.goto(`${admin.url}/`);
    await page.waitForSelector('#login:not([hidden])');
    await page.fill('#token', token);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#cockpit:not([hidden])');
    await page.waitForSelector('#connections tbody tr[data-connection="demo"] td.mix canvas');
  }

  const refreshed = async (): Promise<void> => {
    const before = await page.getAttribute('body', 'data-loaded');
    await page.waitForFunction((b) => (globalThis as any).document.body.dataset.loaded !== b, before, { timeout: 10_000 });
  };

  test('an operator logs in; rows match the API; the session cookie is Secure, HttpOnly, SameSite=Strict', async () => {
    await signIn(OPERATOR);
    expect(await page.textContent('#who-name')).toBe('olga-operator');
    expect(await page.textContent('#who-role')).toBe('operator');
    const cookies = await context.cookies(admin.url);
    expect(cookies).toEqual([expect.objectContaining({ name: '__Host-cbp_admin', httpOnly: true, secure: true, sameSite: 'Strict' })]);
    expect(cookies[0].value).not.toContain(OPERATOR);
    // The token field was emptied; the token is nowhere in the page.
    expect(await page.inputValue('#token')).toBe('');
    expect(await page.content()).not.toContain(OPERATOR);

    await refreshed();
    const api = (await adminCall(admin.url, 'GET', '/v1/connections', { token: VIEWER })).json.connections as any[];
    const rows = await page.$$eval('#connections tbody tr', (trs: any[]) =>
      trs.map((tr) => ({
        name: tr.dataset.connection as string,
        stage: tr.querySelector('td.stage .badge')?.textContent,
        canary: tr.querySelector('td.canary')?.textContent,
        pins: tr.querySelector('td.pins')?.textContent,
        hasChart: tr.querySelector('td.mix canvas') !== null,
      })),
    );
    expect(rows.map((r) => r.name)).toEqual(api.map((c) => c.name));
    for (const c of api) {
      const row = rows.find((r) => r.name === c.name)!;
      expect(row.stage).toBe(c.effective.stage);
      expect(row.canary).toBe(c.effective.stage === 'canary' ? `${c.effective.canary_percent} %` : '—');
      expect(row.pins).toBe(`${c.pins.legacy} / ${c.pins.new}`);
      expect(row.hasChart).toBe(true);
    }
    expect(api.find((c) => c.name === 'demo').pins.legacy).toBeGreaterThan(0);
    // Stragglers, the sunset banner and the report verdict.
    expect(await page.textContent('#stragglers tbody tr[data-connection="demo"]')).toContain(String(api.find((c) => c.name === 'demo').pins.legacy));
    expect(await page.textContent('#alarms .alarm[data-kind="sunset_exceeded"][data-connection="partner"]')).toContain('past its sunset');
    expect(await page.getAttribute('#report [data-verdict]', 'data-verdict')).toBe('false');
  });

  test('a stage change as operator: a confirmation states the effect, then the row and the audit list show it', async () => {
    await page.click('#connections tbody tr[data-connection="demo"] button[data-action="change"]');
    await page.waitForSelector('dialog#change[open]');
    await page.selectOption('#change-stage', 'canary');
    await page.fill('#change-percent', '10');
    await page.fill('#change-reason', 'slow the canary down');
    await page.fill('#change-ticket', 'CHG-42');
    await page.click('#change-preview');
    await page.waitForSelector('#change-effect:not([hidden])');
    const effect = await page.textContent('#change-effect');
    expect(effect).toMatch(/^10 % of new flows go to new, decided once at login start\. \d+ flows? (is|are) pinned to legacy and \d+ to new/);
    // Nothing is applied by the preview.
    expect((await adminCall(admin.url, 'GET', '/v1/connections/demo', { token: VIEWER })).json.effective.canary_percent).toBe(50);
    await page.click('#change-confirm');
    await page.waitForSelector('dialog#change', { state: 'hidden' });
    await page.waitForFunction(() => (globalThis as any).document.querySelector('#connections tr[data-connection="demo"] td.canary')?.textContent === '10 %');
    expect(await page.textContent('#connections tr[data-connection="demo"] td.stage')).toContain('override by olga-operator (file: canary 50 %)');
    const top = await page.$eval('#audit tbody tr', (tr: any) => ({ ...tr.dataset, text: tr.textContent as string }));
    expect(top).toMatchObject({ action: 'stage_set', outcome: 'applied' });
    expect(top.text).toContain('olga-operator (operator)');
    expect(top.text).toContain('canary 50 % → canary 10 %');
    expect(top.text).toContain('CHG-42');
    expect((await adminCall(admin.url, 'GET', '/v1/connections/demo', { token: VIEWER })).json.effective.canary_percent).toBe(10);

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'cockpit.png'), fullPage: true });
  });

  test('a viewer is refused (forbidden), the refusal lands in the audit list; no CSP violation or script error anywhere', async () => {
    await page.click('#logout');
    await page.waitForSelector('#login:not([hidden])');
    expect(await context.cookies(admin.url)).toEqual([]);
    await signIn(VIEWER);
    await page.click('#connections tbody tr[data-connection="demo"] button[data-action="change"]');
    await page.selectOption('#change-stage', 'cutover');
    await page.fill('#change-reason', 'viewer tries');
    await page.click('#change-preview');
    await page.waitForSelector('#change-error[data-code]');
    expect(await page.getAttribute('#change-error', 'data-code')).toBe('forbidden');
    expect(await page.textContent('#change-error')).toContain('Refused (forbidden)');
    await page.click('#change-cancel');
    // The preview itself is not audited (a dry run); a real attempt is, through the same session.
    const status = await page.evaluate(async () => {
      const s = (await (await fetch('/v1/session')).json()) as { csrf: string };
      const r = await fetch('/v1/connections/demo/stage', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrf }, body: JSON.stringify({ stage: 'cutover', reason: 'viewer insists' }) });
      return r.status;
    });
    expect(status).toBe(403);
    await page.waitForFunction(() => (globalThis as any).document.querySelector('#audit tbody tr')?.dataset.outcome === 'refused', undefined, { timeout: 20_000 });
    const top = await page.$eval('#audit tbody tr', (tr: any) => ({ ...tr.dataset, text: tr.textContent as string }));
    expect(top).toMatchObject({ action: 'stage_set', outcome: 'refused' });
    expect(top.text).toContain('victor-viewer (viewer)');
    expect(top.text).toContain('refused: forbidden');
    expect((await adminCall(admin.url, 'GET', '/v1/connections/demo', { token: VIEWER })).json.effective.stage).toBe('canary');
    expect(problems).toEqual([]);
    // Nothing the admin configured as a secret reached the page.
    const html = await page.content();
    for (const secret of [DEMO_ADMIN_TOKEN, OPERATOR, VIEWER, h.app.current!.registry().keys.hash_key]) expect(html).not.toContain(secret);
  });
});
