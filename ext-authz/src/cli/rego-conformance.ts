// Conformance driver for `rego conformance`: runs the JSON case corpus (test/rego/conformance/README.md)
// and OPA's own YAML test suite (one folder per topic) through the engine's public face
// (compilePolicy → prepare → evaluate) and compares. Tooling, not engine: it reads files.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { compilePolicy, compare, fromJSON, RegoError, toJSON, type Bindings, type Value } from '../rego/engine';

export interface ConformanceCase {
  note: string;
  modules: string[];
  data?: unknown;
  input?: unknown;
  query: string;
  strict?: boolean;
  want?: unknown;
  want_undefined?: boolean;
  want_error?: { code: string; message: string };
  set_result?: boolean;
}

export interface CaseResult {
  topic: string;
  note: string;
  ok: boolean;
  expected: string;
  actual: string;
}

export interface ConformanceSummary {
  passed: number;
  failed: number;
  byTopic: Record<string, { passed: number; failed: number }>;
}

/** Loads every `<topic>.json` case file of a directory, in name order. */
export function loadCases(dir: string): { topic: string; c: ConformanceCase }[] {
  const out: { topic: string; c: ConformanceCase }[] = [];
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
    const topic = f.slice(0, -5);
    const doc = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { cases: ConformanceCase[] };
    for (const c of doc.cases) out.push({ topic, c });
  }
  return out;
}

type Outcome = { kind: 'value'; value: unknown } | { kind: 'undefined' } | { kind: 'error'; code: string; message: string };

function describe(o: Outcome): string {
  if (o.kind === 'value') return JSON.stringify(o.value);
  if (o.kind === 'undefined') return 'undefined';
  return `error ${o.code}: ${o.message}`;
}

function errorOutcome(e: unknown): Outcome {
  if (e instanceof RegoError) return { kind: 'error', code: e.code, message: e.message };
  return { kind: 'error', code: 'internal', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
}

/** Deep JSON equality: numbers by (double) value, object keys in any order. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

export function runCase(topic: string, c: ConformanceCase): CaseResult {
  let actual: Outcome;
  try {
    const policy = compilePolicy(
      c.modules.map((text, i) => ({ file: `module${i}.rego`, text })),
      { data: c.data },
    );
    const q = policy.prepare(c.query);
    const r = q.evaluate('input' in c ? c.input : undefined, { strict: c.strict === true });
    actual = r.defined ? { kind: 'value', value: toJSON(r.value) } : { kind: 'undefined' };
  } catch (e) {
    actual = errorOutcome(e);
  }
  let expected: Outcome;
  if (c.want_error) expected = { kind: 'error', code: c.want_error.code, message: c.want_error.message };
  else if (c.want_undefined) expected = { kind: 'undefined' };
  else expected = { kind: 'value', value: c.want };
  let ok = false;
  if (expected.kind === 'error') ok = actual.kind === 'error' && actual.code === expected.code;
  else if (expected.kind === 'undefined') ok = actual.kind === 'undefined';
  else ok = actual.kind === 'value' && jsonEqual(actual.value, expected.value);
  return { topic, note: c.note, ok, expected: describe(expected), actual: describe(actual) };
}

/** Runs every case under dir. */
export function runCases(dir: string): CaseResult[] {
  return loadCases(dir).map(({ topic, c }) => runCase(topic, c));
}

export function summarize(results: CaseResult[]): ConformanceSummary {
  const byTopic: ConformanceSummary['byTopic'] = {};
  let passed = 0;
  for (const r of results) {
    const t = (byTopic[r.topic] ??= { passed: 0, failed: 0 });
    if (r.ok) {
      passed++;
      t.passed++;
    } else t.failed++;
  }
  return { passed, failed: results.length - passed, byTopic };
}

// ---- OPA's YAML suite ---------------------------------------------------------------------------

interface OpaCase {
  note: string;
  query: string;
  modules?: string[];
  data?: unknown;
  input?: unknown;
  input_term?: string;
  want_result?: Record<string, unknown>[];
  sort_bindings?: boolean;
  want_error_code?: string;
  want_error?: string;
  strict_error?: boolean;
}

export interface OpaSuiteReport {
  topics: Record<string, { passed: number; total: number }>;
  results: CaseResult[];
}

function sortedIfArray(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  return [...v].sort((a, b) => compare(fromJSON(a), fromJSON(b)));
}

function runOpaCase(topic: string, c: OpaCase): CaseResult {
  let actual: Outcome;
  let rows: Bindings[] = [];
  try {
    const policy = compilePolicy(
      (c.modules ?? []).map((text, i) => ({ file: `test-${i}.rego`, text })),
      { data: c.data ?? undefined },
    );
    let input: Value | undefined = c.input === undefined ? undefined : fromJSON(c.input);
    if (c.input_term !== undefined) {
      const r = compilePolicy([]).prepare(c.input_term).evaluate();
      input = r.defined ? r.value : undefined;
    }
    rows = policy.prepare(c.query).evaluateAll(input, { strict: c.strict_error === true });
    actual = { kind: 'value', value: rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, toJSON(v)]))) };
  } catch (e) {
    actual = errorOutcome(e);
  }
  const wantsError = c.want_error_code !== undefined || (c.want_error !== undefined && c.want_result === undefined);
  let ok: boolean;
  let expected: string;
  if (wantsError) {
    expected = `error ${c.want_error_code ?? ''}: ${c.want_error ?? ''}`;
    ok =
      actual.kind === 'error' &&
      (c.want_error_code ? actual.code === c.want_error_code : c.want_error !== undefined && c.want_error.includes(actual.message));
  } else {
    const want = c.want_result ?? [];
    expected = JSON.stringify(want);
    if (actual.kind !== 'value') ok = false;
    else {
      let got = actual.value as Record<string, unknown>[];
      let exp = want;
      if (c.sort_bindings) {
        got = got.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, sortedIfArray(v)])));
        exp = exp.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, sortedIfArray(v)])));
        const byText = (a: unknown, b: unknown): number => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
        got = [...got].sort(byText);
        exp = [...exp].sort(byText);
      }
      ok = jsonEqual(got, exp);
    }
  }
  return { topic, note: c.note, ok, expected, actual: describe(actual) };
}

/** Runs OPA's YAML cases (one folder per topic); a report, not a pass/fail gate. */
export function runOpaSuite(dir: string): OpaSuiteReport {
  const topics: OpaSuiteReport['topics'] = {};
  const results: CaseResult[] = [];
  for (const topic of fs.readdirSync(dir).sort()) {
    const tdir = path.join(dir, topic);
    if (!fs.statSync(tdir).isDirectory()) continue;
    const t = (topics[topic] = { passed: 0, total: 0 });
    for (const f of fs.readdirSync(tdir).filter((x) => /\.ya?ml$/.test(x)).sort()) {
      const doc = parseYaml(fs.readFileSync(path.join(tdir, f), 'utf8')) as { cases?: OpaCase[] };
      for (const c of doc.cases ?? []) {
        const r = runOpaCase(topic, c);
        results.push(r);
        t.total++;
        if (r.ok) t.passed++;
      }
    }
  }
  return { topics, results };
}
