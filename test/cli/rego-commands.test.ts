// `rego eval`, `rego conformance` and `policy test` through the real CLI: values, undefined, coded errors,
// exit codes and the closing `N passed, M failed` line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, ROOT } from './run-cli';

function tmpDir(files: Record<string, string>): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'rego-cli-'));
  for (const [f, t] of Object.entries(files)) fs.writeFileSync(path.join(d, f), t);
  return d;
}

describe('rego eval', () => {
  const d = tmpDir({
    'p.rego': 'package t\nimport rego.v1\n\nallow if input.user == data.admin\nnames contains n if some n in input.xs\n',
    'data.json': JSON.stringify({ admin: 'alice' }),
    'input.json': JSON.stringify({ user: 'alice', xs: ['b', 'a', 'b'] }),
  });

  it('prints the value as JSON (sets sorted), reading data files in a directory', () => {
    const r = runCli(['rego', 'eval', '-d', d, '-i', path.join(d, 'input.json'), 'data.t']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ allow: true, names: ['a', 'b'] });
  });

  it('prints {} for undefined', () => {
    const r = runCli(['rego', 'eval', '-d', path.join(d, 'p.rego'), 'data.t.allow']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({});
  });

  it('reports a coded error with its location and exits 1', () => {
    const bad = tmpDir({ 'bad.rego': 'package t\nimport rego.v1\n\np if { x }\n' });
    const r = runCli(['rego', 'eval', '-d', bad, 'data.t.p']);
    expect(r.status).toBe(1);
    const err = JSON.parse(r.stderr).errors[0];
    expect(err.code).toBe('rego_unsafe_var_error');
    expect(err.location.row).toBe(4);
  });
});

describe('rego conformance', () => {
  it('runs a case directory and closes with "N passed, M failed"', () => {
    const d = tmpDir({
      'mini.json': JSON.stringify({
        cases: [
          { note: 'ok/one', modules: ['package t\nimport rego.v1\np := 1\n'], query: 'data.t.p', want: 1 },
          { note: 'bad/two', modules: ['package t\nimport rego.v1\np := 1\n'], query: 'data.t.p', want: 2 },
        ],
      }),
    });
    const r = runCli(['rego', 'conformance', d]);
    expect(r.stdout.trim().split('\n').pop()).toBe('1 passed, 1 failed');
    expect(r.stdout).toContain('FAIL mini bad/two');
    expect(r.status).toBe(1);
    fs.writeFileSync(path.join(d, 'gaps.yaml'), 'gaps:\n  - note: bad/two\n    reason: a test\n');
    const known = runCli(['rego', 'conformance', d, '--known-gaps', path.join(d, 'gaps.yaml')]);
    expect(known.stdout).toContain('FAIL mini bad/two (known gap: a test)');
    expect(known.status).toBe(0);
  });
});

describe('policy test', () => {
  it('runs the shipped policy tests: every test_ rule passes', () => {
    const r = runCli(['policy', 'test', path.join(ROOT, 'policies')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\d+ passed, 0 failed$/m);
  });

  it('reports a failing test and exits 1', () => {
    const d = tmpDir({ 'x_test.rego': 'package x_test\nimport rego.v1\n\ntest_ok if true\ntest_bad if 1 == 2\n' });
    const r = runCli(['policy', 'test', d]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('data.x_test.test_bad: FAIL');
    expect(r.stdout.trim().split('\n').pop()).toBe('1 passed, 1 failed');
  });
});
