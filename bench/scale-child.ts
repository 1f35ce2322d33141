// One point of `npm run bench:scale` (bench/scale.ts forks one child per point, so RSS is that point's):
// the real App from dist/ (bench/dist.ts) with its memory stores, measured in-process.
//   registry N   a registry of N connections (2 hosts, 2 backends, 2 issuers each) read from a YAML file:
//                start time, RSS, decision time on the first, middle and last connection, and a registry
//                reload (one connection's canary percent edited) while decisions run back to back
//   pins N       the embedded demo with N outstanding pins in the memory store: RSS, heap bytes per pin,
//                decision time
//   markers N    the embedded demo with N one-time markers (codes) in the memory store: heap bytes each
//   data K       the embedded demo with a data document of K entries (`serve --data`): start time, RSS,
//                decision time, and a policy reload while decisions run
// Prints one JSON line. Decision time is Decider.decide (facts, policy, validation, commit) on a callback
// with a fresh minted state, the request already adapted (as the gRPC handler hands it over).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import pino from 'pino';
import type { AdaptedRequest } from '../ext-authz/src/check/adapter';
import type { DecodedCheckRequest } from '../ext-authz/src/check/check-request-types';
import type { Decider } from '../ext-authz/src/check/check-core';
import type { Runtime } from '../ext-authz/src/app';
import { DIST_SRC, ROOT, distApp, distDefault, distProtos } from './dist';
import { callbackRequest } from './requests';

const d = <T>(rel: string): T => require(path.join(DIST_SRC, rel)) as T;
const { adaptCheckRequest } = d<typeof import('../ext-authz/src/check/adapter')>('check/adapter');
const { mintState, createPin } = d<typeof import('../ext-authz/src/pipeline/pins/mint')>('pipeline/pins/mint');

const gc = (globalThis as { gc?: () => void }).gc;
const settle = (): NodeJS.MemoryUsage => {
  for (let i = 0; i < 3; i++) gc?.();
  return process.memoryUsage();
};
const mb = (b: number): number => Math.round((b / 1048576) * 10) / 10;
const r1 = (x: number): number => Math.round(x * 10) / 10;

/** Log lines as objects (the reload events carry their own timings). */
function capturingLogger(): { logger: pino.Logger; events: Record<string, unknown>[] } {
  const events: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) events.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), events };
}

interface Target {
  connection: string;
  host: string;
  backends: { id: string; iss: string }[];
}

/** Adapted callbacks to `t`, each with its own freshly minted state, alternating the two backends. */
async function callbacks(rt: Runtime, t: Target, n: number): Promise<AdaptedRequest[]> {
  const check = distProtos().loadProtos().authorizationService.Check;
  const out: AdaptedRequest[] = [];
  for (let i = 0; i < n; i++) {
    const b = t.backends[i % t.backends.length];
    const { state } = await mintState(t.connection, b.id, rt.factsDeps(), Date.now());
    // Through the wire encoding and back, as the gRPC listener receives it.
    const wire = check.requestSerialize(callbackRequest(state, null, { host: t.host, iss: b.iss }));
    out.push(adaptCheckRequest(check.requestDeserialize(wire) as DecodedCheckRequest));
  }
  return out;
}

async function decideAll(decider: Decider, reqs: AdaptedRequest[]): Promise<{ us: number[]; allowed: number }> {
  const us: number[] = [];
  let allowed = 0;
  for (const r of reqs) {
    if (!r.ok) throw new Error('bench request did not adapt');
    const t0 = process.hrtime.bigint();
    const res = await decider.decide(r.view, r.attributes);
    us.push(Number(process.hrtime.bigint() - t0) / 1000);
    if (res.decision.action !== 'deny') allowed++;
  }
  return { us, allowed };
}

function summary(us: number[]): { p50_us: number; p99_us: number; max_us: number } {
  const s = [...us].sort((a, b) => a - b);
  const at = (p: number): number => r1(s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]);
  return { p50_us: at(0.5), p99_us: at(0.99), max_us: r1(s[s.length - 1]) };
}

