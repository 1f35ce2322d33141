// Investigation and the sunset alarm. `callback-proxy explain <id>` finds a logged decision and prints the
// stage and pin it saw, the policy revision and the rule that produced it — without leaking the masked
// values. A connection past its sunset_at has a metric value, a repeated log line and an alarm.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createDemoSetup, DEMO_ADMIN_TOKEN } from '../../ext-authz/src/config/default';
import { cb, ISS_LEGACY, startHarness } from '../support/app-harness';
import type { Harness } from '../support/app-harness';
import { runCliAsync } from '../cli/run-cli';
import { adminCall, mountAdmin } from '../support/admin-listener';

jest.setTimeout(120_000);

describe('explain', () => {
  let dir: string;
  let h: Harness;
  let log: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-explain-'));
    log = path.join(dir, 'decisions.jsonl');
    h = await startHarness({ demo: createDemoSetup(), decisionLog: log });
  });

  afterAll(async () => {
    await h?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a routed callback, a broken one and a login start: rule, stage, pin and policy revision', async () => {
    const state = await h.mint('legacy');
    expect(await h.ask('grpc', { path: cb({ code: 'SECRETCODE-1', state, iss: ISS_LEGACY }) })).toMatchObject({ allowed: true, backend: 'legacy' });
    expect(await h.ask('grpc', { path: cb({ code: 'SECRETCODE-2', state: 'SECRETSTATE-unknown', iss: ISS_LEGACY }) })).toMatchObject({ allowed: false, reason: 'state_unknown' });
    await h.ask('grpc', { path: '/login?client_id=demo-client' });
    await h.app.stop(); // flushes the decision log file
    const events = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(events).toHaveLength(3);
    const revision = events[0].bundles.rego.revision;
    expect(typeof revision).toBe('string');

    const [routed, broken, start] = await Promise.all(events.map((e) => runCliAsync(['explain', e.decision_id, '--log', log])));
    expect(routed.status).toBe(0);
    expect(routed.stdout).toContain(`decision ${events[0].decision_id}`);
    expect(routed.stdout).toContain('allow → legacy (pinned_legacy)');
    expect(routed.stdout).toContain(`revision rego ${revision}`);
    expect(routed.stdout).toContain('rule:     stages.rego legacy_pin_route');
    expect(routed.stdout).toContain('stage:    connection demo, canary 50 %');
    expect(routed.stdout).toMatch(/pin: {6}found, backend legacy, issuer https:\/\/legacy-idp\.example\.com, source store/);
    expect(broken.stdout).toContain('rule:     threats.rego flow_threat (strict connection: no pin that can route on its own)');
    expect(broken.stdout).toContain('pin:      none');
    expect(start.stdout).toContain('rule:     stages.rego new_flow_route (canary: keyed cohort bucket vs percent)');
    for (const r of [routed, broken, start]) {
      expect(r.stdout).not.toContain('SECRETCODE');
      expect(r.stdout).not.toContain('SECRETSTATE');
      expect(r.stdout).not.toContain(state);
    }
    const json = await runCliAsync(['explain', events[1].decision_id, '--log', log, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ decision_id: events[1].decision_id, rule: expect.stringContaining('flow_threat') });
  });

  test('an unknown id exits 1, an unreadable log 2, no log at all 2', async () => {
    const [unknown, unreadable, none] = await Promise.all([
      runCliAsync(['explain', 'no-such-decision', '--log', log]),
      runCliAsync(['explain', 'x', '--log', path.join(dir, 'missing.jsonl')]),
      runCliAsync(['explain', 'x']),
    ]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('no decision no-such-decision');
    expect(unreadable.status).toBe(2);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('--log');
  });
});

describe('sunset alarm', () => {
  test('past sunset_at: seconds for the metric, a log line repeated on its interval, an alarm for the cockpit', async () => {
    const demo = createDemoSetup();
    demo.registry.connections[0].sunset_at = Date.now() - 90_000;
    const h = await startHarness({ demo, lifecycle: { pollMs: 50, sunsetLogEveryMs: 300 } });
    const admin = await mountAdmin(h.app.adminRoutes);
    try {
      const life = h.app.current!.lifecycle;
      const [s] = life.sunsetExceeded();
      expect(s).toMatchObject({ connection: 'demo', stage: 'canary' });
      expect(s.seconds).toBeGreaterThanOrEqual(90);
      const count = () => h.logs.join('').split('"event":"sunset_exceeded"').length - 1;
      const t0 = Date.now();
      while (count() < 2 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
      expect(count()).toBeGreaterThanOrEqual(2);
      const alarms = (await adminCall(admin.url, 'GET', '/v1/alarms', { token: DEMO_ADMIN_TOKEN })).json.alarms;
      expect(alarms).toEqual([expect.objectContaining({ connection: 'demo', kind: 'sunset_exceeded' })]);
      // And legacy routes are closed (docs/stages.md, "The stages": sunset_at closes legacy whatever the stage).
      const state = await h.mint('legacy');
      expect(await h.ask('grpc', { path: cb({ code: 'sunset-code', state, iss: ISS_LEGACY }) })).toMatchObject({ allowed: false, reason: 'proxy_sunset_exceeded' });
    } finally {
      await admin.close();
      await h.close();
    }
  });
});
