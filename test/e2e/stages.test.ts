// End to end through real nginx (auth_request → ext-authz HTTP forward-auth): full OAuth logins at each
// migration stage (docs/stages.md, "The stages"), and flows that straddle a stage change finishing where they started.
import { nginxAvailability, startStack } from '../../demo/harness';
import type { Stack } from '../../demo/harness';
import { callbackHop, holdLogin, login, servedBy, sleep, startUrl } from './flows';

const run = nginxAvailability() === 'run' ? describe : describe.skip;

run('e2e through nginx: logins per stage', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ stage: 'observe', nginx: true, front: false });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const expectLoginOn = async (user: string, backend: string): Promise<void> => {
    const { result } = await login(stack, user);
    expect(result.json).toMatchObject({ ok: true, backend });
    // Every hop through the proxy (login start, callback) was served by the same backend.
    expect(servedBy(result)).toEqual([backend, backend]);
  };

  test('observe: new flows log in on legacy', async () => {
    await stack.setStage('observe');
    await expectLoginOn('obs-user', 'legacy');
  });

  test('shadow: logins stay on legacy (the candidate is only logged)', async () => {
    await stack.setStage('shadow');
    await expectLoginOn('shadow-user', 'legacy');
  });

  test('canary 100 %: new flows log in on new', async () => {
    await stack.setStage('canary', { percent: 100 });
    await expectLoginOn('c100-user', 'new');
  });

  test('canary 0 % is rejected by the registry; the last good stage keeps routing', async () => {
    await stack.setStage('canary', { percent: 100 });
    await expect(stack.setStage('canary', { percent: 0 })).rejects.toThrow(/rejected/);
    expect(stack.app.current?.registry().connections[0].canary_percent).toBe(100);
    await expectLoginOn('c0-user', 'new');
  });

  test('canary 50 %: several users land on both backends, each flow completes where it started', async () => {
    await stack.setStage('canary', { percent: 50 });
    // 24 logins: all on one side would have probability 2 × 2^-24 (the draw is random, server-side).
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => login(stack, `c50-user-${i}`)));
    const backends = new Set<string>();
    for (const { result } of results) {
      expect(result.json?.ok).toBe(true);
      const [start, cb] = servedBy(result);
      expect(cb).toBe(start);
      expect(result.json?.backend).toBe(start);
      backends.add(String(start));
    }
    expect([...backends].sort()).toEqual(['legacy', 'new']);
    // The draw is pinned by the MAC'd cookie hint: the same browser lands on the same backend again.
    const again = await results[0].browser.get(startUrl('c50-user-0'));
    expect(again.json?.backend).toBe(results[0].result.json?.backend);
  });

  test('flows started at canary 50 % finish on their own backend after a move to cutover', async () => {
    await stack.setStage('canary', { percent: 50 });
    // 24 held logins, so both sides are all but certain (2 × 2^-24 otherwise).
    const held = await Promise.all(Array.from({ length: 24 }, (_, i) => holdLogin(stack, `straddle-${i}`)));
    expect(new Set(held.map((h) => h.startedOn)).size).toBe(2);
    await stack.setStage('cutover', { drainUntil: Date.now() + 60_000 });
    for (const h of held) {
      const r = await h.deliver();
      expect(r.json).toMatchObject({ ok: true, backend: h.startedOn });
      expect(callbackHop(r).servedBy).toBe(h.startedOn);
    }
  });

  test('cutover: new flows on new; a legacy flow completes within drain and is denied after drain_until', async () => {
    await stack.setStage('observe', { drainUntil: null });
    const early = await holdLogin(stack, 'drain-early');
    const late = await holdLogin(stack, 'drain-late');
    expect([early.startedOn, late.startedOn]).toEqual(['legacy', 'legacy']);
    const drainUntil = Date.now() + 2500;
    await stack.setStage('cutover', { drainUntil });
    await expectLoginOn('cutover-user', 'new');
    const r1 = await early.deliver();
    expect(r1.json).toMatchObject({ ok: true, backend: 'legacy' });
    await sleep(Math.max(0, drainUntil - Date.now()) + 100);
    const before = stack.legacy.stats.logins_ok;
    const r2 = await late.deliver();
    expect(r2.status).toBe(403);
    // drain_expired carries the restart hint through nginx: the user starts again (and lands on new).
    expect(callbackHop(r2).reason).toBe('drain_expired');
    expect(callbackHop(r2).hint).toBe('restart-login');
    expect(callbackHop(r2).servedBy).toBeUndefined();
    expect(stack.legacy.stats.logins_ok).toBe(before);
    await expectLoginOn('drain-late-restart', 'new');
  });

  test('rollback: a new-pinned flow completes on new; new flows go to legacy', async () => {
    await stack.setStage('canary', { percent: 100, drainUntil: null });
    const onNew = await holdLogin(stack, 'rb-user');
    expect(onNew.startedOn).toBe('new');
    await stack.setStage('rollback', { drainUntil: Date.now() + 60_000 });
    const r = await onNew.deliver();
    expect(r.json).toMatchObject({ ok: true, backend: 'new' });
    expect(callbackHop(r).servedBy).toBe('new');
    await expectLoginOn('rb-fresh', 'legacy');
  });

  test('retired: a legacy-pinned callback is denied; new flows on new', async () => {
    await stack.setStage('observe', { drainUntil: null });
    const onLegacy = await holdLogin(stack, 'ret-user');
    expect(onLegacy.startedOn).toBe('legacy');
    await stack.setStage('retired');
    const r = await onLegacy.deliver();
    expect(r.status).toBe(403);
    expect(callbackHop(r).reason).toBe('backend_retired');
    expect(callbackHop(r).servedBy).toBeUndefined();
    await expectLoginOn('ret-fresh', 'new');
  });

  test('no backend ever answered a callback for a flow it did not start', () => {
    expect(stack.legacy.stats.callbacks_rejected.unknown_flow ?? 0).toBe(0);
    expect(stack.neu.stats.callbacks_rejected.unknown_flow ?? 0).toBe(0);
  });
});
