// Memory under a manufactured-code flood (docs/threat-model.md T-C6): N unknown-state callbacks
// (`code=<random>&state=<random>`, 2 KB of browser headers each) through the real pipeline — facts,
// limiter, Rego policy, commit — with the service's memory stores and default limits. Reports RSS and
// heap before and after, what the stores hold, how the callbacks were answered, and a used flow's
// replay after the flood. Not a timed test; numbers vary with the machine's load.
// Run:  node --expose-gc -r ./scripts/ts-register.cjs bench/flood-memory.ts [count] [sources] [unlimited]
//   count     callbacks (default 250000)
//   sources   distinct source addresses they come from, round robin (default: one per callback)
//   unlimited raise the unknown-state rates out of reach, so every callback is looked up
import { loadRuntime } from '../ext-authz/src/app';
import { attributesFromView } from '../ext-authz/src/check/attributes-from-view';
import { createDemoSetup } from '../ext-authz/src/config/default';
import { mintState } from '../ext-authz/src/pipeline/pins/mint';
import type { RequestView } from '../ext-authz/src/model/request';
import { silentLogger } from '../ext-authz/src/telemetry/logger';

const N = Number(process.argv[2] ?? 250_000);
const SOURCES = Number(process.argv[3] ?? N);
const gc = (globalThis as { gc?: () => void }).gc;

function settle(): NodeJS.MemoryUsage {
  for (let i = 0; i < 4; i++) gc?.();
  return process.memoryUsage();
}
const mb = (b: number): number => +(b / 1048576).toFixed(1);

const HEADERS: Record<string, string> = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
  'accept-language': 'en-GB,en;q=0.9',
  cookie: `session=${'s'.repeat(300)}; consent=${'c'.repeat(120)}`,
};

function source(i: number): string {
  const k = i % SOURCES;
  return `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`;
}

function view(path: string, sourceIp: string): RequestView {
  return { method: 'GET', scheme: 'https', host: 'auth.example.com', path, headers: { ...HEADERS }, duplicateHeaders: [], bodyTruncated: false, sourceIp };
}

async function main(): Promise<void> {
  const demo = createDemoSetup();
  if (process.argv[4] === 'unlimited') {
    Object.assign(demo.registry.limits, { unknown_states_per_source_per_min: 1_000_000, unknown_states_per_connection_per_min: 100_000_000 });
  }
  const rt = await loadRuntime({ demo, watch: false }, silentLogger());
  const deps = rt.factsDeps();
  // One legitimate flow, used before the flood.
  const { state: used } = await mintState('demo', 'legacy', deps, Date.now());
  const usedPath = (code: string) => `/oauth2/callback?code=${code}&state=${encodeURIComponent(used)}&iss=${encodeURIComponent('https://legacy-idp.example.com')}`;
  const first = await rt.pipeline.decide(view(usedPath('legit-1'), '198.51.100.1'), attributesFromView(view(usedPath('legit-1'), '198.51.100.1')));
  if (first.decision.action === 'deny') throw new Error(`the legitimate flow was denied: ${first.decision.reasons.join(',')}`);

  const before = settle();
  const answers: Record<string, number> = {};
  let peakRss = before.rss;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const rnd = `${i.toString(36)}${Math.random().toString(36).slice(2)}`;
    const v = view(`/oauth2/callback?code=flood-${rnd}&state=flood-${rnd}`, source(i));
    const r = await rt.pipeline.decide(v, attributesFromView(v));
    const why = r.decision.action === 'deny' ? r.decision.reasons[0] : `allowed:${r.decision.backend}`;
    answers[why] = (answers[why] ?? 0) + 1;
    if ((i & 8191) === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = settle();
  const replay = await rt.pipeline.decide(view(usedPath('legit-2'), '198.51.100.1'), attributesFromView(view(usedPath('legit-2'), '198.51.100.1')));
  const replayStore = deps.replayStore as unknown as { counts?: () => Record<string, number> };
  const pinStore = deps.pinStore as unknown as { size?: number };
  console.log(JSON.stringify({
    callbacks: N,
    sources: Math.min(SOURCES, N),
    seconds: +seconds.toFixed(1),
    answers,
    rss_mb: { before: mb(before.rss), after: mb(after.rss), peak_sampled: mb(peakRss) },
    heap_used_mb: { before: mb(before.heapUsed), after: mb(after.heapUsed) },
    stores_after: { markers: replayStore.counts?.() ?? 'n/a', pins: pinStore.size ?? 'n/a' },
    limiter_sources_tracked: (deps as unknown as { unknownStates?: { trackedSources: number } }).unknownStates?.trackedSources ?? 'n/a',
    used_flow_replay_after_flood: replay.decision.action === 'deny' ? `deny ${replay.decision.reasons[0]}` : `ALLOWED ${replay.decision.backend}`,
  }, null, 2));
  await rt.close();
}

void main();
