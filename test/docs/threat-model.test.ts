// docs/threat-model.md is the threat table the suite carries. Every row either names the test files that
// cover it (each must exist and mention the row's ID) or is `deferred:` with a reason (and then no test
// may mention it); every ID a test mentions has a row; reason codes are real reason codes (or envoy lint
// findings for rows the forwarding layer answers). Adding a row means adding one line to the doc.
import fs from 'node:fs';
import path from 'node:path';
import { REASONS } from '../../ext-authz/src/model/reasons';

const ROOT = path.join(__dirname, '..', '..');
const DOC = path.join(ROOT, 'docs', 'threat-model.md');

interface Row {
  id: string;
  reasonCell: string;
  testedCell: string;
}

function rows(): Row[] {
  const out: Row[] = [];
  for (const line of fs.readFileSync(DOC, 'utf8').split('\n')) {
    const m = /^\| (T-[A-Z]+\d+) \|/.exec(line);
    if (!m) continue;
    const cells = line.split(' | ');
    out.push({ id: m[1], reasonCell: cells[cells.length - 2], testedCell: cells[cells.length - 1].replace(/ \|$/, '') });
  }
  return out;
}

function testFiles(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) testFiles(p, out);
    else if (e.name.endsWith('.test.ts') && p !== __filename) out.push(p);
  }
  return out;
}

const mentions = (text: string, id: string): boolean => new RegExp(`\\b${id}\\b`).test(text);
const LINT_CODES = new Set([...fs.readFileSync(path.join(ROOT, 'ext-authz', 'src', 'envoy', 'lint.ts'), 'utf8').matchAll(/^\s+\| '([a-z_]+)'/gm)].map((m) => m[1]));

const all = rows();
const tests = new Map(testFiles(path.join(ROOT, 'test')).map((f) => [path.relative(ROOT, f).split(path.sep).join('/'), fs.readFileSync(f, 'utf8')]));

test('the doc has rows, each ID once, each with 7 cells', () => {
  expect(all.length).toBeGreaterThanOrEqual(91);
  const ids = all.map((r) => r.id);
  expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  for (const line of fs.readFileSync(DOC, 'utf8').split('\n').filter((l) => /^\| T-/.test(l))) expect(line.split(' | ')).toHaveLength(7);
});

test('every row names tests that really mention it, or is deferred with a reason and tested nowhere', () => {
  const problems: string[] = [];
  for (const r of all) {
    const deferred = /^deferred: (.+)$/.exec(r.testedCell);
    const claimed = [...tests].filter(([, text]) => mentions(text, r.id)).map(([f]) => f);
    if (deferred) {
      if (deferred[1].trim().length < 10) problems.push(`${r.id}: deferred without a reason`);
      if (claimed.length > 0) problems.push(`${r.id}: deferred, but ${claimed.join(', ')} mention it; list them instead`);
      continue;
    }
    const listed = [...r.testedCell.matchAll(/`(test\/[^`]+\.test\.ts)`/g)].map((m) => m[1]);
    if (listed.length === 0) problems.push(`${r.id}: names no test file and is not deferred`);
    for (const f of listed) {
      if (!tests.has(f)) problems.push(`${r.id}: ${f} does not exist`);
      else if (!mentions(tests.get(f) as string, r.id)) problems.push(`${r.id}: ${f} does not mention ${r.id}`);
    }
  }
  expect(problems).toEqual([]);
});

test('every threat ID a test mentions has a row', () => {
  const known = new Set(all.map((r) => r.id));
  const orphans = new Set<string>();
  for (const [f, text] of tests) for (const m of text.matchAll(/\bT-[A-Z]+\d+\b/g)) if (!known.has(m[0])) orphans.add(`${m[0]} (${f})`);
  expect([...orphans]).toEqual([]);
});

test('reason cells name reason codes (or lint findings); only deferred rows may name codes that do not exist yet', () => {
  const problems: string[] = [];
  for (const r of all) {
    if (r.testedCell.startsWith('deferred:')) continue;
    for (const m of r.reasonCell.matchAll(/`([a-z_]+)`/g)) {
      if (!(m[1] in REASONS) && !LINT_CODES.has(m[1])) problems.push(`${r.id}: ${m[1]} is neither a reason code nor a lint finding`);
    }
  }
  expect(problems).toEqual([]);
});
