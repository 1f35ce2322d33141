// The CLI surface: --help everywhere, config validate naming the field, check's decision JSON and exit
// codes, usage errors exit 2.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './run-cli';

jest.setTimeout(120_000);

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-cli-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('--help works on every command', () => {
  for (const args of [['--help'], ['serve', '--help'], ['check', '--help'], ['config', 'validate', '--help'], ['pins', 'mint', '--help']]) {
    const r = runCli(args);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: callback-proxy');
  }
  expect(runCli(['check', '--help']).stdout).toContain('Exit codes: 0 allow or rewrite; 1 deny; 2 ');
});

test('unknown commands and missing options exit 2', () => {
  expect(runCli(['frobnicate']).status).toBe(2);
  const r = runCli(['pins', 'mint', '--backend', 'new']);
  expect(r.status).toBe(2);
  expect(r.stderr).toContain('--connection');
});

test('config validate: exit 1 naming the file and field', () => {
  const bad = path.join(dir, 'bad.yaml');
  fs.writeFileSync(bad, 'version: 1\nconnections: []\nissuers: []\n');
  const r = runCli(['config', 'validate', bad]);
  expect(r.status).toBe(1);
  expect(r.stderr).toContain(`${bad}: connections`);
  // A file that cannot be read is an input error (2), not an invalid registry (1).
  const missing = runCli(['config', 'validate', path.join(dir, 'nope.yaml')]);
  expect(missing.status).toBe(2);
  expect(missing.stderr).toContain('nope.yaml');
});

test('check: a CheckRequest in protojson → decision JSON; deny exits 1 and echoes no request value', () => {
  const req = {
    attributes: {
      source: { address: { socket_address: { address: '203.0.113.9', port_value: 1234 } } },
      request: {
        time: '2026-11-28T12:00:00.5Z',
        http: { method: 'GET', host: 'auth.example.com', path: '/oauth2/callback?code=CANARYCODE123&state=CANARYSTATE', headers: { ':authority': 'auth.example.com' } },
      },
    },
  };
  const f = path.join(dir, 'req.json');
  fs.writeFileSync(f, JSON.stringify(req));
  const r = runCli(['check', f]);
  expect(r.status).toBe(1);
  const out = JSON.parse(r.stdout);
  expect(out).toMatchObject({ action: 'deny', backend: null, reasons: ['state_unknown'] });
  expect(out.check_response.status.code).toBe(7);
  expect(r.stdout).not.toContain('CANARYCODE123');
  expect(r.stdout).not.toContain('CANARYSTATE');
});

test('check: stdin input, and unreadable JSON exits 2 naming the file', () => {
  const r = runCli(['check', '-'], JSON.stringify({ attributes: { request: { http: { method: 'GET', host: 'evil.example.com', path: '/oauth2/callback' } } } }));
  expect(r.status).toBe(1);
  expect(JSON.parse(r.stdout).reasons).toEqual(['host_not_allowed']);
  const f = path.join(dir, 'broken.json');
  fs.writeFileSync(f, '{nope');
  const b = runCli(['check', f]);
  expect(b.status).toBe(2);
  expect(b.stderr).toContain('broken.json: not valid JSON');
});

test('serve: a bad policy directory or registry file fails start-up with exit 2, naming it', () => {
  const r = runCli(['serve', '--policy', path.join(dir, 'no-policies'), '--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0']);
  expect(r.status).toBe(2);
  expect(r.stderr).toContain('start-up failed: policy_dir_missing');
  expect(r.stderr).toContain('no-policies');
  const reg = path.join(dir, 'reg.yaml');
  fs.writeFileSync(reg, 'version: 2\n');
  const c = runCli(['serve', '--config', reg, '--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0']);
  expect(c.status).toBe(2);
  expect(c.stderr).toContain(`${reg}: version`);
  expect(runCli(['serve', '--tls-cert', 'x.pem']).status).toBe(2);
});
