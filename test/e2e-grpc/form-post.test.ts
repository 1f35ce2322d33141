// OIDC form_post callbacks (state in the body) over each transport, and the documented nginx
// limitation: auth_request never sees the body, so a POST callback through it is denied, never allowed.
import { startHarness, ISS_NEW, httpRequest } from '../support/app-harness';
import type { Harness, Transport } from '../support/app-harness';

jest.setTimeout(60_000);

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe.each(['grpc', 'http-envoy', 'http-traefik'] as Transport[])('form_post over %s', (t) => {
  test('a form_post-pinned state in the body → OK; replayed → state_replayed; in query and body → ambiguous', async () => {
    const state = await h.mint('new', { responseMode: 'form_post' });
    const body = `code=${t}-fp-1&state=${encodeURIComponent(state)}&iss=${encodeURIComponent(ISS_NEW)}`;
    expect(await h.ask(t, { method: 'POST', path: '/oauth2/callback', body, headers: FORM })).toMatchObject({ allowed: true, backend: 'new' });
    expect(await h.ask(t, { method: 'POST', path: '/oauth2/callback', body: body.replace('-fp-1', '-fp-2'), headers: FORM })).toMatchObject({ allowed: false, reason: 'state_replayed' });
    const s2 = await h.mint('new', { responseMode: 'form_post' });
    const amb = await h.ask(t, { method: 'POST', path: `/oauth2/callback?state=${encodeURIComponent(s2)}`, body: `code=${t}-fp-3&state=${encodeURIComponent(s2)}`, headers: FORM });
    expect(amb).toMatchObject({ allowed: false, reason: 'ambiguous_param_location' });
  });
});

test('nginx auth_request: the body is not available, so a form_post callback is denied (state_missing)', async () => {
  const state = await h.mint('new', { responseMode: 'form_post' });
  const a = await h.ask('http-nginx', { method: 'POST', path: '/oauth2/callback', body: `code=n-1&state=${encodeURIComponent(state)}`, headers: FORM });
  expect(a).toMatchObject({ allowed: false, reason: 'state_missing' });
});

test('a forwarded body over limits.max_body_bytes → body_too_large (413)', async () => {
  const big = `state=${'a'.repeat(300 * 1024)}`;
  const r = await httpRequest(h.httpPort, 'POST', '/envoy/authz/oauth2/callback', { host: 'auth.example.com', ...FORM }, big);
  expect(r.status).toBe(413);
  expect(r.headers['x-callback-reason']).toBe('body_too_large');
  expect(r.body).not.toContain('aaaa');
});
