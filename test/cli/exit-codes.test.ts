// Exit codes, command by command, through the real CLI (docs/operations.md, "Exit codes"): 0 ok, 1 the
// check ran and the answer is no, 2 bad usage, an unreadable input or a failed start-up. Every command's
// --help states its codes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCliAsync, ROOT } from './run-cli';
import type { CliEnv } from './run-cli';
import { startHarness } from '../support/app-harness';
import type { Harness } from '../support/app-harness';

jest.setTimeout(300_000);

interface Row {
  name: string;
  args: string[];
  code: 0 | 1 | 2;
  /** Text the output (stdout + stderr) must contain. */
  says?: string;
  env?: CliEnv;
}

let dir: string;
let h: Harness;
const f = (name: string): string => path.join(dir, name);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-exit-'));
  const files: Record<string, string> = {
    'allow.json': JSON.stringify({ attributes: { request: { http: { method: 'GET', host: 'auth.example.com', path: '/login?client_id=demo-client' } } } }),
    'deny.json': JSON.stringify({ attributes: { request: { http: { method: 'GET', host: 'evil.example.com', path: '/oauth2/callback' } } } }),
    'broken.json': '{nope',
    'invalid-registry.yaml': 'version: 1\nconnections: []\n',
    'p.rego': 'package t\n\nanswer := 42\n',
    'bad.rego': 'package t\n\np if { x }\n',
    'pass/x_test.rego': 'package x_test\n\ntest_ok if true\n',
    'fail/x_test.rego': 'package x_test\n\ntest_bad if 1 == 2\n',
    'uncompilable/x_test.rego': 'package x_test\n\ntest_bad if { y }\n',
    'no-tests/p.rego': 'package p\n\nq := 1\n',
    'cases-pass/t.json': JSON.stringify({ cases: [{ note: 'ok/one', modules: ['package t\np := 1\n'], query: 'data.t.p', want: 1 }] }),
    'cases-fail/t.json': JSON.stringify({ cases: [{ note: 'bad/one', modules: ['package t\np := 1\n'], query: 'data.t.p', want: 2 }] }),
    'fail-open.yaml': fs.readFileSync(path.join(ROOT, 'envoy', 'envoy.yaml'), 'utf8').replace('failure_mode_allow: false', 'failure_mode_allow: true'),
    'existing.keys.yaml': 'already here\n',
  };
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(f(name)), { recursive: true });
    fs.writeFileSync(f(name), text);
  }
  // A valid registry: the shipped example and a key file made for it.
  fs.copyFileSync(path.join(ROOT, 'ext-authz', 'config', 'registry.example.yaml'), f('registry.yaml'));
  const made = await runCliAsync(['keys', 'generate', f('registry.yaml')]);
  expect(made.status).toBe(0);
  h = await startHarness({});
});

