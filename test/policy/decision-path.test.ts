// The decision path must exist in the policy at load (policy/rego-engine.ts): a rule, a package of rules,
// a document inside a rule's value or a base document from data files. Otherwise loading fails with
// decision_path_undefined naming the path and the nearest rules — at start (serve exits 2) and on
// reload (the last good policy stays).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PolicyLoadError } from '../../ext-authz/src/policy/engine';
import { decisionPathDefined, RegoPolicyEngine } from '../../ext-authz/src/policy/rego-engine';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-dp-'));
  fs.writeFileSync(path.join(dir, 'authz.rego'), 'package envoy.authz\n\nallow if input.ok\n\nreasons contains "x" if true\n\ntest_allow if allow with input as {"ok": true}\n');
  fs.mkdirSync(path.join(dir, 'cfg'));
  fs.writeFileSync(path.join(dir, 'cfg', 'data.json'), '{"limits": {"max": 3}}');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test.each([
  ['envoy/authz/allow', true],
  ['envoy/authz', true],
  ['data.envoy', true],
  ['envoy/authz/allow/deeper', true],
  ['cfg/limits/max', true],
  ['cfg/limits', true],
  ['cfg/limits/min', false],
  ['envoy/authz/deny', false],
  ['other/x', false],
])('%s defined: %s', (p, ok) => {
  const load = (): RegoPolicyEngine => new RegoPolicyEngine({ dir, decision: p });
  if (ok) expect(() => load()).not.toThrow();
  else expect(() => load()).toThrow(PolicyLoadError);
});

test('the error names the path and the rules of its package, never test rules', () => {
  let err: PolicyLoadError | undefined;
  try {
    new RegoPolicyEngine({ dir, decision: 'envoy/authz/deny' });
  } catch (e) {
    err = e as PolicyLoadError;
  }
  expect(err?.code).toBe('decision_path_undefined');
  expect(err?.message).toBe(`decision path data.envoy.authz.deny is not defined by the policy in ${dir}; rules under data.envoy.authz: data.envoy.authz.allow, data.envoy.authz.reasons`);
});

test('a reload that removes the decision rule fails and keeps the last good policy', () => {
  const engine = new RegoPolicyEngine({ dir, decision: 'envoy/authz/allow' });
  fs.writeFileSync(path.join(dir, 'authz.rego'), 'package envoy.authz\n\npermit if input.ok\n');
  const ev = engine.reload();
  expect(ev).toMatchObject({ ok: false, code: 'decision_path_undefined' });
  expect(engine.evaluate({ ok: true })).toEqual({ ok: true, value: true });
});

test('decisionPathDefined over plain names and data', () => {
  expect(decisionPathDefined('data.a.b', ['data.a.b'], {})).toBe(true);
  expect(decisionPathDefined('data.a', ['data.a.b'], {})).toBe(true);
  expect(decisionPathDefined('data.a.b.c', ['data.a.b'], {})).toBe(true);
  expect(decisionPathDefined('data.a.bc', ['data.a.b'], {})).toBe(false);
  expect(decisionPathDefined('data.x.y', [], { x: { y: 0 } })).toBe(true);
  expect(decisionPathDefined('data.x.y.z', [], { x: { y: 0 } })).toBe(false);
  expect(decisionPathDefined('data.x.toString', [], { x: {} })).toBe(false);
});
