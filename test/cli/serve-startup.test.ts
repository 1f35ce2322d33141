// `serve` refuses to start on input it cannot honour, with exit 2 and a message naming the problem:
// a decision path the policy does not define (naming the rules that exist), a bad CALLBACK_PROXY_*
// value (naming the variable). An unknown CALLBACK_PROXY_* variable is reported but does not stop it.
import { runCliAsync, spawnCli } from './run-cli';

jest.setTimeout(90_000);

const PORTS = ['--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', '--admin-addr', '127.0.0.1:0'];

function run(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawnCli(['serve', ...PORTS, ...args], env);
    let stderr = '';
    child.stderr.on('data', (c) => {
      stderr += String(c);
      // Started after all (the unknown-variable case): stop it.
      if (stderr.includes('callback-proxy ready:')) child.kill('SIGTERM');
    });
    child.on('exit', (status) => resolve({ status, stderr }));
  });
}

test('a decision path the policy does not define: exit 2, naming the path and the rules that exist', async () => {
  const r = await run(['--decision', 'callback/decison']);
  expect(r.status).toBe(2);
  expect(r.stderr).toContain('decision_path_undefined: decision path data.callback.decison is not defined by the policy in policies/callback');
  expect(r.stderr).toMatch(/rules under data\.callback: .*data\.callback\.decision\b/);
  expect(r.stderr).not.toContain('callback-proxy ready');
});

test('a bad CALLBACK_PROXY_* value: exit 2, naming the variable', async () => {
  const r = await run([], { CALLBACK_PROXY_GRACE_MS: 'soon' });
  expect(r.status).toBe(2);
  expect(r.stderr).toContain('callback-proxy: CALLBACK_PROXY_GRACE_MS: expected an integer between 0 and 25000');
});

test('an unknown CALLBACK_PROXY_* variable is reported at start; the service still starts', async () => {
  const r = await run([], { CALLBACK_PROXY_GRPC_ADRESS: '0.0.0.0:9191' });
  expect(r.stderr).toContain('warning: ignoring unknown variable(s) CALLBACK_PROXY_GRPC_ADRESS');
  expect(r.stderr).toContain('callback-proxy ready:');
  expect(r.status).toBe(0);
});

test('serve --help names the variables', async () => {
  const r = await runCliAsync(['serve', '--help']);
  expect(r.status).toBe(0);
  expect(r.stdout.replace(/\s+/g, ' ')).toContain('env: CALLBACK_PROXY_ADMIN_ADDR');
  expect(r.stdout).toContain('OTEL_EXPORTER_OTLP_ENDPOINT');
});
