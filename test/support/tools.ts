// External tools the observability tests drive (promtool, prometheus from Debian's `prometheus`
// package): found on PATH, or the suite is skipped loudly on a laptop — and fails when CI=true.
import { spawnSync } from 'node:child_process';

export function toolAvailable(tool: string, suite: string, apt = 'prometheus'): boolean {
  if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0) return true;
  if (process.env.CI === 'true') throw new Error(`${tool} is required in CI (apt-get install ${apt})`);
  console.warn(`SKIPPING ${suite}: ${tool} not found on PATH (apt-get install ${apt})`);
  return false;
}
