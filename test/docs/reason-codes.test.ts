// docs/reason-codes.md is generated from ext-authz/src/model/reasons.ts (`npm run docs:reasons`): the
// committed file must be what the generator renders now; a code without its docs metadata stops the
// generator, named; the restart hints agree with the policy; and each code's "by" names a part of the
// system that really answers with it (and reserved codes are produced nowhere).
import fs from 'node:fs';
import path from 'node:path';
import { DOC_PATH, reasonDocs, renderReasonCodes } from '../../scripts/reason-codes-doc';
import { REASONS } from '../../ext-authz/src/model/reasons';
import { compilePolicy, toJSON } from '../../ext-authz/src/rego/engine';
import type { Value } from '../../ext-authz/src/rego/engine';
import { loadPolicyDir } from '../../ext-authz/src/policy/load-dir';

const ROOT = path.join(__dirname, '..', '..');

function filesUnder(dir: string, keep: (f: string) => boolean, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) filesUnder(p, keep, out);
    else if (keep(p)) out.push(p);
  }
  return out;
}

test('docs/reason-codes.md is up to date (run `npm run docs:reasons` after changing reasons.ts)', () => {
  expect(fs.readFileSync(DOC_PATH, 'utf8')).toBe(renderReasonCodes());
});

test('a code without docs metadata stops the generator, naming the code', () => {
  const table = { ...REASONS, brand_new_code: [403, 'added in the old one-line style'], another_one: [400, 'also'] } as Record<string, readonly unknown[]>;
  expect(() => reasonDocs(table)).toThrow(/without docs metadata in ext-authz\/src\/model\/reasons\.ts: brand_new_code, another_one/);
  expect(reasonDocs()).toHaveLength(Object.keys(REASONS).length);
});

test('the restart hints in the table are exactly the policy\'s restart reasons', () => {
  const src = loadPolicyDir(path.join(ROOT, 'policies', 'callback'));
  const r = compilePolicy(src.modules, { data: src.data }).prepare('data.callback.restart_reasons').evaluate(undefined);
  if (!r.defined) throw new Error('data.callback.restart_reasons is undefined');
  const policy = (toJSON(r.value as Value) as string[]).sort();
  const table = reasonDocs().filter((d) => d.doc.hint === 'restart-login').map((d) => d.code).sort();
  expect(table).toEqual(policy);
});

test('each code is answered where its "by" says; reserved and forwarding codes by no part of ext-authz', () => {
  const read = (files: string[]): string => files.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  const src = path.join(ROOT, 'ext-authz', 'src');
  const service = read(filesUnder(src, (f) => f.endsWith('.ts') && !f.endsWith(path.join('model', 'reasons.ts'))));
  const pipeline = read(filesUnder(path.join(src, 'pipeline'), (f) => f.endsWith('.ts')));
  const policy = read(filesUnder(path.join(ROOT, 'policies', 'callback'), (f) => f.endsWith('.rego') && !f.endsWith('_test.rego')));
  const where: Record<string, string> = { facts: pipeline, policy, service };
  const wrong: string[] = [];
  for (const d of reasonDocs()) {
    const word = new RegExp(`\\b${d.code}\\b`);
    if (d.doc.by in where) {
      if (!word.test(where[d.doc.by])) wrong.push(`${d.code}: by ${d.doc.by}, but it appears nowhere there`);
    } else if (word.test(service) || word.test(policy)) {
      wrong.push(`${d.code}: ${d.doc.by}, but ext-authz or the policy mentions it`);
    }
  }
  expect(wrong).toEqual([]);
});
