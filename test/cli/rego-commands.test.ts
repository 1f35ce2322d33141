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

describe('rego eval --format json: opa eval --format json\'s result shape', () => {
  const d = tmpDir({
    // No `import rego.v1`: read as v1, as OPA 1.x does.
    'p.rego': 'package t\n\np := [1, 2, 3]\nq contains x if some x in p\nf(x) := x * 10\n',
    'input.json': JSON.stringify({ n: 2 }),
  });
  const json = (query: string, extra: string[] = []) => {
    const r = runCli(['rego', 'eval', '--format', 'json', '-d', d, ...extra, query]);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    return JSON.parse(r.stdout);
  };

  it('one expression: its value, source text and location; no bindings key when nothing is bound', () => {
    expect(json('data.t.p')).toEqual({ result: [{ expressions: [{ value: [1, 2, 3], text: 'data.t.p', location: { row: 1, col: 1 } }] }] });
    expect(json('data.t.f(input.n)', ['-i', path.join(d, 'input.json')])).toEqual({ result: [{ expressions: [{ value: 20, text: 'data.t.f(input.n)', location: { row: 1, col: 1 } }] }] });
  });

  it('several expressions: assignments are true, bindings hold the variables, one row per solution', () => {
    expect(json('x := 1; y := x + 1')).toEqual({
      result: [{
        expressions: [
          { value: true, text: 'x := 1', location: { row: 1, col: 1 } },
          { value: true, text: 'y := x + 1', location: { row: 1, col: 9 } },
        ],
        bindings: { x: 1, y: 2 },
      }],
    });
    const rows = json('data.t.p[i] > 1\ncount(data.t.q)').result;
    expect(rows.map((r: any) => r.bindings)).toEqual([{ i: 1 }, { i: 2 }]);
    expect(rows[0].expressions).toEqual([
      { value: true, text: 'data.t.p[i] > 1', location: { row: 1, col: 1 } },
      { value: 3, text: 'count(data.t.q)', location: { row: 2, col: 1 } },
    ]);
  });

  it('undefined (and a false expression) print {}', () => {
    expect(json('data.t.nope')).toEqual({});
    expect(json('data.t.p[0] == 2')).toEqual({});
  });

  it('rejects an unknown format, naming the flag', () => {
    const r = runCli(['rego', 'eval', '--format', 'yaml', '-d', d, 'data.t.p']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--format: expected value or json');
  });
});

describe('Rego v1 by default, --v0-compatible for v0 modules (as OPA 1.x)', () => {
  const v0 = tmpDir({ 'v0.rego': 'package t\n\ndefault allow = false\nallow { input.ok }\nxs[x] { x := input.xs[_] }\n' });
  const v0test = tmpDir({ 'v0_test.rego': 'package t\n\ntest_one { 1 == 1 }\n' });

  it('rego eval: a v0 module is a parse error without the flag and evaluates with it', () => {
    const plain = runCli(['rego', 'eval', '-d', v0, 'data.t.allow']);
    expect(plain.status).toBe(1);
    expect(JSON.parse(plain.stderr).errors[0]).toMatchObject({ code: 'rego_parse_error', message: '`if` keyword is required before rule body' });
    const ok = runCli(['rego', 'eval', '--v0-compatible', '-d', v0, 'data.t.allow']);
    expect([ok.status, JSON.parse(ok.stdout)]).toEqual([0, false]);
  });

  it('policy test: the same', () => {
    expect(runCli(['policy', 'test', v0test]).status).toBe(1);
    const ok = runCli(['policy', 'test', '--v0-compatible', v0test]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('1 passed, 0 failed');
  });

  it('check and serve refuse a v0 policy without the flag, naming the file', () => {
    const req = JSON.stringify({ attributes: { request: { http: { method: 'GET', path: '/', host: 'auth.example.com' } } } });
    const r = runCli(['check', '--policy', v0, '--decision', 't/allow', '-'], req);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('v0.rego');
    expect(r.stderr).toContain('`if` keyword is required');
    const ok = runCli(['check', '--v0-compatible', '--policy', v0, '--decision', 't/allow', '-'], req);
    expect(ok.status).toBe(1); // evaluated: the policy denied
    expect(JSON.parse(ok.stdout).reasons).toEqual(['opa_envoy_denied']);
  });

  it('every shipped policy parses as v1', () => {
    const r = runCli(['policy', 'test', path.join(ROOT, 'policies')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\d+ passed, 0 failed/);
  });
});
