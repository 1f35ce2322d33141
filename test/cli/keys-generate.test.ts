// `callback-proxy keys generate`: the shipped registry example validates right after the one command its
// header shows (run here on a copy, so nothing is written into the repository); the key file is private
// (0600), fresh each time, and never silently replaced.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { runCliAsync, ROOT } from './run-cli';

jest.setTimeout(120_000);

const EXAMPLE_REL = 'ext-authz/config/registry.example.yaml';

/** The commands the example's header tells a reader to run (lines `#   npx callback-proxy …`). */
function headerCommands(): string[][] {
  const text = fs.readFileSync(path.join(ROOT, EXAMPLE_REL), 'utf8');
  const header = text.slice(0, text.indexOf('\nversion:'));
  return [...header.matchAll(/^#\s+npx callback-proxy (.+)$/gm)].map((m) => m[1].trim().split(/\s+/));
}

test('the example header shows: keys generate, then config validate, both on the example', () => {
  expect(headerCommands()).toEqual([
    ['keys', 'generate', EXAMPLE_REL],
    ['config', 'validate', EXAMPLE_REL],
  ]);
});

test('after the header\'s keys command, the header\'s validate command passes', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-keys-'));
  try {
    const copy = path.join(dir, path.basename(EXAMPLE_REL));
    fs.copyFileSync(path.join(ROOT, EXAMPLE_REL), copy);
    const onCopy = (args: string[]): string[] => args.map((a) => (a === EXAMPLE_REL ? copy : a));
    const [generate, validate] = headerCommands().map(onCopy);

    const before = await runCliAsync(validate);
    expect(before.status).toBe(1);
    expect(before.stderr).toContain('keys generate');

    const g = await runCliAsync(generate);
    expect(g.status).toBe(0);
    const keyFile = path.join(dir, 'registry.example.keys.yaml');
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    const keys = parse(fs.readFileSync(keyFile, 'utf8'));
    expect(Object.keys(keys.connections)).toEqual(['workforce', 'partners']);
    expect(Object.keys(keys.connections.workforce)).toEqual(['legacy', 'new']);

    const v = await runCliAsync(validate);
    expect(v.stderr).toBe('');
    expect(v.status).toBe(0);
    expect(v.stdout).toContain('ok (2 connection(s): workforce=canary, partners=cutover; 3 issuer(s))');

    // Never replaced by accident; --force makes a fresh set.
    expect((await runCliAsync(generate)).status).toBe(2);
    expect((await runCliAsync([...generate, '--force'])).status).toBe(0);
    expect(parse(fs.readFileSync(keyFile, 'utf8')).hash_key).not.toBe(keys.hash_key);
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
