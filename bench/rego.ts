// `npm run bench:rego`: compile time and µs per evaluation (median, p99) of the shipped callback policy
// on a typical input (captured from the real pipeline on the embedded default), the same for both
// engines on the callback policy OPA compiled to wasm (shared/opa-wasm beside the repository, when
// present: the Rego engine on that snapshot's sources, the wasm engine on its policy.wasm), and a few
// gateway policies from the conformance corpus. Then one decision per call through the PolicyEngine
// interface (what a check pays: evaluation and the result's conversion to JSON), on both engines as
// `serve --policy … --engine rego|wasm` builds them: the callback policy (the shipped directory, the
// snapshot's sources, OPA's bundle.tar.gz) and the OPA-Envoy example (`--mode opa-envoy`). A benchmark,
// not a test: it prints its command, parameters and the machine's load (a shared machine is noisy), the
// figures, and writes JSON.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PolicyEngine } from '../ext-authz/src/policy/engine';
import { createPolicyEngine } from '../ext-authz/src/policy/engine-factory';
import { compilePolicy, type PolicyModule } from '../ext-authz/src/rego/engine';
import { WasmPolicyEngine } from '../ext-authz/src/policy/wasm/wasm-engine';
import { loadPolicyDir } from '../ext-authz/src/policy/load-dir';
import { loadRuntime } from '../ext-authz/src/app';
import { silentLogger } from '../ext-authz/src/telemetry/logger';
import { mintState } from '../ext-authz/src/pipeline/pins/mint';
import { DEMO_HOST, DEMO_NEW_ISSUER } from '../ext-authz/src/config/default';
import { attributesFromView } from '../ext-authz/src/check/attributes-from-view';
import type { PolicyInput } from '../ext-authz/src/model/facts';
import type { RequestView } from '../ext-authz/src/model/request';
import { Pipeline } from '../ext-authz/src/pipeline/pipeline';

const ROOT = path.join(__dirname, '..');
const ITER = Number(process.env.BENCH_ITER ?? 20000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5000);

interface Row {
  name: string;
  compile_ms: number;
  median_us: number;
  p99_us: number;
  mean_us: number;
  iterations: number;
}

function timeEval(fn: () => void): { median: number; p99: number; mean: number } {
  for (let i = 0; i < WARMUP; i++) fn();
  const samples = new Float64Array(ITER);
  for (let i = 0; i < ITER; i++) {
    const t = process.hrtime.bigint();
    fn();
    samples[i] = Number(process.hrtime.bigint() - t) / 1000;
  }
  const sorted = Array.from(samples).sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return { median: sorted[Math.floor(sorted.length / 2)], p99: sorted[Math.floor(sorted.length * 0.99)], mean };
}

/** Runs one typical callback (state minted for `new`, iss new) through the pipeline and keeps its input. */
async function typicalInput(): Promise<PolicyInput> {
  const rt = await loadRuntime({ policyDir: path.join(ROOT, 'policies', 'callback') }, silentLogger());
  const pipeline = new Pipeline({ factsDeps: rt.factsDeps, engine: rt.engine });
  const { state } = await mintState('demo', 'new', rt.factsDeps(), Date.now());
  const query = new URLSearchParams({ code: 'SplxlOBeZQQYbYS6WxSbIA', state, iss: DEMO_NEW_ISSUER });
  const req: RequestView = {
    method: 'GET',
    scheme: 'https',
    host: DEMO_HOST,
    path: `/oauth2/callback?${query}`,
    headers: {
      ':authority': DEMO_HOST, ':method': 'GET', ':path': `/oauth2/callback?${query}`, ':scheme': 'https',
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
      accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'accept-language': 'en-GB,en;q=0.9',
      'accept-encoding': 'gzip, deflate, br', cookie: '__Host-cbp_hint=abc; other=1', 'x-request-id': '4f1c2a3b-1d2e-4f5a-9b8c-7d6e5f4a3b2c',
      'x-forwarded-proto': 'https', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', referer: 'https://new-idp.example.com/',
    },
    duplicateHeaders: [],
    bodyTruncated: false,
    sourceIp: '203.0.113.7',
    requestId: '4f1c2a3b-1d2e-4f5a-9b8c-7d6e5f4a3b2c',
  };
  const r = await pipeline.decide(req, attributesFromView(req));
  const captured = r.event?.input ?? null;
  await rt.close();
  if (!captured) throw new Error(`pipeline produced no policy input (decision ${JSON.stringify(r.decision.reasons)})`);
  process.stdout.write(`typical input: callback to new, pipeline decision ${r.decision.action}/${r.decision.backend} ${JSON.stringify(r.decision.reasons)}\n`);
  return captured;
}

