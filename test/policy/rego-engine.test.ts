// The Rego engine adapter: bundle-style loading, decision paths, fail-closed evaluation results, and hot
// reload with atomic swap (a bad reload keeps the last good policy and reports why).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decisionRef, PolicyLoadError } from '../../ext-authz/src/policy/engine';
import type { ReloadEvent } from '../../ext-authz/src/policy/engine';
import { loadPolicyDir, readDataFile } from '../../ext-authz/src/policy/load-dir';
import { RegoPolicyEngine } from '../../ext-authz/src/policy/rego-engine';

const dirs: string[] = [];
function scratch(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'cbp-policy-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const POLICY = 'package callback\nimport rego.v1\n\ndecision := {"action": "deny", "reasons": [data.callback.cfg.reason]}\n';

describe('decision paths', () => {
  test.each([
    ['callback/decision', 'data.callback.decision'],
    ['envoy/authz/allow', 'data.envoy.authz.allow'],
    ['/envoy/authz/allow/', 'data.envoy.authz.allow'],
    ['data.callback.decision', 'data.callback.decision'],
    ['callback.decision', 'data.callback.decision'],
  ])('%s → %s', (path, ref) => expect(decisionRef(path)).toBe(ref));

  test.each(['', 'data', 'a/b c', 'a/1b', 'x["y"]'])('%j is rejected', (path) => {
    expect(() => decisionRef(path)).toThrow(PolicyLoadError);
  });
});

describe('loading a policy directory like an OPA bundle', () => {
  test('data files merge at their directory path; tests and other files are skipped', () => {
    const dir = scratch({
      'callback/decision.rego': POLICY,
      'callback/decision_test.rego': 'package callback_test\nimport rego.v1\ntest_x if true\n',
      'callback/cfg/data.json': '{"reason": "state_unknown"}',
      'data.yaml': 'top: 1\n',
      'README.md': 'not policy',
    });
    const src = loadPolicyDir(dir);
    expect(src.modules.map((m) => m.file)).toEqual(['callback/decision.rego']);
    expect(src.data).toEqual({ top: 1, callback: { cfg: { reason: 'state_unknown' } } });
    expect(loadPolicyDir(dir, { includeTests: true }).modules).toHaveLength(2);
    expect(src.revision).toMatch(/^[0-9a-f]{16}$/);
  });

  test('a .manifest revision wins; a data conflict is an error', () => {
    expect(loadPolicyDir(scratch({ 'p.rego': POLICY, '.manifest': '{"revision": "r42"}' })).revision).toBe('r42');
    const bad = scratch({ 'p.rego': POLICY, 'data.json': '{"a": {"b": 1}}', 'a/data.json': '{"b": 2}' });
    expect(() => loadPolicyDir(bad)).toThrow(expect.objectContaining({ code: 'policy_data_error' }));
  });

  test('missing directories and empty ones fail with codes', () => {
    expect(() => loadPolicyDir(join(tmpdir(), 'cbp-does-not-exist'))).toThrow(expect.objectContaining({ code: 'policy_dir_missing' }));
    expect(() => loadPolicyDir(scratch({ 'data.json': '{}' }))).toThrow(expect.objectContaining({ code: 'policy_empty' }));
  });
});

describe('evaluation fails closed with codes', () => {
  test('a value, undefined, a runtime error and a runaway policy', () => {
    const dir = scratch({
      'p.rego': [
        'package callback', 'import rego.v1',
        'decision := {"action": "allow"} if input.mode == "ok"',
        'decision := 1 if input.mode == "conflict"',
        'decision := 2 if input.mode == "conflict"',
        'decision := count([x | some x in numbers.range(1, 2000); some y in numbers.range(1, 2000); x < y]) if input.mode == "spin"',
      ].join('\n'),
    });
    const engine = new RegoPolicyEngine({ dir, maxSteps: 20_000 });
    expect(engine.decisionPath).toBe('data.callback.decision');
    expect(engine.evaluate({ mode: 'ok' })).toEqual({ ok: true, value: { action: 'allow' } });
    expect(engine.evaluate({ mode: 'none' })).toMatchObject({ ok: false, code: 'policy_undefined' });
    const conflict = engine.evaluate({ mode: 'conflict' });
    expect(conflict).toMatchObject({ ok: false, code: 'policy_error' });
    const spin = engine.evaluate({ mode: 'spin' });
    expect(spin).toMatchObject({ ok: false, code: 'policy_timeout' });
  });

  test('a wall-clock deadline also ends as policy_timeout', () => {
    const dir = scratch({ 'p.rego': 'package callback\nimport rego.v1\ndecision := count([x | some x in numbers.range(1, 3000000); x % 7 == 0])\n' });
    const engine = new RegoPolicyEngine({ dir, maxSteps: 1e12 });
    expect(engine.evaluate({}, { deadlineMs: 5 })).toMatchObject({ ok: false, code: 'policy_timeout' });
  });

  test('start-up with a broken policy throws a coded error', () => {
    const dir = scratch({ 'p.rego': 'package callback\ndecision := {' });
    expect(() => new RegoPolicyEngine({ dir })).toThrow(expect.objectContaining({ code: 'policy_parse_error' }));
  });

  test('the OPA-Envoy example runs unchanged with --data and --decision envoy/authz/allow', () => {
    const dir = join(__dirname, '..', '..', 'policies', 'examples', 'opa-envoy');
    const engine = new RegoPolicyEngine({ dir, decision: 'envoy/authz/allow', extraData: [readDataFile(join(dir, 'routes.json'))] });
    const input = (path: string[], q: Record<string, string[]>) => ({ attributes: { request: { http: { method: 'GET' } } }, parsed_path: path, parsed_query: q });
    expect(engine.evaluate(input(['saml', 'acs'], { code: ['c'], state: ['s'] }))).toEqual({ ok: true, value: true });
    expect(engine.evaluate(input(['oauth2', 'callback'], { code: ['c'] }))).toEqual({ ok: true, value: false });
  });
});

describe('hot reload', () => {
  const waitFor = async (cond: () => boolean, ms = 5000): Promise<void> => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('timed out waiting for reload');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  test('a good change swaps; a bad one keeps the last good policy and reports the error', async () => {
    const dir = scratch({ 'p.rego': POLICY, 'callback/cfg/data.json': '{"reason": "state_unknown"}' });
    const events: ReloadEvent[] = [];
    const engine = new RegoPolicyEngine({ dir, watch: true, debounceMs: 30, onReload: (e) => events.push(e) });
    try {
      const first = engine.revision;
      expect(engine.evaluate({})).toEqual({ ok: true, value: { action: 'deny', reasons: ['state_unknown'] } });

      writeFileSync(join(dir, 'callback/cfg/data.json'), '{"reason": "state_expired"}');
      await waitFor(() => events.length >= 1);
      expect(events[events.length - 1]).toMatchObject({ ok: true });
      expect(engine.revision).not.toBe(first);
      expect(engine.evaluate({})).toEqual({ ok: true, value: { action: 'deny', reasons: ['state_expired'] } });

      const good = engine.revision;
      const n = events.length;
      writeFileSync(join(dir, 'p.rego'), 'package callback\ndecision := {');
      await waitFor(() => events.length > n);
      expect(events[events.length - 1]).toMatchObject({ ok: false, code: 'policy_parse_error', keptRevision: good });
      expect(engine.revision).toBe(good);
      expect(engine.evaluate({})).toEqual({ ok: true, value: { action: 'deny', reasons: ['state_expired'] } });
    } finally {
      await engine.close();
    }
  });

  test('reload() can be called directly (SIGHUP, bundle download)', () => {
    const dir = scratch({ 'p.rego': POLICY, 'callback/cfg/data.json': '{"reason": "a"}' });
    const engine = new RegoPolicyEngine({ dir });
    writeFileSync(join(dir, 'callback/cfg/data.json'), '{"reason": "b"}');
    expect(engine.reload()).toMatchObject({ ok: true, files: 1 });
    expect(engine.evaluate({})).toMatchObject({ ok: true, value: { reasons: ['b'] } });
  });
});
