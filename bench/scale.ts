// `npm run bench:scale` (not a test): how decision time, memory, start-up and reloads grow with the
// registry, the outstanding pins and the policy data (docs/performance.md, "npm run bench:scale"). Each
// point runs in its own child process (bench/scale-child.ts) on the compiled dist/ runtime, so its RSS is
// its own, SCALE_ROUNDS times (default 3); figures are median [min–max] over the rounds.
//   SCALE_REGISTRY=1,10,100,1000,5000   connections (2 hosts, 2 backends, 2 issuers each)
//   SCALE_PINS=0,10000,100000,250000,500000
//   SCALE_MARKERS=100000
//   SCALE_DATA=0,1000,10000,100000      entries in a data document (`serve --data`)
// Writes .tmp/bench-scale-<time>.json.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, ensureBuilt } from './dist';

const list = (name: string, def: string): number[] => (process.env[name] ?? def).split(',').filter(Boolean).map(Number);
const REGISTRY = list('SCALE_REGISTRY', '1,10,100,1000,5000');
const PINS = list('SCALE_PINS', '0,10000,100000,250000,500000');
const MARKERS = list('SCALE_MARKERS', '100000');
const DATA = list('SCALE_DATA', '0,1000,10000,100000');
const ROUNDS = Number(process.env.SCALE_ROUNDS ?? 3);

type Point = Record<string, any>;

function run(mode: string, n: number): Point {
  const out = execFileSync(process.execPath, ['--expose-gc', '--max-old-space-size=4096', '-r', path.join(ROOT, 'scripts', 'ts-register.cjs'), path.join(__dirname, 'scale-child.ts'), mode, String(n)], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
  });
  return JSON.parse(out.trim().split('\n').pop() as string) as Point;
}

function spread(v: number[], digits = 0): string {
  const s = v.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (s.length === 0) return '-';
  const med = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  const f = (x: number): string => x.toFixed(digits);
  return s.length > 1 ? `${f(med)} [${f(s[0])}–${f(s[s.length - 1])}]` : f(med);
}

function table(rows: Record<string, string | number>[]): string {
  const cols = Object.keys(rows[0] ?? {});
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (vals: string[]): string => vals.map((v, i) => v.padStart(w[i])).join('  ');
  return [line(cols), ...rows.map((r) => line(cols.map((c) => String(r[c]))))].join('\n');
}

