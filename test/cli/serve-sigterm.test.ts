// `callback-proxy serve` as a child process: the demo warning and addresses on start, then SIGTERM →
// readiness 503 "draining" during the grace period → exit 0 well within 30 s.
import { spawnCli, runCliAsync } from './run-cli';
import { httpRequest } from '../support/app-harness';

jest.setTimeout(90_000);

test('serve drains on SIGTERM and exits 0', async () => {
  const child = spawnCli(['serve', '--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', '--grace-ms', '1500', '--log-level', 'info']);
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (c) => (stdout += String(c)));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  try {
    const ports = await new Promise<{ grpc: number; http: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not become ready:\n${stderr}`)), 60_000);
      child.stderr.on('data', (c) => {
        stderr += String(c);
        const m = /callback-proxy ready: grpc=127\.0\.0\.1:(\d+) http=127\.0\.0\.1:(\d+)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve({ grpc: Number(m[1]), http: Number(m[2]) });
        }
      });
    });
    expect(stderr).toContain('WARNING: callback-proxy is running the EMBEDDED DEMO SETUP');
    expect(stderr).toContain('the admin token (role approver: stage changes) is the published demo token "demo-admin-token-not-for-production"');
    expect((await httpRequest(ports.http, 'GET', '/readyz', {})).status).toBe(200);
    // `pins mint` against the running demo needs no setup; the state is its last line.
    const mint = await runCliAsync(['pins', 'mint', '--connection', 'demo', '--backend', 'legacy', '--server', `http://127.0.0.1:${ports.http}`]);
    expect(mint.status).toBe(0);
    const state = mint.stdout.trim().split('\n').pop() as string;
    const path = `/oauth2/callback?code=cli-c1&state=${encodeURIComponent(state)}&iss=${encodeURIComponent('https://legacy-idp.example.com')}`;
    const ok = await httpRequest(ports.http, 'GET', `/envoy/authz${path}`, { host: 'auth.example.com' });
    expect(ok.status).toBe(200);
    expect(ok.headers['x-callback-backend']).toBe('legacy');
    const t0 = Date.now();
    child.kill('SIGTERM');
    // The grace period: still answering, but not ready.
    let sawDraining = false;
    for (let i = 0; i < 20 && !sawDraining; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const r = await httpRequest(ports.http, 'GET', '/readyz', {}).catch(() => null);
      if (r && r.status === 503 && r.body === 'draining\n') sawDraining = true;
    }
    expect(sawDraining).toBe(true);
    const { code } = await exited;
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(stdout).toContain('"event":"draining"');
    expect(stdout).toContain('"event":"stopped"');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
