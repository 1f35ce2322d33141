// The flags `callback-proxy serve --help` lists, to check the flags the deployment files (Dockerfile
// CMD, Helm chart args, docker-compose command) pass to the real CLI.
import { runCli } from '../../cli/run-cli';

/**
 * Flags the deployment files already pass for the admin listener (/metrics, /healthz, /readyz on
 * 9193), which lands with the observability work. Tolerated only while `serve --help` does not list
 * them; from the moment it does, they are checked like every other flag.
 */
export const PENDING_SERVE_FLAGS: ReadonlySet<string> = new Set(['--admin-addr']);

let cached: Set<string> | undefined;
export function serveFlags(): Set<string> {
  if (!cached) {
    const r = runCli(['serve', '--help']);
    if (r.status !== 0) throw new Error(`serve --help failed: ${r.stderr}`);
    cached = new Set(r.stdout.match(/--[a-z][a-z0-9-]*/g) ?? []);
  }
  return cached;
}

/** The flags among `args` that `serve` does not accept (pending ones excepted while absent). */
export function unknownServeFlags(args: string[]): string[] {
  const known = serveFlags();
  return args
    .filter((a) => a.startsWith('--'))
    .map((a) => a.split('=')[0])
    .filter((f) => !known.has(f) && !PENDING_SERVE_FLAGS.has(f));
}
