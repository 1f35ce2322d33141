// The SLO guard: a scripted burst of failing callbacks on the new backend after a cutover makes the
// service roll back to the previous stage on its own — an audited automatic action with its evidence —
// while too few callbacks, or failures on legacy, do not. Plus the ring's window arithmetic.
import { createDemoSetup, DEMO_ADMIN_TOKEN } from '../../ext-authz/src/config/default';
import { SloGuard } from '../../ext-authz/src/lifecycle/slo-guard';
import type { PipelineResult } from '../../ext-authz/src/model/decision';
import type { GuardConfig } from '../../ext-authz/src/model/registry';
import { cb, ISS_LEGACY, ISS_NEW, startHarness } from '../support/app-harness';
import type { Harness } from '../support/app-harness';
import { adminCall, mountAdmin } from '../support/admin-listener';
import type { AdminListener } from '../support/admin-listener';

jest.setTimeout(60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the guard on a running service', () => {
  let h: Harness;
  let admin: AdminListener;
  let n = 0;

  beforeAll(async () => {
    const demo = createDemoSetup();
    const c = demo.registry.connections[0];
    c.stage = 'observe';
    c.canary_percent = 0;
    c.guard = { deny_ratio: 0.2, window_s: 60, min_callbacks: 20, reasons: ['state_unknown', 'issuer_mismatch', 'token_invalid'] };
    h = await startHarness({ demo, lifecycle: { pollMs: 50, flushMs: 100 } });
    admin = await mountAdmin(h.app.adminRoutes);
  });

  afterAll(async () => {
    await admin?.close();
    await h?.close();
  });

  const set = (body: Record<string, unknown>) => adminCall(admin.url, 'POST', '/v1/connections/demo/stage', { token: DEMO_ADMIN_TOKEN, body });
  const view = async () => (await adminCall(admin.url, 'GET', '/v1/connections/demo', { token: DEMO_ADMIN_TOKEN })).json;
  const goodNewCallback = async () => {
    const state = await h.mint('new');
    expect(await h.ask('grpc', { path: cb({ code: `good-${n++}`, state, iss: ISS_NEW }) })).toMatchObject({ allowed: true, backend: 'new' });
  };
  /** A callback for the new backend whose flow the proxy never learned: the login breaks (state_unknown). */
  const brokenCallback = async (iss: string) => {
    expect(await h.ask('grpc', { path: cb({ code: `bad-${n++}`, state: `lost-state-${n}`, iss }) })).toMatchObject({ allowed: false, reason: 'state_unknown' });
  };

  test('below min_callbacks, failures on legacy and a healthy ratio never roll back', async () => {
    expect((await set({ stage: 'canary', canary_percent: 30, reason: 'canary' })).status).toBe(200);
    for (let i = 0; i < 5; i++) await brokenCallback(ISS_NEW);
    for (let i = 0; i < 30; i++) await brokenCallback(ISS_LEGACY);
    await sleep(500); // several guard evaluations (every 100 ms here)
    let v = await view();
    expect(v.effective).toMatchObject({ stage: 'canary', canary_percent: 30 });
    expect(v.guard).toMatchObject({ active: true, callbacks_new: 5, denied_broken: 5, min_callbacks: 20 });

    // A stage change starts a fresh window: the canary's failures are not evidence against the cutover.
    expect((await set({ stage: 'cutover', reason: 'go live', drain_until: new Date(Date.now() + 120_000).toISOString() })).status).toBe(200);
    expect((await view()).guard).toMatchObject({ callbacks_new: 0 });
    for (let i = 0; i < 40; i++) await goodNewCallback();
    for (let i = 0; i < 5; i++) await brokenCallback(ISS_NEW);
    await sleep(500);
    v = await view();
    expect(v.effective.stage).toBe('cutover'); // 5 of 45 broken: 11 % ≤ 20 %
    expect(v.guard).toMatchObject({ callbacks_new: 45, denied_broken: 5 });
  });

  test('a burst of broken logins on new rolls back to the previous stage on its own, audited with its evidence', async () => {
    for (let i = 0; i < 15; i++) await brokenCallback(ISS_NEW);
    const deadline = Date.now() + 10_000;
    let v = await view();
    while (Date.now() < deadline && v.effective.stage === 'cutover') {
      await sleep(50);
      v = await view();
    }
    expect(v).toMatchObject({ effective: { stage: 'canary', canary_percent: 30 }, override: { set_by: 'slo-guard' } });
    const hist = (await adminCall(admin.url, 'GET', '/v1/connections/demo/history', { token: DEMO_ADMIN_TOKEN })).json.records;
    const auto = hist.filter((r: { action: string }) => r.action === 'auto_rollback');
    expect(auto).toHaveLength(1);
    const e = auto[0].evidence;
    expect(auto[0]).toMatchObject({ actor: 'slo-guard', role: 'system', outcome: 'applied', from: { stage: 'cutover' }, to: { stage: 'canary', canary_percent: 30 }, reason: expect.stringMatching(/^SLO guard: \d+ of \d+ callbacks for the new backend denied/) });
    expect(e).toMatchObject({ window_s: 60, deny_ratio: 0.2, min_callbacks: 20, reasons: { state_unknown: e.denied_broken } });
    expect(e.callbacks_new).toBeGreaterThanOrEqual(20);
    expect(e.denied_broken / e.callbacks_new).toBeGreaterThan(0.2);
    expect(h.logs.join('')).toContain('"event":"slo_guard_rollback"');
    const alarms = (await adminCall(admin.url, 'GET', '/v1/alarms', { token: DEMO_ADMIN_TOKEN })).json.alarms;
    expect(alarms).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'auto_rollback', connection: 'demo' })]));
    // The window starts afresh: the old stage's failures do not roll back the new one again.
    await sleep(500);
    expect((await view()).effective).toMatchObject({ stage: 'canary', canary_percent: 30 });
    // New flows now go to legacy again for 70 % of users; the guard's rollback did not break pinned new flows.
    await goodNewCallback();
  });
});

