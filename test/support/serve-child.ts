// `callback-proxy serve` as a child process for tests that need the real process: OTLP export (the
// OpenTelemetry HTTP exporters load node:http with a dynamic import(), which jest's module sandbox
// cannot run), readiness over the CLI, and the Prometheus end-to-end suite. Listens on free loopback
// ports, reports them from the ready line, and stops with SIGTERM (the drain flushes telemetry).
import { spawnCli } from '../cli/run-cli';

export interface ServeChild {
  /** The serve process (with --workers: the cluster primary). */
  pid: number;
  grpcPort: number;
  httpPort: number;
  adminPort: number;
  stdout: () => string;
  stderr: () => string;
  /** SIGTERM, then the exit code (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<number | null>;
}

export async function startServe(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<ServeChild> {
  const child = spawnCli(['serve', '--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', '--admin-addr', '127.0.0.1:0', '--grace-ms', '0', ...args], env);
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += String(c)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ports = await new Promise<{ grpc: number; http: number; admin: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not become ready within ${timeoutMs} ms:\n${err}`)), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${code} before it was ready:\n${err}`));
    });
    child.stderr.on('data', (c) => {
      err += String(c);
      const m = /callback-proxy ready: grpc=\S+:(\d+) http=\S+:(\d+) admin=\S+:(\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ grpc: Number(m[1]), http: Number(m[2]), admin: Number(m[3]) });
      }
    });
  }).catch(async (e) => {
    child.kill('SIGKILL');
    throw e;
  });
  return {
    pid: child.pid as number,
    grpcPort: ports.grpc,
    httpPort: ports.http,
    adminPort: ports.admin,
    stdout: () => out,
    stderr: () => err,
    stop: async (ms = 20_000) => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
