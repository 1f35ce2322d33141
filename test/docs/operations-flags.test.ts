// docs/operations.md, "Running it" is where an operator looks up a serve flag: every flag `serve` reads
// (SERVE_FLAGS, the same table `--help` and the CALLBACK_PROXY_* variables come from) must be in its
// table, with its variable, so the page cannot fall behind the code.
import fs from 'node:fs';
import path from 'node:path';
import { SERVE_FLAGS } from '../../ext-authz/src/cli/serve-command';

const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'operations.md'), 'utf8');
const section = doc.slice(doc.indexOf('## Running it'), doc.indexOf('## Exit codes'));
const rows = section.split('\n').filter((l) => l.startsWith('| `--'));

test.each(SERVE_FLAGS.map((s) => [s.flag, s.env]))('%s is documented with %s', (flag, env) => {
  const row = rows.find((r) => new RegExp(`\`${flag}[ \`]`).test(r));
  expect(row).toBeDefined();
  // The variable is spelled out, or abbreviated after the first flag of a combined row (`_TLS_KEY`).
  const suffix = env.replace(/^CALLBACK_PROXY/, '');
  expect(row!.includes(env) || row!.includes(`\`${suffix}\``)).toBe(true);
});

test('the table documents no flag serve does not have', () => {
  const known = new Set(SERVE_FLAGS.map((s) => s.flag));
  const documented = rows.flatMap((r) => [...r.split('|')[1].matchAll(/`(--[a-z0-9-]+)/g)].map((m) => m[1]));
  expect(documented.filter((f) => !known.has(f))).toEqual([]);
});
