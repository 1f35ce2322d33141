// Issue #3 acceptance items 1–8 against the embedded default, over real gRPC and over each HTTP
// forward-auth mode (Envoy http_service, nginx auth_request, Traefik/Caddy forward auth).
import { startHarness, cb, ISS_LEGACY, ISS_NEW } from '../support/app-harness';
import type { Harness, Transport } from '../support/app-harness';

jest.setTimeout(60_000);

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const transports: Transport[] = ['grpc', 'http-envoy', 'http-nginx', 'http-traefik'];

describe.each(transports)('acceptance over %s', (t) => {
  test('1+4: state minted for new with iss=new → OK backend new; the same state again → state_replayed', async () => {
    const state = await h.mint('new', { via: t === 'grpc' ? 'grpc' : 'http' });
    const first = await h.ask(t, { path: cb({ code: `${t}-c-1`, state, iss: ISS_NEW }) });
    expect(first).toMatchObject({ allowed: true, backend: 'new' });
    const again = await h.ask(t, { path: cb({ code: `${t}-c-1b`, state, iss: ISS_NEW }) });
    expect(again).toMatchObject({ allowed: false, reason: 'state_replayed' });
  });

  test('2: state minted for new with the legacy iss → issuer_mismatch', async () => {
    const state = await h.mint('new');
    const a = await h.ask(t, { path: cb({ code: `${t}-c-2`, state, iss: ISS_LEGACY }) });
    expect(a).toMatchObject({ allowed: false, reason: 'issuer_mismatch' });
  });

  test('3: state minted for legacy with the legacy iss → OK backend legacy', async () => {
    const state = await h.mint('legacy');
    expect(await h.ask(t, { path: cb({ code: `${t}-c-3`, state, iss: ISS_LEGACY }) })).toMatchObject({ allowed: true, backend: 'legacy' });
  });

  test('5: state twice → duplicate_param; no state → state_missing', async () => {
    const s1 = await h.mint('legacy');
    const s2 = await h.mint('legacy');
    expect(await h.ask(t, { path: cb({ code: `${t}-c-5`, state: [s1, s2], iss: ISS_LEGACY }) })).toMatchObject({ allowed: false, reason: 'duplicate_param', status: 400 });
    expect(await h.ask(t, { path: cb({ code: `${t}-c-5b`, iss: ISS_LEGACY }) })).toMatchObject({ allowed: false, reason: 'state_missing' });
  });

  test('6: encoded traversal and a foreign host are denied', async () => {
    const trav = await h.ask(t, { path: '/oauth2/callback%2F..%2Fadmin' });
    expect(trav.allowed).toBe(false);
    expect(trav.reason).toBe('encoded_slash');
    const state = await h.mint('legacy');
    expect(await h.ask(t, { path: cb({ code: `${t}-c-6`, state, iss: ISS_LEGACY }), host: 'evil.example.com' })).toMatchObject({ allowed: false, reason: 'host_not_allowed' });
  });

  test('7: a client-sent x-callback-backend: new on a legacy-pinned callback → backend legacy', async () => {
    const state = await h.mint('legacy');
    const a = await h.ask(t, { path: cb({ code: `${t}-c-7`, state, iss: ISS_LEGACY }), headers: { 'x-callback-backend': 'new' } });
    expect(a).toMatchObject({ allowed: true, backend: 'legacy' });
  });

  test('8: no deny body, header or log line contains the code or state', async () => {
    const code = `CANARYCODE123${t.replace(/-/g, '')}`;
    const state = `CANARYSTATE${t.replace(/-/g, '')}`;
    const answers = [
      await h.ask(t, { path: cb({ code, state, iss: ISS_LEGACY }) }),
      await h.ask(t, { path: cb({ code, state: [state, state] }) }),
      await h.ask(t, { path: cb({ code, state }), host: 'evil.example.com' }),
    ];
    for (const a of answers) {
      expect(a.allowed).toBe(false);
      expect(a.raw).not.toContain(code);
      expect(a.raw).not.toContain(state);
    }
    await new Promise((r) => setTimeout(r, 50));
    const all = h.logs.join('') + h.decisionLines.join('');
    expect(all).not.toContain(code);
    expect(all).not.toContain(state);
  });
});

test('the Pin API over gRPC refuses a missing token and another backend\'s token', async () => {
  await expect(h.mint('new', { token: 'nope' })).rejects.toMatchObject({ code: 16 });
  await expect(h.mint('new', { via: 'http', token: 'nope' })).rejects.toThrow(/401/);
});
