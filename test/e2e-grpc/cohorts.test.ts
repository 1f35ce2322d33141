// Canary cohorts come from facts the caller cannot choose (docs/threat-model.md T-D1): a registered
// client_id, or a server-side draw at login start pinned by the MAC'd cookie hint. An unregistered
// client_id is denied with one generic reply, so trying values reveals nothing. Over gRPC and HTTP.
// Threat rows (docs/threat-model.md): T-D6, T-D7.
import { startHarness } from '../support/app-harness';
import type { Answer, Harness, Transport } from '../support/app-harness';
import { createDemoSetup } from '../../ext-authz/src/config/default';

jest.setTimeout(60_000);

/** The Set-Cookie hint of an allowed login start, from either transport's answer. */
function hintCookie(a: Answer): string | null {
  const raw = JSON.parse(a.raw) as { okResponse?: { responseHeadersToAdd?: { header: { key: string; value: string } }[] }; headers?: Record<string, string> };
  const fromGrpc = raw.okResponse?.responseHeadersToAdd?.find((x) => x.header.key === 'set-cookie')?.header.value;
  const value = fromGrpc ?? a.headers['set-cookie'];
  return value ? value.split(';')[0] : null;
}

/** A deny reply with its per-request decision id blanked: what a caller learns from it. */
const shape = (a: Answer): string => JSON.stringify({ s: a.status, r: a.reason, b: a.body.replace(/"decision_id":"[^"]*"/, '') });

describe('cohort_key client_id (the demo: canary 50 %, client demo-client)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ demo: createDemoSetup() });
  });
  afterAll(async () => {
    await h?.close();
  });

  test.each(['grpc', 'http-envoy'] as Transport[])('over %s: unregistered client_ids are all denied alike; the registered one is routed', async (t) => {
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => h.ask(t, { path: `/login?client_id=probe-${i}&login_hint=u${i}` })));
    expect(answers.every((a) => !a.allowed && a.reason === 'client_id_unknown')).toBe(true);
    expect(new Set(answers.map(shape)).size).toBe(1);
    const registered = await Promise.all(Array.from({ length: 10 }, (_, i) => h.ask(t, { path: `/login?client_id=demo-client&login_hint=u${i}` })));
    expect(registered.every((a) => a.allowed)).toBe(true);
    // login_hint chooses nothing: every hint lands where the client's keyed bucket says.
    expect(new Set(registered.map((a) => a.backend)).size).toBe(1);
  });
});

describe('cohort_key random (canary 50 %)', () => {
  let h: Harness;
  beforeAll(async () => {
    const demo = createDemoSetup();
    demo.registry.connections[0].cohort_key = 'random';
    h = await startHarness({ demo });
  });
  afterAll(async () => {
    await h?.close();
  });

  test.each(['grpc', 'http-envoy'] as Transport[])('over %s: drawn server-side whatever the caller sends, then pinned by the cookie hint', async (t) => {
    const fresh = await Promise.all(Array.from({ length: 40 }, () => h.ask(t, { path: '/login?client_id=demo-client&login_hint=same-user' })));
    expect(fresh.every((a) => a.allowed)).toBe(true);
    // The same inputs land on both sides: nothing the caller sends picks the side.
    expect(new Set(fresh.map((a) => a.backend))).toEqual(new Set(['legacy', 'new']));
    for (const first of [fresh.find((a) => a.backend === 'legacy'), fresh.find((a) => a.backend === 'new')] as Answer[]) {
      const cookie = hintCookie(first);
      expect(cookie).toMatch(/^__Host-cbp_hint=v1\./);
      const again = await Promise.all(Array.from({ length: 10 }, () => h.ask(t, { path: '/login', headers: { cookie: cookie as string } })));
      expect(again.every((a) => a.allowed && a.backend === first.backend)).toBe(true);
    }
  });
});
