// Start-up and shutdown time of `callback-proxy serve` with telemetry off and with an OTLP endpoint that
// cannot be reached (not a test; `npx tsx bench/otel-startup.ts`). Variants run interleaved, BENCH_RUNS
// times each: no OTEL_* settings; an endpoint that refuses connections (a closed loopback port); an
// endpoint that never answers (a non-routable address: connection attempts hang until the export
// timeout). Measures spawn → "callback-proxy ready" and SIGTERM → exit (grace 0), in ms.
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../demo/ports';

const ROOT = path.join(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

interface Sample {
  ready: number;
  exit: number;
}

function once(env: Record<string, string>): Promise<Sample> {
  const t0 = process.hrtime.bigint();
  const child = spawn(
    process.execPath,
    ['--enable-source-maps', '-r', path.join(ROOT, 'bin', 'ts-register.cjs'), path.join(ROOT, 'ext-authz', 'src', 'cli', 'main.ts'), 'serve',
      '--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', '--admin-addr', '127.0.0.1:0', '--grace-ms', '0', '--log-level', 'warn'],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } },
  );
  return new Promise((resolve, reject) => {
    let err = '';
    let ready = 0;
    child.stderr.on('data', (c) => {
      err += String(c);
      if (ready === 0 && err.includes('callback-proxy ready:')) {
        ready = Number(process.hrtime.bigint() - t0) / 1e6;
        const t1 = process.hrtime.bigint();
        child.once('exit', () => resolve({ ready, exit: Number(process.hrtime.bigint() - t1) / 1e6 }));
        child.kill('SIGTERM');
      }
    });
    child.once('exit', (code) => {
      if (ready === 0) reject(new Error(`serve exited ${code}:\n${err}`));
    });
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const closed = await freePort();
  const variants: Record<string, Record<string, string>> = {
    'telemetry off': {},
    'OTLP refused': { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${closed}` },
    'OTLP black hole': { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://10.255.255.1:4318' },
  };
  const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  console.log(`otel-startup: ${RUNS} runs per variant, interleaved; load average ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} cores (shared machine: wall-clock figures)`);
  for (let i = 0; i < RUNS; i++) {
    const names = Object.keys(variants);
    if (i % 2 === 1) names.reverse();
    for (const n of names) samples[n].push(await once(variants[n]));
  }
  for (const [n, s] of Object.entries(samples)) {
    console.log(`${n.padEnd(16)} ready median ${median(s.map((x) => x.ready)).toFixed(0)} ms (${s.map((x) => x.ready.toFixed(0)).join(', ')}); SIGTERM→exit median ${median(s.map((x) => x.exit)).toFixed(0)} ms (${s.map((x) => x.exit.toFixed(0)).join(', ')})`);
  }
}

void main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
