// Runs every `test_*` rule under policies/ (the callback policy and the examples) with the real Rego
// engine, as `callback-proxy policy test policies/` does: each must evaluate to true.
import { join } from 'node:path';
import { compilePolicy } from '../../ext-authz/src/rego/engine';
import { loadPolicyDir } from '../../ext-authz/src/policy/load-dir';

const root = join(__dirname, '..', '..', 'policies');
const src = loadPolicyDir(root, { includeTests: true });
const policy = compilePolicy(src.modules, { data: src.data });
const tests = policy.listTests();

describe('policies/ Rego tests', () => {
  test('there are tests for the callback policy and the OPA-Envoy example', () => {
    expect(tests.filter((t) => t.pkg === 'callback_test').length).toBeGreaterThan(80);
    expect(tests.filter((t) => t.pkg === 'envoy.authz_test').length).toBeGreaterThan(3);
  });

  test.each(tests.map((t) => [t.query, t] as const))('%s', (_q, t) => {
    const r = policy.prepare(t.query).evaluate(undefined, { maxSteps: 1_000_000 });
    expect(r).toEqual({ defined: true, value: true });
  });
});
