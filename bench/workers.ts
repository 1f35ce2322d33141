// `node -r ./scripts/ts-register.cjs bench/workers.ts` (not a test): what `serve --workers 2` buys over one
// process, with a real Redis (docs/performance.md, "Workers"). The shipped runtime (bin/callback-proxy.cjs,
// dist/) serves a one-connection registry from a file with --redis; the driver (bench/h2-client.ts,
// pre-encoded requests) runs 8 connections × 10 in flight of callbacks, each with its own state minted
// through the Pin API before the timed window. WORKERS_ROUNDS rounds (default 3), 1 and 2 workers
// alternating, median [min–max]. CPU per request is the sum over the serve processes (primary and
// workers) from /proc, and Redis's own.
// Method on a 2-core machine: nothing is pinned (two workers need both cores), so the driver and Redis
// share the cores with the workers; the factor is what a 2-core host gets with its load generator and
// store on board, a lower bound on what two dedicated cores give.
import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { stringify } from 'yaml';
import { freePort } from '../demo/ports';
import { ROOT, distDefault, distProtos, ensureBuilt } from './dist';
import { CHECK_PATH, frame, H2Client } from './h2-client';
import { callbackRequest, mintPool } from './requests';

const ROUNDS = Number(process.env.WORKERS_ROUNDS ?? 3);
const COUNT = Number(process.env.WORKERS_COUNT ?? 6000);
const CONNS = 8;
const INFLIGHT = 10;
const BIN = path.join(ROOT, 'bin', 'callback-proxy.cjs');
const TICK_US = 1e6 / 100; // USER_HZ is 100 on Linux

/** utime + stime of a process in µs, from /proc (0 when it is gone). */
function cpuUs(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_US;
  } catch {
    return 0;
  }
}

/** The machine's busy and total CPU time in µs, from /proc/stat (every core, every process). */
function machineCpu(): { busy: number; total: number } {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0) * TICK_US;
  const idle = (f[3] + (f[4] ?? 0)) * TICK_US;
  return { busy: total - idle, total };
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map((s) => Number(s.trim())).filter((n) => n > 0);
  } catch {
    return [];
  }
}

