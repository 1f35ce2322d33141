// `npm run bench` (issue #3 "Benchmark"; not a test): Check over real gRPC against a null grpc-js server
// and against our server (embedded default, callback policy), each in a child process pinned to one
// core when `taskset` exists, driven from this process (pre-encoded requests over one HTTP/2 session,
// bench/h2-client.ts) at several concurrency levels. Prints a table and writes .tmp/bench-<time>.json.
import { fork, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadProtos } from '../ext-authz/src/check/protos';
import { callbackRequest, mintPool } from './requests';
import { CHECK_PATH, frame, H2Client } from './h2-client';
import type { PhaseProfile } from './phase-profile';

const ROOT = path.join(__dirname, '..');
const LEVELS = (process.env.BENCH_LEVELS ?? '1,16,80').split(',').map(Number);
/** Requests per level (fixed count: each allowed request needs its own minted state). */
const COUNT = Number(process.env.BENCH_COUNT ?? 4000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2000);

interface Stats {
  cpu: NodeJS.CpuUsage;
  rss: number;
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

function startChild(kind: 'null' | 'app'): Promise<Child> {
  const script = path.join(__dirname, 'bench-child.ts');
  // BENCH_CPU_PROF=dir writes a V8 CPU profile of our server child (where the time goes).
  const prof = kind === 'app' && process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  // The same esbuild transform as `npm run build` (scripts/ts-register.cjs): the child runs the code the image ships.
  const hook = path.join(ROOT, 'scripts', 'ts-register.cjs');
  const proc = fork(script, [kind], { cwd: ROOT, execArgv: ['-r', hook, ...prof], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    proc.once('exit', (c) => reject(new Error(`${kind} child exited ${c}`)));
    proc.once('message', (m: { ready?: boolean; port: number }) => {
      // Server on CPU 0, this driver on the others.
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
  target: string;
  concurrency: number;
  requests: number;
  allowed: number;
  denied: number;
  errors: number;
  seconds: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  p999_ms: number;
  cpu_us_per_req: number;
  rss_mb: number;
}

async function drive(target: string, c: Child, concurrency: number, reqs: unknown[]): Promise<LevelResult> {
  const check = loadProtos().authorizationService.Check;
  // Encode and frame everything first: the timed loop only writes bytes and reads replies.
  const framed = reqs.map((r) => frame(check.requestSerialize(r)));
  const client = new H2Client(c.port);
  await client.ready();
  const lat: number[] = [];
  const replies: Buffer[] = [];
  let next = 0;
  let errors = 0;
  const before = await stats(c);
  const t0 = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next < framed.length) {
      const body = framed[next++];
      const s = process.hrtime.bigint();
      const r = await client.call(CHECK_PATH, body);
      lat.push(Number(process.hrtime.bigint() - s) / 1e6);
      if (r.grpcStatus !== 0) errors++;
      else replies.push(r.message);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = await stats(c);
  client.close();
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
    target,
    concurrency,
    requests: reqs.length,
    allowed,
    denied,
    errors,
    seconds: r3(seconds),
    rps: Math.round(reqs.length / seconds),
    p50_ms: r3(pct(lat, 50)),
    p99_ms: r3(pct(lat, 99)),
    p999_ms: r3(pct(lat, 99.9)),
    cpu_us_per_req: Math.round(cpuUs / reqs.length),
    rss_mb: Math.round(after.rss / 1048576),
  };
}

/** Half legacy-pinned, half new-pinned callbacks, each with a fresh state minted via the Pin API. */
async function appRequests(c: Child, n: number): Promise<unknown[]> {
  const protos = loadProtos();
  const pins = new protos.PinsClient(`127.0.0.1:${c.port}`, grpc.credentials.createInsecure()) as any;
  const legacy = await mintPool(pins, Math.ceil(n / 2), 'legacy');
  const neu = await mintPool(pins, Math.floor(n / 2), 'new');
  pins.close();
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push(i % 2 === 0 ? callbackRequest(legacy[i >> 1], 'legacy') : callbackRequest(neu[i >> 1], 'new'));
  return out;
}

function table(rows: LevelResult[]): string {
  const cols: (keyof LevelResult)[] = ['target', 'concurrency', 'requests', 'allowed', 'denied', 'errors', 'rps', 'p50_ms', 'p99_ms', 'p999_ms', 'cpu_us_per_req', 'rss_mb'];
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (vals: string[]): string => vals.map((v, i) => v.padStart(w[i])).join('  ');
  return [line(cols), ...rows.map((r) => line(cols.map((c) => String(r[c]))))].join('\n');
}

async function main(): Promise<void> {
  if (PIN) execFileSync('taskset', ['-a', '-p', '-c', `1-${os.cpus().length - 1}`, String(process.pid)], { stdio: 'ignore' });
  console.log(`bench: levels ${LEVELS.join(',')}, ${COUNT} requests per level, warmup ${WARMUP}; server pinned to one core: ${PIN ? 'yes (taskset)' : 'no'}; cores ${os.cpus().length}; load average ${os.loadavg()[0].toFixed(2)} (other work on the machine skews every figure)`);
  const nul = await startChild('null');
  const app = await startChild('app');
  const rows: LevelResult[] = [];
  try {
    // Warm both (JIT, connection setup): the null server with any request, ours with real callbacks.
    await drive('null', nul, 16, Array.from({ length: WARMUP }, () => callbackRequest('warm', 'legacy')));
    await drive('callback-proxy', app, 16, await appRequests(app, WARMUP));
    for (const level of LEVELS) {
      rows.push(await drive('null', nul, level, Array.from({ length: COUNT }, () => callbackRequest('x', 'legacy'))));
      rows.push(await drive('callback-proxy', app, level, await appRequests(app, COUNT)));
    }
    const { profile } = await app.rpc<{ profile: PhaseProfile }>({ cmd: 'profile', n: 2000 }, 'profile');
    console.log(table(rows));
    const ratios = LEVELS.map((l) => {
      const n = rows.find((r) => r.target === 'null' && r.concurrency === l) as LevelResult;
      const a = rows.find((r) => r.target === 'callback-proxy' && r.concurrency === l) as LevelResult;
      // CPU per request is the saturated-core throughput ratio and is much less sensitive to other
      // load on the machine than wall-clock throughput (which needs the server core to be saturated).
      return {
        concurrency: l,
        throughput_ratio: Math.round((a.rps / n.rps) * 1000) / 1000,
        cpu_ratio: Math.round((n.cpu_us_per_req / a.cpu_us_per_req) * 1000) / 1000,
      };
    });
    console.log('\nthroughput vs null server:', ratios.map((r) => `c=${r.concurrency}: ${(r.throughput_ratio * 100).toFixed(1)} %`).join(', '));
    console.log('CPU-per-request ratio (null / ours):', ratios.map((r) => `c=${r.concurrency}: ${(r.cpu_ratio * 100).toFixed(1)} %`).join(', '));
    console.log('phase profile (µs per request, in-process, allowed callbacks):', JSON.stringify(profile.us), `allowed ${profile.allowed}/${profile.n}`, 'server-side ms', JSON.stringify(profile.total_ms));
    const at80 = ratios.find((r) => r.concurrency === 80);
    const p99c1 = rows.find((r) => r.target === 'callback-proxy' && r.concurrency === 1);
    const targets = {
      throughput_ratio_c80: at80?.throughput_ratio ?? null,
      throughput_target_met: at80 ? at80.throughput_ratio >= 0.6 : null,
      cpu_ratio_c80: at80?.cpu_ratio ?? null,
      p99_ms_c1: p99c1?.p99_ms ?? null,
      p99_target_met: p99c1 ? p99c1.p99_ms <= 1 : null,
    };
    console.log('targets (one core, 80 in flight ≥ 60 % of null; p99 ≤ 1 ms at 1 in flight):', JSON.stringify(targets));
    const out = { when: new Date().toISOString(), loadavg_1m: os.loadavg()[0], node: process.version, cores: os.cpus().length, cpu: os.cpus()[0]?.model, pinned: PIN, count: COUNT, rows, ratios, profile, targets, log_level: process.env.BENCH_LOG_LEVEL ?? 'info' };
    fs.mkdirSync(path.join(ROOT, '.tmp'), { recursive: true });
    const file = path.join(ROOT, '.tmp', `bench-${Date.now()}.json`);
    fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
    console.log(`wrote ${path.relative(ROOT, file)}`);
  } finally {
    nul.proc.kill('SIGKILL');
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
