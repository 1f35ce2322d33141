// The team's shared fixtures live in `shared/` beside the checkout (CI lays a copy there). A suite that
// needs them skips loudly when they are absent on a developer machine, and fails when CI=true.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** `shared/<sub>` beside the repository, or null (with a warning) when it is not there. */
export function sharedFixture(sub: string, suite: string): string | null {
  const dir = path.join(REPO_ROOT, '..', 'shared', sub);
  if (fs.existsSync(dir)) return dir;
  if (process.env.CI === 'true') throw new Error(`${suite}: shared fixtures ${path.join('..', 'shared', sub)} are required in CI`);
  console.warn(`SKIPPING ${suite}: shared fixtures ../shared/${sub} not found beside the repository`);
  return null;
}
