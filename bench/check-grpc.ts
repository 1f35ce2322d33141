// `npm run bench` (not a test): Check over real gRPC against a null grpc-js server (decodes the
// CheckRequest, answers a fixed OK) and against our server (embedded default, the callback policy), each
// in a child process running the compiled dist/ (bench/dist.ts, the runtime `bin/callback-proxy.cjs`
// runs), driven from this process with pre-encoded requests over node:http2 sessions (bench/h2-client.ts).
//
// Method (docs/performance.md, "Method"):
// * levels are CONNECTIONS×IN-FLIGHT (default 1x1, 8x10, 32x10): that many HTTP/2 sessions, each with
//   that many calls outstanding at all times (as Envoy workers each keep one connection busy);
// * every allowed callback carries its own freshly minted state (Pin API MintState before the level,
//   outside the timed window), half legacy- and half new-pinned, like the real flow;
// * with `taskset` and ≥2 cores, both servers run pinned to CPU 0 and this driver to the other CPUs, so
//   the server's core is saturated by the server alone;
// * CPU µs per request is the server child's process.cpuUsage() over the level / requests; the ratio to
//   null is the throughput ratio (rps ours / rps null) of the same round;
// * the server-side latency is timed inside the server process around the Check method (bench-child.ts),
//   independent of the client sharing the machine; the 1x1 p99 is the issue's latency figure;
// * BENCH_ROUNDS rounds (default 3), null and ours interleaved level by level with the order alternating,
//   reported as median [min–max] over the rounds.
// BENCH_BASELINE=<dir of another checkout, built>: a third server, that checkout's dist/ (same bench
// child, same requests), interleaved with ours level by level: a before/after under the same noise.
// BENCH_TRACING=off (default) | on | both: `on` traces every check (OTLP/HTTP to a local sink that
// accepts and discards); `both` runs our server untraced and traced side by side and reports the CPU
// cost of tracing per request. BENCH_CPU_PROF=dir writes a V8 CPU profile of our server child for each
// timed level (docs/performance.md, "CPU profile").
// Prints a table and writes .tmp/bench-<time>.json.
import { fork, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { callbackRequest, mintPool } from './requests';
import { CHECK_PATH, frame, H2Client } from './h2-client';
import type { PhaseProfile } from './phase-profile';
import { ROOT, distProtos, ensureBuilt } from './dist';

interface Level {
  conns: number;
  inflight: number;
  name: string;
}
const LEVELS: Level[] = (process.env.BENCH_LEVELS ?? '1x1,8x10,32x10').split(',').map((s) => {
  const [c, f] = s.split('x').map(Number);
  if (!(c >= 1 && f >= 1)) throw new Error(`BENCH_LEVELS: ${JSON.stringify(s)} is not CONNECTIONSxINFLIGHT`);
  return { conns: c, inflight: f, name: `${c}x${f}` };
});
/** Requests per level (fixed count: each allowed request needs its own minted state). */
const COUNT = Number(process.env.BENCH_COUNT ?? 4000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3000);
const TRACING = (process.env.BENCH_TRACING ?? 'off') as 'off' | 'on' | 'both';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TRACED = 'callback-proxy+tracing';
const BASELINE = process.env.BENCH_BASELINE ? path.resolve(process.env.BENCH_BASELINE) : null;
const BASE = 'baseline';
const PROF_DIR = process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : null;
if (PROF_DIR) fs.mkdirSync(PROF_DIR, { recursive: true });

interface HandlerStats {
  n: number;
  p50_us: number;
  p99_us: number;
  p999_us: number;
  max_us: number;
}

interface Stats {
  cpu: NodeJS.CpuUsage;
  rss: number;
  handler: HandlerStats;
}

interface Child {
  proc: ChildProcess;
  port: number;
  /** Sends a command; resolves with the first reply that has `key`. */
  rpc<T>(cmd: Record<string, unknown>, key: string): Promise<T>;
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return os.cpus().length > 1;
  } catch {
    return false;
  }
}

const PIN = hasTaskset();

