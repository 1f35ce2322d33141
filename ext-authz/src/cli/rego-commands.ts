// CLI for the Rego engine: `rego eval` (like `opa eval`), `rego conformance` (the case corpus and OPA's
// YAML suite), and `policy test` (runs `test_` rules like `opa test`). Registered by main.ts.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { PolicyModule } from '../rego/engine';
import type { CaseResult } from './rego-conformance';
import { CliError, EXIT_DENY_OR_INVALID, EXIT_USAGE, exitCodesHelp } from './cli-errors';

// The engine, the policy loader and the YAML parser load when a command runs, not at registration:
// `--version` and `--help` must not pay for them.
const loadRego = (): Promise<typeof import('../rego/engine')> => import('../rego/engine');
const loadConformance = (): Promise<typeof import('./rego-conformance')> => import('./rego-conformance');
const loadYaml = (): Promise<typeof import('yaml')> => import('yaml');

export function registerRegoCommands(program: Command): void {
  const rego = program.command('rego').description('evaluate Rego and measure the engine against OPA');

  rego
    .command('eval')
    .description('evaluate a query against Rego modules and data, printing the value as JSON (undefined prints {})')
    .argument('<query>', 'a Rego query, e.g. data.callback.decision or "x := 1; y := x + 1"')
    // Repeatable single-value flag, like `opa eval -d`: a variadic option would swallow the query.
    .option('-d, --data <path>', '.rego / data .json / .yaml file or directory (repeat -d for more)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('-i, --input <file>', 'input document (JSON or YAML)')
    .option('--strict', 'builtin errors are errors (OPA --strict-builtin-errors)')
    .option('--all', 'print every solution\'s bindings (like opa eval result rows)')
    .option('--max-steps <n>', "evaluation step budget (default: the engine's)")
    .option('-f, --format <format>', 'value (the value alone, or with --all the bindings) or json (opa eval --format json\'s {"result": [{"expressions", "bindings"}]})', 'value')
    .option('--v0-compatible', 'accept Rego v0 modules (as OPA 1.x --v0-compatible); default: Rego v1, as in OPA 1.x')
    .addHelpText('after', exitCodesHelp({ ok: 'the value was printed (undefined prints {})', failed: 'the query raised errors (parse, compile or evaluation; printed as JSON on stderr)' }))
    .action(async (query: string, opts: { data: string[]; input?: string; strict?: boolean; all?: boolean; maxSteps?: string; format: string; v0Compatible?: boolean }) => {
      if (opts.format !== 'value' && opts.format !== 'json') throw new CliError('cli_usage', `--format: expected value or json, got ${JSON.stringify(opts.format)}`);
      if (opts.maxSteps !== undefined && !/^\d+$/.test(opts.maxSteps)) throw new CliError('cli_usage', '--max-steps: expected a whole number');
      const { compilePolicy, fromJSON, toJSON, parseQuery, RegoError, RegoErrors, DEFAULT_MAX_STEPS } = await loadRego();
      const { modules, data } = await loadSources(opts.data);
      const input = opts.input === undefined ? undefined : await readDoc(opts.input);
      try {
        const policy = compilePolicy(modules, { data, v0Compatible: opts.v0Compatible === true });
        const evalOpts = { strict: opts.strict === true, maxSteps: opts.maxSteps === undefined ? DEFAULT_MAX_STEPS : Number(opts.maxSteps) };
        if (opts.format === 'json') {
          const { opaEvalJson } = await import('./opa-eval-format');
          const out = opaEvalJson(policy, query, input === undefined ? undefined : fromJSON(input), evalOpts, { parseQuery, toJSON });
          process.stdout.write(JSON.stringify(out, null, 2) + '\n');
          return;
        }
        const q = policy.prepare(query);
        if (opts.all) {
          const rows = q.evaluateAll(input === undefined ? undefined : fromJSON(input), evalOpts);
          process.stdout.write(JSON.stringify(rows.map((r) => mapValues(r, toJSON)), null, 2) + '\n');
          return;
        }
        const r = q.evaluate(input === undefined ? undefined : fromJSON(input), evalOpts);
        process.stdout.write(JSON.stringify(r.defined ? toJSON(r.value) : {}, null, 2) + '\n');
      } catch (e) {
        if (!(e instanceof RegoError)) throw e;
        const errs = e instanceof RegoErrors ? e.errors : [e];
        const out = errs.map((x) => ({ code: x.code, message: x.message, location: x.loc }));
        process.stderr.write(JSON.stringify({ errors: out }, null, 2) + '\n');
        process.exitCode = EXIT_DENY_OR_INVALID;
      }
    });

  rego
    .command('conformance')
    .description('run Rego conformance case files (test/rego/conformance format) and print "N passed, M failed"')
    .argument('<dir>', 'folder of <topic>.json case files, or with --opa-suite OPA\'s YAML test folders')
    .option('--opa-suite', "the folder holds OPA's own YAML cases (one sub-folder per topic)")
    .option('--topic <name>', 'only this topic (file or folder name)')
    .option('--known-gaps <file>', 'JSON {"gaps": [{"note", "reason"}]}: listed failures do not fail the exit code')
    .option('-q, --quiet', 'print only per-topic figures and the closing line')
    .addHelpText('after', exitCodesHelp({ ok: 'every case passed, or failed only as a listed known gap', failed: 'unexpected failures', usage: 'bad usage, or not a directory' }))
    .action(async (dir: string, opts: { opaSuite?: boolean; topic?: string; knownGaps?: string; quiet?: boolean }) => {
      if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new CliError('cli_input', `${dir}: not a directory`);
      const { runCases, runOpaSuite, summarize } = await loadConformance();
      const started = Date.now();
      let results: CaseResult[] = opts.opaSuite ? runOpaSuite(dir).results : runCases(dir);
      if (opts.topic) results = results.filter((r) => r.topic === opts.topic);
      const gaps = opts.knownGaps ? await readGaps(opts.knownGaps) : new Map<string, string>();
      for (const r of results) {
        if (r.ok || opts.quiet) continue;
        const gap = gaps.get(r.note);
        process.stdout.write(`FAIL ${r.topic} ${r.note}${gap ? ` (known gap: ${gap})` : ''}\n  expected: ${clip(r.expected)}\n  actual:   ${clip(r.actual)}\n`);
      }
      const sum = summarize(results);
      process.stdout.write('\nper topic:\n');
      for (const [t, s] of Object.entries(sum.byTopic)) {
        const total = s.passed + s.failed;
        process.stdout.write(`  ${t.padEnd(28)} ${String(s.passed).padStart(4)}/${String(total).padEnd(4)} ${((100 * s.passed) / total).toFixed(1)}%\n`);
      }
      const total = sum.passed + sum.failed;
      process.stdout.write(`\n${(total ? (100 * sum.passed) / total : 0).toFixed(2)}% in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      process.stdout.write(`${sum.passed} passed, ${sum.failed} failed\n`);
      const unexpected = results.filter((r) => !r.ok && !gaps.has(r.note)).length;
      process.exitCode = unexpected > 0 ? EXIT_DENY_OR_INVALID : 0;
    });

  program
    .command('policy')
    .description('policy tooling')
    .command('test')
    .description('run every test_ rule in *_test.rego files under a directory, like `opa test`')
    .argument('<dir...>', 'policy directories (data.json/data.yaml files are loaded as in a bundle)')
    .option('-r, --run <regex>', 'only tests whose package.name matches')
    .option('-v, --verbose', 'print PASS lines too')
    .option('--v0-compatible', 'accept Rego v0 modules (as OPA 1.x --v0-compatible); default: Rego v1, as in OPA 1.x')
    .addHelpText('after', exitCodesHelp({ ok: 'every test passed', failed: 'a test failed or errored, or the policy does not compile', usage: 'bad usage, an unreadable path, or no test_ rules found' }))
    .action(async (dirs: string[], opts: { run?: string; verbose?: boolean; v0Compatible?: boolean }) => {
      const { compilePolicy, RegoError } = await loadRego();
      const { modules, data } = await loadSources(dirs, true);
      let policy;
      try {
        policy = compilePolicy(modules, { data, v0Compatible: opts.v0Compatible === true });
      } catch (e) {
        if (e instanceof RegoError) throw new CliError('cli_input', e.toString(), EXIT_DENY_OR_INVALID);
        throw e;
      }
      const filter = opts.run ? new RegExp(opts.run) : null;
      const tests = policy.listTests().filter((t) => !filter || filter.test(`${t.pkg}.${t.name}`));
      let passed = 0;
      let failed = 0;
      for (const t of tests) {
        const started = process.hrtime.bigint();
        let status: 'PASS' | 'FAIL' | 'ERROR';
        let detail = '';
        try {
          const r = policy.prepare(t.query).evaluate(undefined, { nowNs: BigInt(Date.now()) * 1_000_000n });
          status = r.defined && r.value !== false ? 'PASS' : 'FAIL';
        } catch (e) {
          status = 'ERROR';
          detail = e instanceof RegoError ? ` (${e.toString()})` : ` (${String(e)})`;
        }
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (status === 'PASS') passed++;
        else failed++;
        if (status !== 'PASS' || opts.verbose) {
          process.stdout.write(`${t.file}: data.${t.pkg}.${t.name}: ${status} (${ms.toFixed(2)} ms)${detail}\n`);
        }
      }
      process.stdout.write(`${'-'.repeat(60)}\nPASS: ${passed}/${tests.length}${failed ? `\nFAIL: ${failed}/${tests.length}` : ''}\n`);
      process.stdout.write(`${passed} passed, ${failed} failed\n`);
      if (tests.length === 0) throw new CliError('cli_input', `no test_ rules found under ${dirs.join(', ')}`, EXIT_USAGE);
      process.exitCode = failed > 0 ? EXIT_DENY_OR_INVALID : 0;
    });
}

/** Loads .rego files and data documents from files or directories (directories as OPA bundles). */
async function loadSources(paths: string[], includeTests = true): Promise<{ modules: PolicyModule[]; data: Record<string, unknown> }> {
  const { loadPolicyDir, mergeData } = await import('../policy/load-dir');
  const modules: PolicyModule[] = [];
  const data: Record<string, unknown> = {};
  for (const p of paths) {
    if (!fs.existsSync(p)) throw new CliError('cli_input', `${p}: no such file or directory`);
    if (fs.statSync(p).isDirectory()) {
      const src = loadPolicyDir(p, { includeTests });
      for (const m of src.modules) modules.push({ file: path.join(p, m.file), text: m.text });
      mergeData(data, src.data, p);
    } else if (p.endsWith('.rego')) {
      modules.push({ file: p, text: fs.readFileSync(p, 'utf8') });
    } else {
      const doc = await readDoc(p);
      if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new CliError('cli_input', `${p}: a data file must hold an object`);
      mergeData(data, doc as Record<string, unknown>, p);
    }
  }
  return { modules, data };
}

async function readDoc(file: string): Promise<unknown> {
  const YAML = /\.ya?ml$/.test(file) ? await loadYaml() : undefined;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new CliError('cli_input', `${file}: cannot read`);
  }
  try {
    return YAML ? YAML.parse(text) : JSON.parse(text);
  } catch (e) {
    throw new CliError('cli_input', `${file}: not valid ${/\.ya?ml$/.test(file) ? 'YAML' : 'JSON'}: ${(e as Error).message.split('\n')[0]}`);
  }
}

async function readGaps(file: string): Promise<Map<string, string>> {
  const doc = (await readDoc(file)) as { gaps?: { note: string; reason: string }[] };
  return new Map((doc.gaps ?? []).map((g) => [g.note, g.reason]));
}

function mapValues(r: Record<string, unknown>, toJSON: (v: never) => unknown): Record<string, unknown> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, toJSON(v as never)]));
}

function clip(s: string): string {
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}
