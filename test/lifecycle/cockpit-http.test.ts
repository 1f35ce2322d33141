// The cockpit's HTTP surface without a browser: a strict CSP and no inline code, the token login and its
// cookie flags, CSRF and Origin checks on every cookie-authenticated change, and sessions that die with
// their token. (test/lifecycle/cockpit-browser.test.ts drives the same page in headless Chromium.)
import { createDemoSetup } from '../../ext-authz/src/config/default';
import { CSP } from '../../ext-authz/src/server/admin-http';
import { startHarness } from '../support/app-harness';
import type { Harness } from '../support/app-harness';
import { mountAdmin } from '../support/admin-listener';
import type { AdminListener } from '../support/admin-listener';

jest.setTimeout(60_000);

const OPERATOR = 'cockpit-operator-token-0123456789';
let h: Harness;
let admin: AdminListener;

beforeAll(async () => {
  const demo = createDemoSetup();
  demo.registry.keys.admin_tokens!.push({ name: 'olga', token: OPERATOR, role: 'operator' });
  h = await startHarness({ demo });
  admin = await mountAdmin(h.app.adminRoutes);
});

afterAll(async () => {
  await admin?.close();
  await h?.close();
});

const origin = () => admin.url;

async function login(token: string, headers: Record<string, string> = { origin: origin() }): Promise<Response> {
  return fetch(`${admin.url}/session`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ token }) });
}

test('the page, its script and styles carry a strict CSP; the page has no inline script or style', async () => {
  const page = await fetch(`${admin.url}/`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-security-policy')).toBe(CSP);
  expect(CSP).toContain("default-src 'self'");
  expect(CSP).not.toContain('unsafe-inline');
  expect(page.headers.get('x-frame-options')).toBe('DENY');
  const html = await page.text();
  expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  expect(html).not.toMatch(/\sstyle=|<style|\son[a-z]+=/i);
  for (const p of ['/cockpit/cockpit.js', '/cockpit/cockpit.css', '/cockpit/uPlot.min.js', '/cockpit/uPlot.min.css']) {
    const r = await fetch(`${admin.url}${p}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toBe(CSP);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
  }
  expect((await fetch(`${admin.url}/cockpit/../package.json`)).status).toBe(404);
});

test('login: same origin only, unknown tokens refused, the cookie is __Host-, Secure, HttpOnly, SameSite=Strict and holds no token', async () => {
  expect((await login(OPERATOR, {})).status).toBe(403); // no Origin: a login from elsewhere
  expect((await login(OPERATOR, { origin: 'http://evil.example' })).status).toBe(403);
  expect((await login('not-a-token-0123456789')).status).toBe(401);
  const r = await login(OPERATOR);
  expect(r.status).toBe(200);
  const cookie = r.headers.get('set-cookie')!;
  expect(cookie).toMatch(/^__Host-cbp_admin=v1\.[\w-]+\.[\w-]+; Path=\/; Secure; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
  expect(cookie).not.toContain(OPERATOR);
  const body = (await r.json()) as Record<string, string>;
  expect(body).toMatchObject({ name: 'olga', role: 'operator', csrf: expect.stringMatching(/^[\w-]{43}$/) });
  expect(JSON.stringify(body)).not.toContain(OPERATOR);
});

test('with the cookie: reads work; a change needs the CSRF header AND a same-origin Origin', async () => {
  const r = await login(OPERATOR);
  const cookie = r.headers.get('set-cookie')!.split(';')[0];
  const { csrf } = (await r.json()) as { csrf: string };
  expect((await fetch(`${admin.url}/v1/connections`, { headers: { cookie } })).status).toBe(200);
  const session = (await (await fetch(`${admin.url}/v1/session`, { headers: { cookie } })).json()) as Record<string, string>;
  expect(session).toMatchObject({ name: 'olga', role: 'operator', csrf });

  const post = (headers: Record<string, string>) =>
    fetch(`${admin.url}/v1/connections/demo/stage`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ stage: 'canary', canary_percent: 20, reason: 'csrf test' }) });
  let x = await post({ origin: origin() });
  expect(x.status).toBe(403);
  expect(((await x.json()) as { error: string }).error).toBe('csrf_failed');
  x = await post({ 'x-csrf-token': csrf, origin: 'http://evil.example' });
  expect(x.status).toBe(403);
  // A forged token differs from the real one in its last character: always, not only when that
  // character is not already 'A' (which it was in 1 run of 64).
  x = await post({ 'x-csrf-token': `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}`, origin: origin() });
  expect(x.status).toBe(403);
  x = await post({ 'x-csrf-token': csrf, origin: origin() });
  expect(x.status).toBe(200);

  // A tampered cookie is no session.
  const tampered = cookie.replace(/\.([\w-])/, '.X');
  expect((await fetch(`${admin.url}/v1/connections`, { headers: { cookie: tampered } })).status).toBe(401);
});

test('a session dies with its token (or a changed role)', async () => {
  const r = await login(OPERATOR);
  const cookie = r.headers.get('set-cookie')!.split(';')[0];
  const tokens = h.app.current!.registry().keys.admin_tokens!;
  const t = tokens.find((x) => x.name === 'olga')!;
  t.role = 'viewer';
  try {
    expect((await fetch(`${admin.url}/v1/connections`, { headers: { cookie } })).status).toBe(401);
  } finally {
    t.role = 'operator';
  }
  expect((await fetch(`${admin.url}/v1/connections`, { headers: { cookie } })).status).toBe(200);
});