/** Runs every point ROUNDS times, the points interleaved within a round (drift hits all alike). */
function sweep(mode: string, ns: number[]): Map<number, Point[]> {
  const by = new Map<number, Point[]>(ns.map((n) => [n, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const n of ns) {
      process.stderr.write(`  ${mode} ${n} (round ${r + 1}/${ROUNDS})\n`);
      by.get(n)!.push(run(mode, n));
    }
  }
  return by;
}

async function main(): Promise<void> {
  await ensureBuilt();
  console.log(
    `bench:scale: runtime dist/ (compiled, as shipped); one child process per point, ${ROUNDS} round(s), median [min–max]; node ${process.version}; ` +
      `cores ${os.cpus().length}; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (other work on the machine skews every figure). ` +
      'Decision time: Decider.decide (facts, policy, validation, commit) in-process on callbacks with fresh minted states.',
  );
  const result: Record<string, unknown> = { when: new Date().toISOString(), node: process.version, cores: os.cpus().length, loadavg: os.loadavg(), rounds: ROUNDS };

  if (REGISTRY.length) {
    console.log('\nregistry size (connections; 2 hosts, 2 backends, 2 issuers each). Decisions on the first, middle and last connection; a reload edits one connection while decisions run back to back:');
    const by = sweep('registry', REGISTRY);
    const rows = REGISTRY.map((n) => {
      const ps = by.get(n)!;
      const dec = (k: string): number[] => ps.flatMap((p) => p.decision.map((x: Point) => x[k]));
      return {
        connections: n,
        hosts: 2 * n,
        file_kb: ps[0].file_kb,
        decision_p50_us: spread(dec('p50_us')),
        decision_p99_us: spread(dec('p99_us')),
        start_ms: spread(ps.map((p) => p.start_ms)),
        rss_mb: spread(ps.map((p) => p.rss_mb)),
        reload_load_ms: spread(ps.map((p) => p.reload.load_ms)),
        reload_prepare_ms: spread(ps.map((p) => p.reload.prepare_ms)),
        during_reload_p99_us: spread(ps.map((p) => p.reload.p99_decision_us)),
        during_reload_max_gap_ms: spread(ps.map((p) => p.reload.max_gap_ms), 1),
        reload_peak_rss_mb: spread(ps.map((p) => p.reload.peak_rss_mb)),
        all_allowed: ps.every((p) => p.decision.every((x: Point) => x.allowed.split('/')[0] === x.allowed.split('/')[1])) ? 'yes' : 'NO',
      };
    });
    console.log(table(rows));
    result.registry = { rows, raw: Object.fromEntries(by) };
  }

  if (PINS.length) {
    console.log('\noutstanding pins in the memory store (embedded demo; RSS after a forced GC):');
    const by = sweep('pins', PINS);
    const rows = PINS.map((n) => {
      const ps = by.get(n)!;
      return {
        pins: n,
        rss_mb: spread(ps.map((p) => p.rss_mb)),
        heap_bytes_per_pin: spread(ps.map((p) => p.heap_bytes_per_pin)),
        rss_bytes_per_pin: spread(ps.map((p) => p.rss_bytes_per_pin)),
        decision_p50_us: spread(ps.map((p) => p.decision.p50_us)),
        decision_p99_us: spread(ps.map((p) => p.decision.p99_us)),
        allowed: ps.map((p) => p.decision.allowed).join(' '),
      };
    });
    console.log(table(rows));
    const at100k = by.get(100_000);
    if (at100k) console.log(`RSS at 100,000 pins: ${spread(at100k.map((p) => p.rss_mb))} MB (target ≤ 200 MB)`);
    result.pins = { rows, raw: Object.fromEntries(by) };
  }

  if (MARKERS.length) {
    console.log('\none-time markers (codes) in the memory store:');
    const by = sweep('markers', MARKERS);
    const rows = MARKERS.map((n) => ({ markers: n, rss_mb: spread(by.get(n)!.map((p) => p.rss_mb)), heap_bytes_per_marker: spread(by.get(n)!.map((p) => p.heap_bytes_per_marker)) }));
    console.log(table(rows));
    result.markers = { rows, raw: Object.fromEntries(by) };
  }

  if (DATA.length) {
    console.log('\npolicy data size (a data document of K entries beside the callback policy); a policy reload while decisions run:');
    const by = sweep('data', DATA);
    const rows = DATA.map((k) => {
      const ps = by.get(k)!;
      return {
        entries: k,
        data_kb: ps[0].data_kb,
        start_ms: spread(ps.map((p) => p.start_ms)),
        rss_mb: spread(ps.map((p) => p.rss_mb)),
        decision_p50_us: spread(ps.map((p) => p.decision.p50_us)),
        decision_p99_us: spread(ps.map((p) => p.decision.p99_us)),
        during_reload_max_gap_ms: spread(ps.map((p) => p.reload.max_gap_ms), 1),
        all_allowed: ps.every((p) => p.decision.allowed.split('/')[0] === p.decision.allowed.split('/')[1]) ? 'yes' : 'NO',
      };
    });
    console.log(table(rows));
    result.data = { rows, raw: Object.fromEntries(by) };
  }

  fs.mkdirSync(path.join(ROOT, '.tmp'), { recursive: true });
  const file = path.join(ROOT, '.tmp', `bench-scale-${Date.now()}.json`);
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwrote ${path.relative(ROOT, file)}`);
}

void main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