function benchPolicy(name: string, modules: PolicyModule[], data: unknown, query: string, input: unknown): Row {
  const t0 = process.hrtime.bigint();
  const policy = compilePolicy(modules, { data });
  const q = policy.prepare(query);
  const compileMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const first = q.evaluate(input, { nowNs: 1_700_000_000_000_000_000n });
  if (!first.defined) throw new Error(`${name}: ${query} is undefined on the bench input`);
  const t = timeEval(() => q.evaluate(input, { nowNs: 1_700_000_000_000_000_000n }));
  return { name, compile_ms: round(compileMs), median_us: round(t.median), p99_us: round(t.p99), mean_us: round(t.mean), iterations: ITER };
}

/** The wasm engine: "compile" is loading the module (instantiation, builtins, data). */
async function benchWasm(name: string, wasm: Uint8Array, input: unknown): Promise<Row> {
  const t0 = process.hrtime.bigint();
  const engine = await WasmPolicyEngine.load({ wasm });
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const first = engine.evaluate(input, { nowNs: '1700000000000000000' });
  if (!first.ok) throw new Error(`${name}: ${first.code} (${first.detail}) on the bench input`);
  const t = timeEval(() => engine.evaluate(input, { nowNs: '1700000000000000000' }));
  return { name, compile_ms: round(loadMs), median_us: round(t.median), p99_us: round(t.p99), mean_us: round(t.mean), iterations: ITER };
}

/** One engine behind the PolicyEngine interface: "compile" is loading it; each timed call is one decision. */
async function benchEngine(name: string, load: () => Promise<PolicyEngine> | PolicyEngine, input: unknown): Promise<Row> {
  const t0 = process.hrtime.bigint();
  const engine = await load();
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const opts = { nowNs: '1700000000000000000' };
  const first = await engine.evaluate(input, opts);
  if (!first.ok) throw new Error(`${name}: ${first.code} (${first.detail}) on the bench input`);
  const t = timeEval(() => void engine.evaluate(input, opts));
  await engine.close();
  return { name, compile_ms: round(loadMs), median_us: round(t.median), p99_us: round(t.p99), mean_us: round(t.mean), iterations: ITER };
}