async function startServe(workers: number, config: string, redisUrl: string): Promise<{ proc: ChildProcess; grpcPort: number; pids: number[] }> {
  const proc = spawn(process.execPath, [BIN, 'serve', '--config', config, '--redis', redisUrl, '--workers', String(workers), '--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', '--admin-addr', '127.0.0.1:0', '--grace-ms', '0', '--log-level', 'warn'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const grpcPort = await new Promise<number>((resolve, reject) => {
    proc.once('exit', (c) => reject(new Error(`serve exited ${c}: ${err}`)));
    proc.stderr!.on('data', (c) => {
      err += String(c);
      const m = /callback-proxy ready: grpc=\S+:(\d+)/.exec(err);
      if (m) resolve(Number(m[1]));
    });
  });
  proc.removeAllListeners('exit');
  return { proc, grpcPort, pids: [proc.pid as number, ...childrenOf(proc.pid as number)] };
}

async function requests(port: number, n: number): Promise<Buffer[]> {
  const protos = distProtos().loadProtos();
  const pins = new protos.PinsClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as any;
  const legacy = await mintPool(pins, Math.ceil(n / 2), 'legacy');
  const neu = await mintPool(pins, Math.floor(n / 2), 'new');
  pins.close();
  const check = protos.authorizationService.Check;
  return Array.from({ length: n }, (_, i) => frame(check.requestSerialize(i % 2 === 0 ? callbackRequest(legacy[i >> 1], 'legacy') : callbackRequest(neu[i >> 1], 'new'))));
}

async function drive(port: number, framed: Buffer[]): Promise<{ seconds: number; ok: number }> {
  const clients = Array.from({ length: CONNS }, () => new H2Client(port));
  await Promise.all(clients.map((c) => c.ready()));
  const check = distProtos().loadProtos().authorizationService.Check;
  let next = 0;
  let ok = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    clients.flatMap((c) =>
      Array.from({ length: INFLIGHT }, async () => {
        while (next < framed.length) {
          const r = await c.call(CHECK_PATH, framed[next++]);
          if (r.grpcStatus === 0 && ((check.responseDeserialize(r.message) as { status?: { code?: number } }).status?.code ?? 0) === 0) ok++;
        }
      }),
    ),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  for (const c of clients) c.close();
  return { seconds, ok };
}

function spread(v: number[], digits = 0): string {
  const s = [...v].sort((a, b) => a - b);
  const med = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return s.length > 1 ? `${med.toFixed(digits)} [${s[0].toFixed(digits)}–${s[s.length - 1].toFixed(digits)}]` : med.toFixed(digits);
}

async function main(): Promise<void> {
  await ensureBuilt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cp-workers-'));
  const config = path.join(dir, 'registry.yaml');
  const reg = distDefault().createDemoRegistry();
  reg.keys.pin_api_tokens = { legacy: distDefault().DEMO_PIN_API_TOKEN, new: distDefault().DEMO_PIN_API_TOKEN };
  fs.writeFileSync(config, stringify(reg));
  const redisPort = await freePort();
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  console.log(
    `bench workers: dist/ runtime, --redis (redis-server on this machine), ${CONNS}x${INFLIGHT} (connections×in-flight), ${COUNT} callbacks per run, each with a fresh minted state; ` +
      `${ROUNDS} rounds, 1 and 2 workers alternating; nothing pinned: driver, Redis and workers share ${os.cpus().length} cores; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`,
  );
  const rows: { workers: number; round: number; rps: number; allowed: number; serve_cpu_us_per_req: number; redis_cpu_us_per_req: number; driver_cpu_us_per_req: number; other_cpu_us_per_req: number; machine_busy_pct: number }[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const workers of round % 2 === 0 ? [1, 2] : [2, 1]) {
        const s = await startServe(workers, config, `redis://127.0.0.1:${redisPort}/0`);
        try {
          await drive(s.grpcPort, await requests(s.grpcPort, 2000)); // warm-up: JIT, connections
          const framed = await requests(s.grpcPort, COUNT);
          const cpu0 = s.pids.reduce((a, p) => a + cpuUs(p), 0);
          const r0 = cpuUs(redis.pid as number);
          const d0 = process.cpuUsage();
          const m0 = machineCpu();
          const { seconds, ok } = await drive(s.grpcPort, framed);
          const m1 = machineCpu();
          const d1 = process.cpuUsage(d0);
          const cpu1 = s.pids.reduce((a, p) => a + cpuUs(p), 0);
          const r1 = cpuUs(redis.pid as number);
          const serve = (cpu1 - cpu0) / COUNT;
          const red = (r1 - r0) / COUNT;
          const drv = (d1.user + d1.system) / COUNT;
          // Everything else the machine ran meanwhile (other work on a shared machine), per request.
          const other = (m1.busy - m0.busy) / COUNT - serve - red - drv;
          rows.push({
            workers, round, rps: Math.round(COUNT / seconds), allowed: ok, serve_cpu_us_per_req: Math.round(serve), redis_cpu_us_per_req: Math.round(red),
            driver_cpu_us_per_req: Math.round(drv), other_cpu_us_per_req: Math.round(other), machine_busy_pct: Math.round((100 * (m1.busy - m0.busy)) / (m1.total - m0.total)),
          });
          console.log(JSON.stringify(rows[rows.length - 1]));
        } finally {
          s.proc.kill('SIGTERM');
          await new Promise((r) => s.proc.once('exit', r));
        }
      }
    }
  } finally {
    redis.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const of = (w: number): typeof rows => rows.filter((r) => r.workers === w);
  const factors = of(2).map((r) => r.rps / (of(1).find((x) => x.round === r.round) as (typeof rows)[number]).rps);
  for (const w of [1, 2]) {
    const m = (k: keyof (typeof rows)[number]): string => spread(of(w).map((r) => r[k]));
    console.log(`workers ${w}: rps ${m('rps')}; CPU µs per request: serve ${m('serve_cpu_us_per_req')}, redis ${m('redis_cpu_us_per_req')}, driver ${m('driver_cpu_us_per_req')}, other work on the machine ${m('other_cpu_us_per_req')}; machine busy ${m('machine_busy_pct')} %; all allowed ${of(w).every((r) => r.allowed === COUNT) ? 'yes' : 'NO'}`);
  }
  console.log(`scaling factor (2 workers / 1, same round): ${spread(factors, 2)}`);
}

void main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