afterAll(async () => {
  await h?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function rows(): Row[] {
  const server = `http://127.0.0.1:${h.httpPort}`;
  return [
    { name: 'unknown command', args: ['frobnicate'], code: 2 },
    { name: 'serve: a log level pino does not have names the valid ones', args: ['serve', '--log-level', 'loud'], code: 2, says: 'Allowed choices are fatal, error, warn, info, debug, trace, silent' },
    { name: 'serve: the same from $LOG_LEVEL', args: ['serve', '--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0'], env: { LOG_LEVEL: 'loud' }, code: 2, says: 'LOG_LEVEL: unknown log level "loud"; expected one of fatal, error, warn, info, debug, trace, silent' },
    { name: 'serve: a missing policy directory fails start-up', args: ['serve', '--policy', f('nope'), '--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0'], code: 2, says: 'policy_dir_missing' },
    { name: 'check: allow or rewrite (a login start, routed by its canary cohort)', args: ['check', f('allow.json')], code: 0, says: 'canary_cohort' },
    { name: 'check: deny', args: ['check', f('deny.json')], code: 1, says: 'host_not_allowed' },
    { name: 'check: a missing file', args: ['check', f('nope.json')], code: 2, says: 'cannot read' },
    { name: 'check: not JSON', args: ['check', f('broken.json')], code: 2, says: 'not valid JSON' },
    { name: 'config validate: valid', args: ['config', 'validate', f('registry.yaml')], code: 0, says: ': ok (2 connection(s)' },
    { name: 'config validate: invalid', args: ['config', 'validate', f('invalid-registry.yaml')], code: 1, says: 'connections' },
    { name: 'config validate: a missing file', args: ['config', 'validate', f('nope.yaml')], code: 2, says: 'cannot read (ENOENT)' },
    { name: 'pins mint: minted', args: ['pins', 'mint', '--server', server, '--connection', 'demo', '--backend', 'new'], code: 0 },
    { name: 'pins mint: refused (wrong token)', args: ['pins', 'mint', '--server', server, '--connection', 'demo', '--backend', 'new', '--token', 'not-the-token-0123456789'], code: 1, says: 'the Pin API refused: unauthenticated' },
    { name: 'pins mint: nobody listening', args: ['pins', 'mint', '--server', 'http://127.0.0.1:1', '--connection', 'demo', '--backend', 'new'], code: 2, says: 'cannot reach' },
    { name: 'pins mint: a missing option', args: ['pins', 'mint', '--backend', 'new'], code: 2, says: '--connection' },
    { name: 'keys generate: to stdout', args: ['keys', 'generate', '--connection', 'c=l,n'], code: 0, says: 'pin_api_token' },
    { name: 'keys generate: nothing to make keys for', args: ['keys', 'generate'], code: 2, says: 'name a registry' },
    { name: 'keys generate: the output exists', args: ['keys', 'generate', '--connection', 'c=l,n', '--out', f('existing.keys.yaml')], code: 2, says: '--force replaces it' },
    { name: 'keys generate: an unreadable registry', args: ['keys', 'generate', f('nope.yaml')], code: 2, says: 'cannot read' },
    { name: 'rego eval: a value', args: ['rego', 'eval', '-d', f('p.rego'), 'data.t.answer'], code: 0, says: '42' },
    { name: 'rego eval: an error in the query', args: ['rego', 'eval', '-d', f('bad.rego'), 'data.t.p'], code: 1, says: 'rego_unsafe_var_error' },
    { name: 'rego eval: a missing data path', args: ['rego', 'eval', '-d', f('nope.rego'), 'data.t.p'], code: 2, says: 'no such file or directory' },
    { name: 'rego conformance: all pass', args: ['rego', 'conformance', f('cases-pass')], code: 0, says: '1 passed, 0 failed' },
    { name: 'rego conformance: a failure', args: ['rego', 'conformance', f('cases-fail')], code: 1, says: '0 passed, 1 failed' },
    { name: 'rego conformance: not a directory', args: ['rego', 'conformance', f('nope')], code: 2, says: 'not a directory' },
    { name: 'policy test: all pass', args: ['policy', 'test', f('pass')], code: 0, says: '1 passed, 0 failed' },
    { name: 'policy test: a failing test', args: ['policy', 'test', f('fail')], code: 1, says: '0 passed, 1 failed' },
    { name: 'policy test: a policy that does not compile', args: ['policy', 'test', f('uncompilable')], code: 1, says: 'rego_unsafe_var_error' },
    { name: 'policy test: no test_ rules', args: ['policy', 'test', f('no-tests')], code: 2, says: 'no test_ rules found' },
    { name: 'policy test: a missing directory', args: ['policy', 'test', f('nope')], code: 2 },
    { name: 'envoy lint: clean', args: ['envoy', 'lint', path.join(ROOT, 'envoy', 'envoy.yaml')], code: 0, says: ': ok' },
    { name: 'envoy lint: findings', args: ['envoy', 'lint', f('fail-open.yaml')], code: 1, says: 'ext_authz_fail_open' },
    { name: 'envoy lint: a missing file', args: ['envoy', 'lint', f('nope.yaml')], code: 2, says: 'no such file' },
    { name: 'envoy render: rendered', args: ['envoy', 'render'], code: 0, says: 'static_resources' },
    { name: 'envoy render: a bad port', args: ['envoy', 'render', '--port', 'x'], code: 2, says: '--port' },
    { name: 'envoy render: an invalid registry', args: ['envoy', 'render', '--config', f('invalid-registry.yaml')], code: 2, says: 'connections' },
  ];
}

/** Runs the rows two at a time (the CLI is a child process each). */
async function runAll(all: Row[]): Promise<{ row: Row; status: number | null; out: string }[]> {
  const results: { row: Row; status: number | null; out: string }[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < all.length) {
      const row = all[next++];
      const r = await runCliAsync(row.args, row.env);
      results.push({ row, status: r.status, out: r.stdout + r.stderr });
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

test('every command exits 0 / 1 / 2 as documented', async () => {
  const results = await runAll(rows());
  const wrong = results
    .filter(({ row, status, out }) => status !== row.code || (row.says !== undefined && !out.includes(row.says)))
    .map(({ row, status, out }) => `${row.name}: exit ${status} (want ${row.code})${row.says && !out.includes(row.says) ? `, output lacks ${JSON.stringify(row.says)}` : ''}\n${out.slice(0, 600)}`);
  expect(wrong).toEqual([]);
});

test('every command states its exit codes in --help', async () => {
  const commands = [
    [], ['serve'], ['check'], ['config', 'validate'], ['pins', 'mint'], ['keys', 'generate'], ['rego', 'eval'], ['rego', 'conformance'],
    ['policy', 'test'], ['envoy', 'lint'], ['envoy', 'render'],
  ];
  const results = await runAll(commands.map((c) => ({ name: c.join(' ') || '(root)', args: [...c, '--help'], code: 0, says: 'Exit codes' })));
  const wrong = results.filter(({ row, status, out }) => status !== 0 || !out.includes('Exit codes') || !out.includes('Usage: callback-proxy')).map(({ row }) => row.name);
  expect(wrong).toEqual([]);
});
