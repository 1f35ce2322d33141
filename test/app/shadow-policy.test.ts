// `--shadow-policy` through the real App: a candidate that disagrees on some requests (every deny it
// makes carries an extra field) runs beside the shipped callback policy. The answers are exactly those
// of the enforcing policy; each disagreement is counted (callback_proxy_shadow_comparisons_total) and
// written to the decision log with both revisions and the input masked; agreements are counted too. A
// shadow that fails on every request never denies anything.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startHarness, cb, ISS_NEW, httpRequest } from '../support/app-harness';
import type { Harness, Req } from '../support/app-harness';
import { App } from '../../ext-authz/src/app';
import { createLogger } from '../../ext-authz/src/telemetry/logger';

const ENFORCING = 'policies/callback';

function candidate(dir: string): string {
  const out = path.join(dir, 'candidate');
  fs.mkdirSync(out);
  for (const f of fs.readdirSync(ENFORCING).filter((n) => n.endsWith('.rego') && !n.endsWith('_test.rego'))) {
    let text = fs.readFileSync(path.join(ENFORCING, f), 'utf8');
    // The candidate marks the denies it builds: allows agree, denies differ.
    if (f === 'decision.rego') text = text.replace('denial(reasons) := {\n\t"action": "deny",', 'denial(reasons) := {\n\t"action": "deny",\n\t"candidate": true,');
    fs.writeFileSync(path.join(out, f), text);
  }
  expect(fs.readFileSync(path.join(out, 'decision.rego'), 'utf8')).toContain('"candidate": true');
  fs.writeFileSync(path.join(out, '.manifest'), '{"revision":"candidate-7"}');
  return out;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 20));
}

async function requests(h: Harness): Promise<{ allowed: boolean; backend: string | null; reason: string | null }[]> {
  const out = [];
  const s = await h.mint('new');
  const reqs: Req[] = [
    { path: cb({ code: 'c1', state: s, iss: ISS_NEW }) }, // allowed by the policy
    { path: cb({ code: 'c2', state: 'forged-state-value', iss: ISS_NEW }) }, // denied by the policy
    { path: cb({ code: 'c3' }) }, // denied by the policy
    { path: '/login' },
  ];
  for (const r of reqs) {
    const a = await h.ask('grpc', r);
    out.push({ allowed: a.allowed, backend: a.backend, reason: a.reason });
  }
  return out;
}

describe('--shadow-policy', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-shadow-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('differences are counted and logged (masked, both revisions); enforcement is unchanged', async () => {
    const plain = await startHarness({ policyDir: ENFORCING });
    let expected;
    try {
      expected = await requests(plain);
    } finally {
      await plain.close();
    }
    const h = await startHarness({ policyDir: ENFORCING, shadowPolicy: candidate(dir) });
    try {
      expect(h.app.current!.engine.kind).toBe('shadow(rego,rego)');
      const got = await requests(h);
      expect(got).toEqual(expected);
      expect(got.filter((a) => !a.allowed).length).toBeGreaterThanOrEqual(2);
      await settle();

      const denied = got.filter((a) => !a.allowed).length;
      const allowed = got.length - denied;
      const metrics = (await httpRequest(h.adminPort, 'GET', '/metrics', {})).body;
      expect(metrics).toContain(`callback_proxy_shadow_comparisons_total{result="mismatch"} ${denied}`);
      expect(metrics).toContain(`callback_proxy_shadow_comparisons_total{result="match"} ${allowed}`);

      const lines = h.decisionLines.map((l) => JSON.parse(l) as Record<string, any>);
      const shadowEvents = lines.filter((e) => e.shadow !== undefined);
      expect(shadowEvents).toHaveLength(denied);
      const decisionIds = new Set(lines.filter((e) => e.shadow === undefined).map((e) => e.decision_id));
      for (const e of shadowEvents) {
        expect(decisionIds.has(e.decision_id)).toBe(true); // tied to the enforced decision's event
        expect(e.shadow.revision).toBe('candidate-7');
        expect(e.shadow.enforcing_revision).toBe(h.app.current!.engine.revision);
        expect(e.shadow.result.candidate).toBe(true);
        expect(e.result.candidate).toBeUndefined();
        expect(e.result.action).toBe('deny');
        // Masked like every event: query values never appear.
        expect(JSON.stringify(e)).not.toContain('forged-state-value');
        expect(e.masked).toContain('/input/parsed_query');
      }
      // The log line names the decision and the revisions, no values.
      const log = h.logs.join('');
      expect(log).toContain('"event":"shadow_mismatch"');
      expect(log).toContain('"shadow_revision":"candidate-7"');
      expect(log).not.toContain('forged-state-value');
    } finally {
      await h.close();
    }
  });

  test('a shadow that fails on every request never denies anything', async () => {
    const broken = path.join(dir, 'broken');
    fs.mkdirSync(broken);
    // Two complete definitions with different values: an evaluation conflict (policy_error) every time.
    fs.writeFileSync(path.join(broken, 'p.rego'), 'package callback\n\nimport rego.v1\n\ndecision := 1 if true\n\ndecision := 2 if true\n');
    const h = await startHarness({ policyDir: ENFORCING, shadowPolicy: broken });
    try {
      const s = await h.mint('new');
      expect(await h.ask('grpc', { path: cb({ code: 'z', state: s, iss: ISS_NEW }) })).toMatchObject({ allowed: true, backend: 'new' });
      await settle();
      const metrics = (await httpRequest(h.adminPort, 'GET', '/metrics', {})).body;
      expect(metrics).toContain('callback_proxy_shadow_comparisons_total{result="mismatch"} 1');
      const ev = h.decisionLines.map((l) => JSON.parse(l) as Record<string, any>).find((e) => e.shadow !== undefined);
      expect(ev?.shadow.result).toEqual({ error: 'policy_error' });
    } finally {
      await h.close();
    }
  });

  test('a shadow policy that does not load stops start-up, naming the flag', async () => {
    const app = new App({ grpcAddr: '127.0.0.1:0', httpAddr: '127.0.0.1:0', graceMs: 0, logger: createLogger({ level: 'silent' }), watch: false, policyDir: ENFORCING, shadowPolicy: path.join(dir, 'missing') });
    try {
      await app.listen();
      await expect(app.load()).rejects.toThrow(/^--shadow-policy .*missing: policy path .*missing does not exist$/);
    } finally {
      await app.stop();
    }
  });
});