/** The engine `serve --policy <policy> --engine <engine> --decision <decision>` runs. */
function served(policy: string, engine: 'rego' | 'wasm', decision: string, dataFile?: string): Promise<PolicyEngine> {
  return createPolicyEngine({ policyDir: policy, engine, decisionPath: decision, dataFile, watch: false, logger: silentLogger() });
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

function header(): void {
  const cpus = os.cpus();
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  process.stdout.write(
    [
      'command:    npm run bench:rego   (node -r ./scripts/ts-register.cjs bench/rego.ts)',
      `parameters: BENCH_ITER=${ITER} BENCH_WARMUP=${WARMUP} (timed evaluations / warm-up per row; one at a time, one thread)`,
      `machine:    ${cpus.length} × ${cpus[0]?.model ?? 'unknown cpu'}, node ${process.version}, load average ${load}`,
      '            (a shared machine: other work running at the same time moves these figures)',
      '',
    ].join('\n'),
  );
}

async function main(): Promise<void> {
  header();
  const rows: Row[] = [];
  const src = loadPolicyDir(path.join(ROOT, 'policies', 'callback'));
  const input = await typicalInput();
  rows.push(benchPolicy('policies/callback (data.callback.decision)', src.modules, src.data, 'data.callback.decision', input));

  const snapshot = path.join(ROOT, '..', 'shared', 'opa-wasm', 'callback');
  if (fs.existsSync(path.join(snapshot, 'policy.wasm'))) {
    const srcDir = path.join(snapshot, 'src');
    const modules = fs.readdirSync(srcDir).filter((f) => f.endsWith('.rego')).map((f) => ({ file: f, text: fs.readFileSync(path.join(srcDir, f), 'utf8') }));
    rows.push(benchPolicy('snapshot callback policy, Rego engine', modules, {}, 'data.callback.decision', input));
    rows.push(await benchWasm('snapshot callback policy.wasm, wasm engine', fs.readFileSync(path.join(snapshot, 'policy.wasm')), input));
    // Per decision as a check pays it, through the PolicyEngine interface.
    // What `serve --policy … --engine …` runs, one decision per call.
    rows.push(await benchEngine('serve: --engine rego, policies/callback (shipped)', () => served(path.join(ROOT, 'policies', 'callback'), 'rego', 'callback/decision'), input));
    rows.push(await benchEngine('serve: --engine rego, snapshot src/', () => served(srcDir, 'rego', 'callback/decision'), input));
    rows.push(await benchEngine('serve: --engine wasm, OPA\'s bundle.tar.gz', () => served(path.join(snapshot, 'bundle.tar.gz'), 'wasm', 'callback/decision'), input));
    const envoyDir = path.join(ROOT, '..', 'shared', 'opa-wasm', 'opa-envoy');
    if (fs.existsSync(path.join(envoyDir, 'bundle.tar.gz'))) {
      const samples = JSON.parse(fs.readFileSync(path.join(envoyDir, 'samples.json'), 'utf8')) as { samples: { name: string; input: unknown }[] };
      const envoyInput = samples.samples.find((s) => s.name === 'callback-ok')!.input;
      const routes = path.join(envoyDir, 'src', 'routes.json');
      rows.push(await benchEngine('serve: --engine rego, opa-envoy example (result)', () => served(path.join(envoyDir, 'src'), 'rego', 'envoy/authz/result', routes), envoyInput));
      rows.push(await benchEngine('serve: --engine wasm, opa-envoy bundle (result)', () => served(path.join(envoyDir, 'bundle.tar.gz'), 'wasm', 'envoy/authz/result'), envoyInput));
    }
  } else {
    process.stdout.write(`(no wasm rows: ${path.relative(ROOT, snapshot)} not found)\n`);
  }

  const corpus = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'rego', 'conformance', 'gateway_policies.json'), 'utf8')) as {
    cases: { note: string; modules: string[]; data?: unknown; input?: unknown; query: string; want?: unknown }[];
  };
  const picks = corpus.cases.filter((c) => c.want !== undefined && c.input !== undefined).filter((_c, i) => i % 40 === 0).slice(0, 4);
  for (const c of picks) {
    rows.push(benchPolicy(`corpus ${c.note}`, c.modules.map((text, i) => ({ file: `m${i}.rego`, text })), c.data, c.query, c.input));
  }

  process.stdout.write(`\n${'policy'.padEnd(58)} ${'compile ms'.padStart(10)} ${'median µs'.padStart(10)} ${'p99 µs'.padStart(9)} ${'mean µs'.padStart(9)}\n`);
  for (const r of rows) {
    process.stdout.write(`${r.name.padEnd(58)} ${r.compile_ms.toFixed(2).padStart(10)} ${r.median_us.toFixed(2).padStart(10)} ${r.p99_us.toFixed(2).padStart(9)} ${r.mean_us.toFixed(2).padStart(9)}\n`);
  }
  const out = path.join(ROOT, '.tmp', 'bench-rego.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    JSON.stringify({ command: 'npm run bench:rego', node: process.version, iterations: ITER, warmup: WARMUP, cpus: os.cpus().length, loadavg_at_end: os.loadavg(), rows }, null, 2),
  );
  process.stdout.write(`\n${ITER} timed evaluations each after ${WARMUP} warm-up; JSON in .tmp/bench-rego.json\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:rego failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
