// Runs the real CLI in a child process exactly as it ships: `node bin/callback-proxy.cjs …`, which runs
// the compiled dist/ in that one process (so signals reach `serve`). jest's global setup
// (test/support/global-build.cjs) builds dist/ from the current sources before any test runs.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams, SpawnSyncReturns } from 'node:child_process';
import * as path from 'node:path';

export const ROOT = path.join(__dirname, '..', '..');
export const BIN = path.join(ROOT, 'bin', 'callback-proxy.cjs');

/** Extra environment variables for the child (added to this process's). */
export type CliEnv = Record<string, string>;

export function runCli(args: string[], input?: string, env?: CliEnv): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', input, timeout: 60_000, env: { ...process.env, ...env } });
}

export function spawnCli(args: string[], env?: CliEnv): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: 'pipe', env: { ...process.env, ...env } });
}

/** Like runCli, without blocking the event loop (the caller may be serving or polling meanwhile). */
export function runCliAsync(args: string[], env?: CliEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawnCli(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += String(c)));
    child.stderr.on('data', (c) => (stderr += String(c)));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}