/** An OTLP/HTTP endpoint that accepts every export and keeps only counts (the traced child's collector). */
function startOtlpSink(): Promise<{ url: string; stats: { requests: number; bytes: number }; close(): void }> {
  const stats = { requests: 0, bytes: 0 };
  const server = http.createServer((req, res) => {
    req.on('data', (c: Buffer) => (stats.bytes += c.length));
    req.on('end', () => {
      stats.requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      resolve({ url: `http://127.0.0.1:${port}`, stats, close: () => server.close() });
    }),
  );
}

function startChild(kind: 'null' | 'app' | 'app-traced', env: Record<string, string> = {}, label: string = kind): Promise<Child> {
  const script = path.join(__dirname, 'bench-child.ts');
  // The hook transforms the bench glue only; the servers themselves are dist/ (bench/dist.ts).
  const hook = path.join(ROOT, 'scripts', 'ts-register.cjs');
  const proc = fork(script, [kind], { cwd: ROOT, execArgv: ['-r', hook], stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    proc.once('exit', (c) => reject(new Error(`${label} child exited ${c}`)));
    proc.once('message', (m: { ready?: boolean; port: number }) => {
      // Server on CPU 0 (all its threads), this driver on the others.
      if (PIN && proc.pid) execFileSync('taskset', ['-a', '-p', '-c', '0', String(proc.pid)], { stdio: 'ignore' });
      const rpc = <T>(cmd: Record<string, unknown>, key: string): Promise<T> =>
        new Promise((res) => {
          const on = (msg: Record<string, unknown>): void => {
            if (!(key in msg)) return;
            proc.off('message', on);
            res(msg as T);
          };
          proc.on('message', on);
          proc.send(cmd);
        });
      resolve({ proc, port: m.port, rpc });
    });
  });
}

async function stats(c: Child): Promise<Stats> {
  return c.rpc<Stats>({ cmd: 'stats' }, 'cpu');
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

interface LevelResult {
  round: number;
  target: string;
  level: string;
  requests: number;
  allowed: number;
  denied: number;
  errors: number;
  seconds: number;
  rps: number;
  client_p50_ms: number;
  client_p99_ms: number;
  server_p50_us: number;
  server_p99_us: number;
  server_p999_us: number;
  cpu_us_per_req: number;
  rss_mb: number;
}

async function drive(target: string, c: Child, level: Level, reqs: unknown[], round: number): Promise<LevelResult> {
  const check = distProtos().loadProtos().authorizationService.Check;
  // Encode and frame everything first: the timed loop only writes bytes and reads replies.
  const framed = reqs.map((r) => frame(check.requestSerialize(r)));
  const clients = Array.from({ length: level.conns }, () => new H2Client(c.port));
  await Promise.all(clients.map((cl) => cl.ready()));
  const lat: number[] = [];
  const replies: Buffer[] = [];
  let next = 0;
  let errors = 0;
  // BENCH_CPU_PROF=dir: a V8 CPU profile of our server over this level's timed window (bench-child.ts).
  const prof = PROF_DIR && target !== 'null' && round >= 0 ? path.join(PROF_DIR, `${target}-${level.name}-r${round}.cpuprofile`) : null;
  if (prof) await c.rpc({ cmd: 'cpu-prof', on: true }, 'profiled');
  const before = await stats(c);
  const t0 = process.hrtime.bigint();
  const worker = async (client: H2Client): Promise<void> => {
    while (next < framed.length) {
      const body = framed[next++];
      const s = process.hrtime.bigint();
      const r = await client.call(CHECK_PATH, body);
      lat.push(Number(process.hrtime.bigint() - s) / 1e6);
      if (r.grpcStatus !== 0) errors++;
      else replies.push(r.message);
    }
  };
  await Promise.all(clients.flatMap((cl) => Array.from({ length: level.inflight }, () => worker(cl))));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = await stats(c);
  if (prof) await c.rpc({ cmd: 'cpu-prof', on: false, file: prof }, 'profiled');
  for (const cl of clients) cl.close();
  // Decoded after the clock stopped: CheckResponse.status.code 0 = allow.
  let allowed = 0;
  let denied = 0;
  for (const m of replies) {
    const v = check.responseDeserialize(m) as { status?: { code?: number } };
    if ((v.status?.code ?? 0) === 0) allowed++;
    else denied++;
  }
  lat.sort((a, b) => a - b);
  const cpuUs = after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system;
  const r3 = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    round,
    target,
    level: level.name,
    requests: reqs.length,
    allowed,
    denied,
    errors,
    seconds: r3(seconds),
    rps: Math.round(reqs.length / seconds),
    client_p50_ms: r3(pct(lat, 50)),
    client_p99_ms: r3(pct(lat, 99)),
    server_p50_us: after.handler.p50_us,
    server_p99_us: after.handler.p99_us,
    server_p999_us: after.handler.p999_us,
    cpu_us_per_req: Math.round(cpuUs / reqs.length),
    rss_mb: Math.round(after.rss / 1048576),
  };
}

/** Half legacy-pinned, half new-pinned callbacks, each with a fresh state minted via the Pin API. */
async function appRequests(c: Child, n: number): Promise<unknown[]> {
  const protos = distProtos().loadProtos();
  const pins = new protos.PinsClient(`127.0.0.1:${c.port}`, grpc.credentials.createInsecure()) as any;
  const legacy = await mintPool(pins, Math.ceil(n / 2), 'legacy');
  const neu = await mintPool(pins, Math.floor(n / 2), 'new');
  pins.close();
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push(i % 2 === 0 ? callbackRequest(legacy[i >> 1], 'legacy') : callbackRequest(neu[i >> 1], 'new'));
  return out;
}

function table<T extends object>(rows: T[], cols: (keyof T)[]): string {
  const w = cols.map((c) => Math.max(String(c).length, ...rows.map((r) => String(r[c]).length)));
  const line = (vals: string[]): string => vals.map((v, i) => v.padStart(w[i])).join('  ');
  return [line(cols.map(String)), ...rows.map((r) => line(cols.map((c) => String(r[c]))))].join('\n');
}

/** "median [min–max]" of a list. */
function spread(v: number[], digits = 0): { median: number; min: number; max: number; text: string } {
  const s = [...v].sort((a, b) => a - b);
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  const f = (x: number): string => x.toFixed(digits);
  return { median, min: s[0], max: s[s.length - 1], text: s.length > 1 ? `${f(median)} [${f(s[0])}–${f(s[s.length - 1])}]` : f(median) };
}

async function main(): Promise<void> {
  await ensureBuilt();
  if (PIN) execFileSync('taskset', ['-a', '-p', '-c', `1-${os.cpus().length - 1}`, String(process.pid)], { stdio: 'ignore' });
  const method = PIN ? 'servers pinned to CPU 0 with taskset -a, this driver to CPUs 1-' + (os.cpus().length - 1) : 'no pinning (taskset missing or one core): server and driver share the cores';
  console.log(
    `bench: runtime dist/ (compiled, as shipped); levels ${LEVELS.map((l) => l.name).join(', ')} (connections×in-flight); ${COUNT} requests per level, ` +
      `each allowed callback with a fresh minted state; warmup ${WARMUP}; rounds ${ROUNDS}; tracing ${TRACING}; ${BASELINE ? `baseline: ${BASELINE}/dist; ` : ''}${method}; ` +
      `node ${process.version}; cores ${os.cpus().length}; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (other work on the machine skews every figure)`,
  );
  const sink = TRACING === 'off' ? null : await startOtlpSink();
  const nul = await startChild('null');
  // With BENCH_TRACING=on the one server traces; with both, a second (traced) server runs beside it.
  const app = await startChild(TRACING === 'on' ? 'app-traced' : 'app', sink ? { BENCH_OTLP_URL: sink.url } : {});
  const traced = TRACING === 'both' ? await startChild('app-traced', { BENCH_OTLP_URL: sink!.url }) : null;
  const baseline = BASELINE ? await startChild('app', { BENCH_DIST_ROOT: BASELINE }, BASE) : null;
  const appName = TRACING === 'on' ? TRACED : 'callback-proxy';
  const rows: LevelResult[] = [];
  try {
    // Warm them (JIT, connection setup): the null server with any request, ours with real callbacks.
    const warm: Level = { conns: 4, inflight: 4, name: 'warmup' };
    await drive('null', nul, warm, Array.from({ length: WARMUP }, () => callbackRequest('warm', 'legacy')), -1);
    await drive(appName, app, warm, await appRequests(app, WARMUP), -1);
    if (traced) await drive(TRACED, traced, warm, await appRequests(traced, WARMUP), -1);
    if (baseline) await drive(BASE, baseline, warm, await appRequests(baseline, WARMUP), -1);
    for (let round = 0; round < ROUNDS; round++) {
      for (const level of LEVELS) {
        // Alternate which goes first, so drift in the machine's load hits both alike.
        const order: [string, Child][] = [['null', nul], [appName, app], ...(traced ? [[TRACED, traced] as [string, Child]] : []), ...(baseline ? [[BASE, baseline] as [string, Child]] : [])];
        if (round % 2 === 1) order.reverse();
        for (const [name, c] of order) {
          const reqs = name === 'null' ? Array.from({ length: COUNT }, () => callbackRequest('x', 'legacy')) : await appRequests(c, COUNT);
          rows.push(await drive(name, c, level, reqs, round));
        }
      }
    }
    const { profile } = await app.rpc<{ profile: PhaseProfile }>({ cmd: 'profile', n: 2000 }, 'profile');
    console.log('\nevery run:');
    console.log(table(rows, ['round', 'target', 'level', 'requests', 'allowed', 'denied', 'errors', 'rps', 'client_p50_ms', 'client_p99_ms', 'server_p50_us', 'server_p99_us', 'server_p999_us', 'cpu_us_per_req', 'rss_mb']));
    const targets = [...new Set(rows.map((r) => r.target))];
    const summary = LEVELS.flatMap((l) =>
      targets.map((t) => {
        const rs = rows.filter((r) => r.target === t && r.level === l.name);
        const ratio = rs.map((r) => r.rps / (rows.find((n) => n.target === 'null' && n.level === l.name && n.round === r.round) as LevelResult).rps);
        return {
          level: l.name,
          target: t,
          rps: spread(rs.map((r) => r.rps)).text,
          ratio_to_null: spread(ratio.map((x) => x * 100), 1).text + ' %',
          cpu_us_per_req: spread(rs.map((r) => r.cpu_us_per_req)).text,
          server_p50_us: spread(rs.map((r) => r.server_p50_us)).text,
          server_p99_us: spread(rs.map((r) => r.server_p99_us)).text,
          all_allowed: rs.every((r) => t === 'null' || (r.allowed === r.requests && r.errors === 0)) ? 'yes' : 'NO',
          _ratio: spread(ratio).median,
          _cpu: spread(rs.map((r) => r.cpu_us_per_req)).median,
          _p99: spread(rs.map((r) => r.server_p99_us)).median,
        };
      }),
    );
    console.log(`\nsummary: median [min–max] over ${ROUNDS} round(s)`);
    console.log(table(summary, ['level', 'target', 'rps', 'ratio_to_null', 'cpu_us_per_req', 'server_p50_us', 'server_p99_us', 'all_allowed']));
    console.log('\nphase profile (µs per request, in-process, allowed callbacks):', JSON.stringify(profile.us), `allowed ${profile.allowed}/${profile.n}`, 'server-side ms', JSON.stringify(profile.total_ms));
    const at = (lvl: string): (typeof summary)[number] | undefined => summary.find((s) => s.level === lvl && s.target === appName);
    const goals = {
      ratio_8x10: at('8x10')?._ratio ?? null,
      ratio_target_met: at('8x10') ? at('8x10')!._ratio >= 0.8 : null,
      cpu_us_per_req_8x10: at('8x10')?._cpu ?? null,
      cpu_target_met: at('8x10') ? at('8x10')!._cpu <= 120 : null,
      server_p99_us_1x1: at('1x1')?._p99 ?? null,
      p99_target_met: at('1x1') ? at('1x1')!._p99 <= 1000 : null,
    };
    console.log('targets (8x10 ≥ 80 % of null and ≤ 120 µs CPU per callback; server-side p99 ≤ 1 ms at 1x1):', JSON.stringify(goals));
    const out = { when: new Date().toISOString(), loadavg: os.loadavg(), node: process.version, cores: os.cpus().length, cpu: os.cpus()[0]?.model, method, count: COUNT, tracing: TRACING, rounds: ROUNDS, rows, summary, profile, goals, log_level: process.env.BENCH_LOG_LEVEL ?? 'info' };
    fs.mkdirSync(path.join(ROOT, '.tmp'), { recursive: true });
    const file = path.join(ROOT, '.tmp', `bench-${Date.now()}.json`);
    fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
    console.log(`wrote ${path.relative(ROOT, file)}`);
    if (sink) console.log(`OTLP sink received ${sink.stats.requests} export requests, ${Math.round(sink.stats.bytes / 1024)} KiB`);
  } finally {
    nul.proc.kill('SIGKILL');
    traced?.proc.kill('SIGKILL');
    baseline?.proc.kill('SIGKILL');
    sink?.close();
    // A clean exit lets --cpu-prof write its file; SIGKILL if it hangs.
    const gone = new Promise<void>((r) => app.proc.once('exit', () => r()));
    app.proc.send({ cmd: 'exit' });
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    app.proc.kill('SIGKILL');
  }
}

void main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
