// One spelling per state (docs/threat-model.md T-S4/T-S5) through the real App on every transport: a
// used signed state re-sent with another spelling of its MAC — the siblings of its last character,
// padding, the standard base64 alphabet — is denied non_canonical_encoding, never allowed as a fresh
// flow. Before the strict decoder, each of the three siblings was a second (third, fourth) use.
import { startHarness, cb, ISS_NEW } from '../support/app-harness';
import type { Harness, Transport } from '../support/app-harness';

jest.setTimeout(60_000);

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function respellings(state: string): string[] {
  const dot = state.lastIndexOf('.');
  const head = state.slice(0, dot + 1);
  const mac = state.slice(dot + 1);
  const last = ALPHA.indexOf(mac[mac.length - 1]);
  const out = [1, 2, 3].map((low) => head + mac.slice(0, -1) + ALPHA[last | low]);
  out.push(`${state}=`, head + mac.replace(/-/g, '+').replace(/_/g, '/'));
  return out.filter((v) => v !== state);
}

test.each<Transport>(['grpc', 'http-envoy', 'http-nginx', 'http-traefik'])('%s: a used envelope in another spelling is refused', async (t) => {
  // `new` signs envelopes in the demo setup (stateless pins).
  const state = await h.mint('new');
  expect(state.startsWith('v1.new.')).toBe(true);
  const first = await h.ask(t, { path: cb({ code: `c0-${t}`, state, iss: ISS_NEW }) });
  expect(first).toMatchObject({ allowed: true, backend: 'new' });
  const variants = respellings(state);
  expect(variants.length).toBeGreaterThanOrEqual(4);
  for (const [i, v] of variants.entries()) {
    const again = await h.ask(t, { path: cb({ code: `c${i + 1}-${t}`, state: v, iss: ISS_NEW }) });
    expect(again).toMatchObject({ allowed: false, reason: 'non_canonical_encoding', status: 400 });
  }
  // And the genuine spelling is spent.
  expect(await h.ask(t, { path: cb({ code: `cz-${t}`, state, iss: ISS_NEW }) })).toMatchObject({ allowed: false, reason: 'state_replayed' });
});