/** Decision time on `t`: warm-up, then `n` timed decisions. */
async function decisionTime(rt: Runtime, t: Target, n = 1500): Promise<Record<string, unknown>> {
  await decideAll(rt.decider, await callbacks(rt, t, 300));
  const { us, allowed } = await decideAll(rt.decider, await callbacks(rt, t, n));
  return { connection: t.connection, ...summary(us), allowed: `${allowed}/${n}` };
}

/**
 * Decisions back to back (each on a fresh state, a macrotask apart, as requests from the network
 * arrive) while `trigger()` makes the service reload, until `done()`: the longest decision, and the
 * longest gap between two completions — what a request arriving during the reload waits at most.
 */
async function duringReload(rt: Runtime, t: Target, trigger: () => void, done: () => boolean, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const pool = await callbacks(rt, t, 4000);
  let i = 0;
  let maxUs = 0;
  let maxGapMs = 0;
  let n = 0;
  let peakRss = process.memoryUsage().rss;
  const lat: number[] = [];
  let last = performance.now();
  const until = Date.now() + timeoutMs;
  trigger();
  while (!done() && Date.now() < until) {
    await new Promise((r) => setImmediate(r));
    const r = pool[i++ % pool.length];
    if (!r.ok) throw new Error('bench request did not adapt');
    const t0 = process.hrtime.bigint();
    await rt.decider.decide(r.view, r.attributes);
    const us = Number(process.hrtime.bigint() - t0) / 1000;
    lat.push(us);
    maxUs = Math.max(maxUs, us);
    if (n % 200 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
    n++;
  }
  if (!done()) throw new Error('the reload did not happen within the timeout');
  return { decisions_during: n, p99_decision_us: summary(lat).p99_us, max_decision_us: r1(maxUs), max_gap_ms: r1(maxGapMs), peak_rss_mb: mb(peakRss) };
}

function registryFor(n: number): { registry: Record<string, unknown>; targets: Target[] } {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...(ec.publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid: 'bench', alg: 'ES256', use: 'sig' };
  const connections: Record<string, unknown>[] = [];
  const issuers: Record<string, unknown>[] = [];
  const stateKeys: Record<string, string> = {};
  const pinTokens: Record<string, string> = {};
  const targets: Target[] = [];
  for (let i = 0; i < n; i++) {
    const name = `c${i}`;
    const legacy = { id: `${name}-legacy`, iss: `https://${name}.legacy-idp.example.com` };
    const neu = { id: `${name}-new`, iss: `https://${name}.new-idp.example.com` };
    const hosts = [`${name}.auth.example.com`, `${name}.auth.example.org`];
    connections.push({
      name,
      hosts,
      client_ids: [`${name}-client`],
      routes: { oauth_callback: ['/oauth2/callback'], login_start: ['/login'], logout: ['/backchannel-logout'] },
      backends: [
        { id: legacy.id, role: 'legacy', cluster: `${name}_legacy`, issuer: legacy.iss, iss_parameter_supported: true },
        { id: neu.id, role: 'new', cluster: `${name}_new`, issuer: neu.iss, iss_parameter_supported: true },
      ],
      stage: 'canary',
      canary_percent: 50,
      cohort_key: 'client_id',
      require_pin: true,
      pin_ttl_s: 600,
      return_params: ['returnTo'],
    });
    for (const b of [legacy, neu]) {
      issuers.push({ issuer: b.iss, backend: b.id, jwks: { keys: [jwk] }, algs: ['ES256'], audiences: [`${name}-client`] });
      pinTokens[b.id] = `bench-pin-token-${name}`;
    }
    stateKeys[neu.id] = randomBytes(32).toString('base64url');
    if (i === 0 || i === Math.floor(n / 2) || i === n - 1) targets.push({ connection: name, host: hosts[1], backends: [legacy, neu] });
  }
  const b64 = (): string => randomBytes(32).toString('base64url');
  const registry = { version: 1, connections, issuers, keys: { hash_key: b64(), cookie_key: b64(), state_keys: stateKeys, pin_api_tokens: pinTokens } };
  return { registry, targets: [...new Map(targets.map((t) => [t.connection, t])).values()] };
}

async function registryPoint(n: number): Promise<Record<string, unknown>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cp-scale-'));
  const file = path.join(dir, 'registry.yaml');
  const { registry, targets } = registryFor(n);
  fs.writeFileSync(file, stringify(registry, { aliasDuplicateObjects: false }));
  const bytes = fs.statSync(file).size;
  const base = settle().rss;
  const { logger, events } = capturingLogger();
  const { App } = distApp();
  const t0 = performance.now();
  const app = new App({ configFile: file, grpcAddr: '127.0.0.1:0', httpAddr: '127.0.0.1:0', graceMs: 0, watch: true, logger });
  await app.start();
  const startMs = performance.now() - t0;
  const rt = app.current!;
  const decision = [];
  for (const t of targets) decision.push(await decisionTime(rt, t));
  const rss = settle().rss;
  // Reload: one connection's canary percent changes; the decisions run on another connection.
  const last = (registry.connections as { canary_percent: number }[])[n - 1];
  last.canary_percent = 40;
  const edited = stringify(registry, { aliasDuplicateObjects: false });
  const before = events.length;
  const reloaded = (): boolean => events.slice(before).some((e) => e.event === 'registry_reloaded');
  const during = await duringReload(rt, targets[0], () => fs.writeFileSync(file, edited), reloaded);
  const ev = events.slice(before).find((e) => e.event === 'registry_reloaded')!;
  await app.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    point: 'registry', connections: n, hosts: 2 * n, backends: 2 * n, issuers: 2 * n, file_kb: Math.round(bytes / 1024),
    start_ms: Math.round(startMs), rss_mb: mb(rss), rss_over_bare_node_mb: mb(rss - base),
    decision, reload: { load_ms: ev.load_ms, prepare_ms: ev.prepare_ms, ...during },
  };
}

