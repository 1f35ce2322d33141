// Runs the real CLI in a child process, the way `npm start` and the bin run it (node with the esbuild
// require hook: one process, so signals reach it).
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams, SpawnSyncReturns } from 'node:child_process';
import * as path from 'node:path';

export const ROOT = path.join(__dirname, '..', '..');
const MAIN = path.join(ROOT, 'ext-authz', 'src', 'cli', 'main.ts');
const HOOK = ['--enable-source-maps', '-r', path.join(ROOT, 'bin', 'ts-register.cjs')];

export function runCli(args: string[], input?: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [...HOOK, MAIN, ...args], { cwd: ROOT, encoding: 'utf8', input, timeout: 60_000 });
}

/** `env` is added to this process's environment (e.g. OTEL_* settings for the child). */
export function spawnCli(args: string[], env?: Record<string, string>): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [...HOOK, MAIN, ...args], { cwd: ROOT, stdio: 'pipe', env: env ? { ...process.env, ...env } : process.env });
}

/** Like runCli, without blocking the event loop (the caller may be serving or polling meanwhile). */
export function runCliAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawnCli(args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += String(c)));
    child.stderr.on('data', (c) => (stderr += String(c)));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}
