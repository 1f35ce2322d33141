// Conformance corpus (test/rego/conformance, expectations from OPA 0.61) with a ratcheted known-gaps
// list: an unlisted failure fails the suite, and so does a listed case that now passes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { runCases, runOpaSuite, summarize, type CaseResult } from '../../ext-authz/src/cli/rego-conformance';

interface Gap {
  note: string;
  reason: string;
}

const dir = path.join(__dirname, 'conformance');
const gaps: Gap[] = (JSON.parse(fs.readFileSync(path.join(__dirname, 'known-gaps.json'), 'utf8')) as { gaps: Gap[] }).gaps;
const gapNotes = new Set(gaps.map((g) => g.note));

let results: CaseResult[] = [];

beforeAll(() => {
  results = runCases(dir);
});

describe('rego conformance corpus', () => {
  test('covers the whole corpus', () => {
    expect(results.length).toBe(1344);
  });

  test('undefined through `not` and `else` (lang_undefined): every case passes, none may be a known gap', () => {
    const topic = results.filter((r) => r.topic === 'lang_undefined');
    expect(topic).toHaveLength(31);
    expect(topic.filter((r) => !r.ok).map((r) => `${r.note}: want ${r.expected}, got ${r.actual}`)).toEqual([]);
    expect(gaps.filter((g) => topic.some((r) => r.note === g.note))).toEqual([]);
  });

  test('every known gap names a corpus case once and gives a reason', () => {
    const notes = new Set(results.map((r) => r.note));
    expect(gapNotes.size).toBe(gaps.length);
    for (const g of gaps) {
      expect(notes.has(g.note)).toBe(true);
      expect(g.reason.trim().length).toBeGreaterThan(0);
    }
  });

  test('no case outside the known gaps fails', () => {
    const unexpected = results
      .filter((r) => !r.ok && !gapNotes.has(r.note))
      .map((r) => `${r.note}: want ${r.expected}, got ${r.actual}`);
    expect(unexpected).toEqual([]);
  });

  test('no known gap passes (ratchet: remove it from known-gaps.json)', () => {
    const fixed = results.filter((r) => r.ok && gapNotes.has(r.note)).map((r) => r.note);
    expect(fixed).toEqual([]);
  });

  test('at least 97% of the corpus passes', () => {
    const s = summarize(results);
    expect(s.passed / results.length).toBeGreaterThanOrEqual(0.97);
  });
});

// OPA's own YAML suite is a report (rego conformance --opa-suite), not a gate: only check the driver
// reads its format, on one small topic copied to a temp dir.
describe('OPA YAML suite driver', () => {
  const suite = path.join(__dirname, '..', '..', '..', 'shared', 'opa-testdata');
  const run = fs.existsSync(path.join(suite, 'assignments')) ? test : test.skip;
  run('reads a topic folder and counts its cases', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opa-suite-'));
    fs.cpSync(path.join(suite, 'assignments'), path.join(tmp, 'assignments'), { recursive: true });
    const report = runOpaSuite(tmp);
    expect(report.topics.assignments.total).toBe(report.results.length);
    expect(report.results.length).toBeGreaterThan(0);
    expect(report.topics.assignments.passed).toBe(report.results.filter((r) => r.ok).length);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});