function demoTarget(): Target {
  return { connection: 'demo', host: 'auth.example.com', backends: [{ id: 'legacy', iss: 'https://legacy-idp.example.com' }, { id: 'new', iss: 'https://new-idp.example.com' }] };
}

async function pinsPoint(n: number): Promise<Record<string, unknown>> {
  const demo = distDefault().createDemoSetup();
  demo.registry.limits = { ...demo.registry.limits, max_pins: Math.max(n + 10_000, demo.registry.limits.max_pins) };
  const { App } = distApp();
  const app = new App({ demo, grpcAddr: '127.0.0.1:0', httpAddr: '127.0.0.1:0', graceMs: 0, watch: false, logger: pino({ level: 'silent' }) });
  await app.start();
  const rt = app.current!;
  // Warm the path before the baseline, so the JIT's code is not counted as pins.
  await decisionTime(rt, demoTarget(), 300);
  const m0 = settle();
  const now = Date.now();
  for (let i = 0; i < n; i++) {
    await createPin('demo', 'legacy', randomBytes(24).toString('base64url'), 'query', rt.factsDeps(), now);
    // The memory store answers in microtasks: without a turn of the event loop now and then the
    // service's timers (the stage overrides' poll) would not run, and it would fail closed (stage_unknown).
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
  const m1 = settle();
  const held = rt.pinsOutstanding();
  const decision = await decisionTime(rt, demoTarget());
  const m2 = settle();
  await app.stop();
  return {
    point: 'pins', pins: n, held, rss_mb: mb(m2.rss), heap_used_mb: mb(m2.heapUsed),
    heap_bytes_per_pin: n ? Math.round((m1.heapUsed - m0.heapUsed) / n) : null,
    rss_bytes_per_pin: n ? Math.round((m1.rss - m0.rss) / n) : null,
    decision,
  };
}

async function markersPoint(n: number): Promise<Record<string, unknown>> {
  const { keyedHash } = d<typeof import('../ext-authz/src/pipeline/facts/keyed-hash')>('pipeline/facts/keyed-hash');
  const demo = distDefault().createDemoSetup();
  demo.registry.limits = { ...demo.registry.limits, max_code_markers: Math.max(n + 10_000, demo.registry.limits.max_code_markers) };
  const { App } = distApp();
  const app = new App({ demo, grpcAddr: '127.0.0.1:0', httpAddr: '127.0.0.1:0', graceMs: 0, watch: false, logger: pino({ level: 'silent' }) });
  await app.start();
  const rt = app.current!;
  await decisionTime(rt, demoTarget(), 300);
  const deps = rt.factsDeps();
  const m0 = settle();
  // Keyed hashes made as a request makes them, kept by the store: the figure includes the hash string.
  for (let i = 0; i < n; i++) {
    await deps.replayStore.commit([{ namespace: 'code', hash: keyedHash(deps.keys.hash, 'code', `code-${i}-${'x'.repeat(40)}`), ttlMs: 600_000 }]);
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
  const m1 = settle();
  await app.stop();
  return { point: 'markers', markers: n, rss_mb: mb(m1.rss), heap_bytes_per_marker: n ? Math.round((m1.heapUsed - m0.heapUsed) / n) : null };
}

async function dataPoint(k: number): Promise<Record<string, unknown>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cp-scale-'));
  // A copy of the shipped policy, so the reload can touch a file of its own.
  const policyDir = path.join(dir, 'policy');
  fs.cpSync(path.join(ROOT, 'policies', 'callback'), policyDir, { recursive: true });
  const dataFile = path.join(dir, 'data.json');
  const entries: Record<string, unknown> = {};
  for (let i = 0; i < k; i++) entries[`tenant-${i}`] = { name: `Tenant ${i}`, backends: [`t${i}-legacy`, `t${i}-new`], percent: i % 100, enabled: i % 3 !== 0 };
  fs.writeFileSync(dataFile, JSON.stringify({ bench: { tenants: entries } }));
  const bytes = fs.statSync(dataFile).size;
  const { logger } = capturingLogger();
  const { App } = distApp();
  const t0 = performance.now();
  const app = new App({ policyDir, dataFile, grpcAddr: '127.0.0.1:0', httpAddr: '127.0.0.1:0', graceMs: 0, watch: true, logger });
  await app.start();
  const startMs = performance.now() - t0;
  const rt = app.current!;
  const decision = await decisionTime(rt, demoTarget());
  const rss = settle().rss;
  const rev = rt.engine.revision;
  const during = await duringReload(
    rt,
    demoTarget(),
    () => fs.appendFileSync(path.join(policyDir, 'facts.rego'), '\n# reload\n'),
    () => rt.engine.revision !== rev,
  );
  await app.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  return { point: 'data', entries: k, data_kb: Math.round(bytes / 1024), start_ms: Math.round(startMs), rss_mb: mb(rss), decision, reload: during };
}

async function main(): Promise<void> {
  const [mode, arg, file] = process.argv.slice(2);
  const n = Number(arg);
  if (mode === 'write') {
    // The registry of a point, for profiling its load by hand: `write N file.yaml`.
    fs.writeFileSync(file, stringify(registryFor(n).registry, { aliasDuplicateObjects: false }));
    return;
  }
  const out = mode === 'registry' ? await registryPoint(n) : mode === 'pins' ? await pinsPoint(n) : mode === 'data' ? await dataPoint(n) : mode === 'markers' ? await markersPoint(n) : null;
  if (!out) throw new Error(`usage: scale-child.ts registry|pins|markers|data <n>`);
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

void main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