describe('SloGuard ring', () => {
  const cfg: GuardConfig = { deny_ratio: 0.1, window_s: 30, min_callbacks: 10, reasons: ['state_unknown'] };
  const conn = { name: 'c', backends: [{ id: 'legacy', role: 'legacy' }, { id: 'new', role: 'new' }] };
  const result = (backend: string, deny: string | null): PipelineResult => ({
    decision: { action: deny ? 'deny' : 'allow', backend: deny ? null : backend, reasons: [deny ?? 'pinned_new'], http_status: deny ? 403 : 200, headers: {}, response_headers: {}, pin: null, dynamic_metadata: {} },
    decisionId: 'd',
    connection: conn as never,
    headersToRemove: [],
    timings: { facts: 0, policy: 0, total: 0 },
    event: {
      input: {
        callback: { kind: 'oauth_query', iss: null, route: '/cb' },
        pin: { found: true, backend },
        token: { backend: null },
        migration: { stage: 'cutover', new: 'new', issuers: {} },
      },
    } as never,
  } as PipelineResult);

  test('breaches only with enough callbacks over the ratio, inside the sliding window', () => {
    const g = new SloGuard();
    g.configure([{ connection: 'c', config: cfg, newBackend: 'new' }]);
    const t0 = 1_000_000_000;
    for (let i = 0; i < 8; i++) g.observe(result('new', null), t0);
    g.observe(result('new', 'state_unknown'), t0);
    expect(g.breaches(t0)).toEqual([]); // 9 callbacks < min 10
    g.observe(result('new', 'state_unknown'), t0 + 1000);
    const [b] = g.breaches(t0 + 1000);
    expect(b.evidence).toMatchObject({ callbacks_new: 10, denied_broken: 2, ratio: 0.2, reasons: { state_unknown: 2 } });
    // Other reasons and other backends do not count as broken logins on new.
    g.observe(result('new', 'code_replayed'), t0 + 1000);
    g.observe(result('legacy', 'state_unknown'), t0 + 1000);
    expect(g.window('c', t0 + 1000)).toMatchObject({ callbacks_new: 11, denied_broken: 2 });
    // 31 s later the window has slid past all of it.
    expect(g.window('c', t0 + 32_000)).toMatchObject({ callbacks_new: 0, denied_broken: 0 });
    expect(g.breaches(t0 + 32_000)).toEqual([]);
    g.observe(result('new', 'state_unknown'), t0 + 2000);
    g.reset('c');
    expect(g.window('c', t0 + 2000)).toMatchObject({ callbacks_new: 0 });
  });
});
