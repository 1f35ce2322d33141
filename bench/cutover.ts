// Cutover benchmark (`npm run bench:cutover`; not a test): N concurrent simulated users log in through
// real nginx while the stage moves observe → canary 10 % → canary 50 % → cutover → retired, once with pins
// (the callback policy) and once without (bench/policies/weighted-split: a per-request split by
// stage/percent, what weight-based canaries do). Counts completed and broken logins.
//
// The operator (default `--operator cli`) drives every stage change with `callback-proxy stage set`
// against the admin API (docs/stages.md), then, once the users have stopped and legacy is quiet,
// `stage set … decommissioned` (refused by the service until its removal report is clean), and finally
// `callback-proxy audit verify` on the audit chain. `--operator file` edits the registry file instead
// (the GitOps baseline).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EXTERNAL_BASE, EXTERNAL_HOST, STACK_ADMIN_TOKEN, startStack } from '../demo/harness';
import type { Stack } from '../demo/harness';
import type { PendingRequest } from '../demo/idp/browser';
import { findNginx } from '../demo/nginx';
import type { Stage } from '../ext-authz/src/model/registry';

const HELP = `usage: npm run bench:cutover -- [--users 200] [--duration 20] [--idp-delay-ms 800] [--mode both|on|off] [--operator cli|file]

  --users         concurrent simulated users (each logs in again and again)
  --duration      seconds per run; the stage moves at fixed fractions of it
  --idp-delay-ms  max time a user spends at the IdP before the callback (uniform 0..max)
  --mode          on = pins (policies/callback), off = weighted split (no pins), both (default)
  --operator      cli = \`callback-proxy stage set\` against the admin API, then decommissioned and
                  \`audit verify\` (default); file = rewrite the registry file
  --out           JSON result file (default .tmp/bench-cutover.json)`;

/** The timeline, as fractions of the run: [start, stage, percent]. Drain is set at cutover. */
const TIMELINE: [number, Stage, number][] = [
  [0.0, 'observe', 0],
  [0.15, 'canary', 10],
  [0.35, 'canary', 50],
  [0.55, 'cutover', 0],
  [0.85, 'retired', 0],
];
const DRAIN_FRACTION = 0.2;

interface Outcomes {
  completed: number;
  /** A callback that reached a backend which did not start its flow (its `unknown_flow`). */
  broken_wrong_backend: number;
  /** A deny (or other error) shown to a user whose flow was valid. */
  broken_denied: number;
  broken_other: number;
  /** A legacy flow denied after drain_until / at retirement: the designed restart. */
  expired_by_design: number;
  denied_at_start: number;
  by_stage: Record<string, { completed: number; broken: number; expired: number }>;
  deny_reasons: Record<string, number>;
}

/** What the operator did and what the service said (`--operator cli`). */
interface StageControl {
  operator: 'cli' | 'file';
  steps: { stage: string; at_s: number; exit: number | null }[];
  /** `stage set … decommissioned` after the load: accepted (exit 0), with the attempts it took. */
  decommissioned: { accepted: boolean; attempts: number; last_stderr: string } | null;
  /** `callback-proxy audit verify <file>`: exit 0 and the records it checked. */
  audit_verify: { exit: number | null; summary: string } | null;
}

interface RunResult {
  mode: 'pins_on' | 'pins_off';
  stage_control: StageControl;
  users: number;
  duration_s: number;
  logins_attempted: number;
  outcomes: Outcomes;
  broken_total: number;
  logins_per_s: number;
  decision_latency_ms: { count: number; mean: number; p50_le: number; p99_le: number; p999_le: number };
  callback_hop_ms: { p50: number; p99: number };
  backend_unknown_flow: { legacy: number; new: number };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function pct(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Reads the service's check-duration histogram (forward-auth transport) from /metrics text. */
function decisionLatency(metrics: string): RunResult['decision_latency_ms'] {
  const buckets: [number, number][] = [];
  let sum = 0;
  let count = 0;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('callback_proxy_check_duration_seconds') || !line.includes('transport="http"')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    const le = /le="([^"]+)"/.exec(line);
    if (le) buckets.push([le[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(le[1]), value]);
    else if (line.startsWith('callback_proxy_check_duration_seconds_sum')) sum = value;
    else if (line.startsWith('callback_proxy_check_duration_seconds_count')) count = value;
  }
  const le = (q: number): number => {
    const b = buckets.find(([, c]) => c >= q * count);
    return b ? b[0] * 1000 : Number.NaN;
  };
  return { count, mean: count ? (sum / count) * 1000 : 0, p50_le: le(0.5), p99_le: le(0.99), p999_le: le(0.999) };
}

function emptyOutcomes(): Outcomes {
  return { completed: 0, broken_wrong_backend: 0, broken_denied: 0, broken_other: 0, expired_by_design: 0, denied_at_start: 0, by_stage: {}, deny_reasons: {} };
}

const ROOT = path.join(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'callback-proxy.cjs');
/** Legacy must be quiet this long before the removal report allows decommissioned. */
const QUIET_S = 2;

/** Runs the shipped CLI (dist/) and collects its exit code and output. */
function cli(args: string[]): Promise<{ exit: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += String(c)));
    child.stderr.on('data', (c) => (stderr += String(c)));
    child.on('close', (exit) => resolve({ exit, stdout, stderr }));
  });
}

async function runOnce(mode: 'pins_on' | 'pins_off', users: number, durationS: number, idpDelayMs: number, operatorKind: 'cli' | 'file'): Promise<RunResult> {
  const auditDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-cutover-audit-'));
  const auditLog = path.join(auditDir, 'audit.jsonl');
  const stack: Stack = await startStack({
    auditLog,
    removalQuietS: QUIET_S,
    stage: 'observe',
    nginx: true,
    front: false,
    pins: mode === 'pins_on',
    policyDir: mode === 'pins_off' ? path.join(__dirname, 'policies', 'weighted-split') : undefined,
    logLevel: 'warn',
    decisionLog: false,
    // Every simulated user calls from 127.0.0.1. The unknown-state limit is per source address (60 a
    // minute by default, docs/operations.md, "Unknown-state rate limits"): meant for one browser, it would
    // turn the pins-off run (where no state is known) into a measurement of the limiter instead of the
    // per-request split. Real users arrive from their own addresses; the bench lifts the per-source and
    // per-connection rates to what 200 separate users would see.
    limits: { unknown_states_per_source_per_min: 1_000_000, unknown_states_per_connection_per_min: 100_000_000 },
  });
  const o = emptyOutcomes();
  const hopMs: number[] = [];
  let attempted = 0;
  const t0 = Date.now();
  const endAt = t0 + durationS * 1000;
  let stageLabel = 'observe';
  const bump = (k: 'completed' | 'broken' | 'expired', label: string): void => {
    const s = (o.by_stage[label] ??= { completed: 0, broken: 0, expired: 0 });
    s[k]++;
  };

  const control: StageControl = { operator: operatorKind, steps: [], decommissioned: null, audit_verify: null };
  const server = ['--server', `http://127.0.0.1:${stack.adminPort}`, '--token', STACK_ADMIN_TOKEN];
  // The operator: stage changes on a timer. `cli`: the stage API answers once the change is in effect;
  // `file`: setStage waits until ext-authz has reloaded the registry.
  const operator = (async () => {
    let drainUntil: number | undefined;
    for (const [at, stage, percent] of TIMELINE.slice(1)) {
      await sleep(Math.max(0, t0 + at * durationS * 1000 - Date.now()));
      // The service refuses retiring a connection whose legacy flows still drain (docs/stages.md).
      if (stage === 'retired' && drainUntil !== undefined) await sleep(Math.max(0, drainUntil + 100 - Date.now()));
      if (stage === 'cutover') drainUntil = Date.now() + Math.max(DRAIN_FRACTION * durationS * 1000, idpDelayMs + 1000);
      if (operatorKind === 'cli') {
        const args = ['stage', 'set', CONNECTION_NAME, stage, '--reason', `cutover bench: ${stage}${stage === 'canary' ? ` ${percent}%` : ''}`, ...server];
        if (stage === 'canary') args.push('--percent', String(percent));
        if (stage === 'cutover') args.push('--drain-until', new Date(drainUntil as number).toISOString(), '--ticket', 'BENCH-1');
        const r = await cli(args);
        control.steps.push({ stage: stage === 'canary' ? `canary ${percent}%` : stage, at_s: Math.round((Date.now() - t0) / 100) / 10, exit: r.exit });
        if (r.exit !== 0) throw new Error(`stage set ${stage} exited ${r.exit}: ${r.stderr.trim()}`);
      } else {
        await stack.setStage(stage, stage === 'cutover' ? { percent, drainUntil } : { percent });
        control.steps.push({ stage, at_s: Math.round((Date.now() - t0) / 100) / 10, exit: 0 });
      }
      stageLabel = stage === 'canary' ? `canary ${percent}%` : stage;
    }
  })();

  const isCallback = (p: PendingRequest): boolean => new URL(p.url).host === EXTERNAL_HOST && new URL(p.url).pathname === '/oauth2/callback';

  async function user(i: number): Promise<void> {
    const browser = stack.browser('nginx');
    for (let n = 0; Date.now() < endAt && n < 100_000; n++) {
      attempted++;
      const label = stageLabel;
      try {
        const start = await browser.get(`${EXTERNAL_BASE}/login?login_hint=user-${i}`, {}, isCallback);
        if (!start.pending) {
          o.denied_at_start++;
          bump('broken', label);
          continue;
        }
        const owner = start.hops[0]?.servedBy;
        // The user is at the IdP; meanwhile the operator may move the stage.
        await sleep(Math.floor(Math.random() * idpDelayMs));
        const t = Date.now();
        const r = await browser.resume(start.pending);
        hopMs.push(Date.now() - t);
        const hop = r.hops[r.hops.length - 1];
        if (r.json?.ok === true) {
          o.completed++;
          bump('completed', label);
        } else if (r.json?.error === 'unknown_flow') {
          o.broken_wrong_backend++;
          bump('broken', label);
        } else if (hop.servedBy === undefined && r.status >= 400) {
          const reason = hop.reason ?? 'none';
          o.deny_reasons[reason] = (o.deny_reasons[reason] ?? 0) + 1;
          // Designed: a legacy flow after the drain deadline or at retirement restarts its login.
          if (owner === 'legacy' && (reason === 'drain_expired' || reason === 'backend_retired')) {
            o.expired_by_design++;
            bump('expired', label);
          } else {
            o.broken_denied++;
            bump('broken', label);
          }
        } else {
          o.broken_other++;
          bump('broken', label);
        }
      } catch {
        o.broken_other++;
        bump('broken', label);
      }
    }
  }

  await Promise.all([operator, ...Array.from({ length: users }, (_, i) => user(i))]);
  const elapsed = (Date.now() - t0) / 1000;
  if (operatorKind === 'cli') {
    // The users have stopped: once legacy has been quiet for QUIET_S the removal report is clean, and
    // only then does the service accept decommissioned (it refuses not_removable before).
    let attempts = 0;
    let last = { exit: null as number | null, stdout: '', stderr: '' };
    for (const end = Date.now() + (QUIET_S + 20) * 1000; Date.now() < end; ) {
      attempts++;
      last = await cli(['stage', 'set', CONNECTION_NAME, 'decommissioned', '--reason', 'cutover bench: migration done', '--ticket', 'BENCH-2', ...server]);
      if (last.exit === 0) break;
      await sleep(1000);
    }
    control.decommissioned = { accepted: last.exit === 0, attempts, last_stderr: last.exit === 0 ? '' : last.stderr.trim().slice(0, 300) };
    const v = await cli(['audit', 'verify', auditLog]);
    control.audit_verify = { exit: v.exit, summary: (v.stdout + v.stderr).trim().split('\n').slice(-1)[0] ?? '' };
  }
  const latency = decisionLatency(await stack.app.telemetry.metricsText());
  hopMs.sort((a, b) => a - b);
  const result: RunResult = {
    mode,
    stage_control: control,
    users,
    duration_s: Math.round(elapsed * 10) / 10,
    logins_attempted: attempted,
    outcomes: o,
    broken_total: o.broken_wrong_backend + o.broken_denied + o.broken_other + o.denied_at_start,
    logins_per_s: Math.round(o.completed / elapsed),
    decision_latency_ms: latency,
    callback_hop_ms: { p50: pct(hopMs, 0.5), p99: pct(hopMs, 0.99) },
    backend_unknown_flow: { legacy: stack.legacy.stats.callbacks_rejected.unknown_flow ?? 0, new: stack.neu.stats.callbacks_rejected.unknown_flow ?? 0 },
  };
  await stack.stop();
  fs.rmSync(auditDir, { recursive: true, force: true });
  return result;
}

const CONNECTION_NAME = 'demo';

function table(results: RunResult[]): string {
  const rows: string[][] = [
    ['', ...results.map((r) => r.mode === 'pins_on' ? 'pins on' : 'pins off (weighted split)')],
    ['concurrent users', ...results.map((r) => String(r.users))],
    ['logins attempted', ...results.map((r) => String(r.logins_attempted))],
    ['completed', ...results.map((r) => String(r.outcomes.completed))],
    ['BROKEN (total)', ...results.map((r) => String(r.broken_total))],
    ['  wrong backend (unknown_flow)', ...results.map((r) => String(r.outcomes.broken_wrong_backend))],
    ['  denied a valid flow', ...results.map((r) => String(r.outcomes.broken_denied + r.outcomes.denied_at_start))],
    ['  other errors', ...results.map((r) => String(r.outcomes.broken_other))],
    ['expired by design (restart)', ...results.map((r) => String(r.outcomes.expired_by_design))],
    ['completed logins/s', ...results.map((r) => String(r.logins_per_s))],
    ['decision mean ms', ...results.map((r) => r.decision_latency_ms.mean.toFixed(2))],
    ['decision p50 / p99 ms (≤ bucket)', ...results.map((r) => `${r.decision_latency_ms.p50_le} / ${r.decision_latency_ms.p99_le}`)],
    ['callback hop p50 / p99 ms', ...results.map((r) => `${r.callback_hop_ms.p50} / ${r.callback_hop_ms.p99}`)],
  ];
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(w[c]) : cell.padStart(w[c]))).join('  ')).join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '200' },
      duration: { type: 'string', default: '20' },
      'idp-delay-ms': { type: 'string', default: '800' },
      mode: { type: 'string', default: 'both' },
      operator: { type: 'string', default: 'cli' },
      out: { type: 'string', default: path.join('.tmp', 'bench-cutover.json') },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  if (!findNginx()) {
    process.stderr.write('bench:cutover needs nginx on PATH (Debian: apt-get install nginx-light)\n');
    process.exitCode = 2;
    return;
  }
  const users = Number(values.users);
  const duration = Number(values.duration);
  const delay = Number(values['idp-delay-ms']);
  if (!(users >= 1 && users <= 5000 && duration >= 2 && duration <= 600 && delay >= 0)) {
    process.stderr.write(`${HELP}\n`);
    process.exitCode = 2;
    return;
  }
  const operatorKind = values.operator === 'file' ? 'file' : values.operator === 'cli' ? 'cli' : null;
  if (operatorKind === null) {
    process.stderr.write(`--operator: expected cli or file\n${HELP}\n`);
    process.exitCode = 2;
    return;
  }
  // The operator runs the shipped CLI (dist/): bring the build up to date first (a no-op when current).
  if (operatorKind === 'cli') await new Promise<void>((resolve, reject) => spawn(process.execPath, [path.join(ROOT, 'scripts', 'build.cjs')], { stdio: 'inherit' }).on('close', (c) => (c === 0 ? resolve() : reject(new Error(`build exited ${c}`)))));
  const modes: ('pins_on' | 'pins_off')[] = values.mode === 'on' ? ['pins_on'] : values.mode === 'off' ? ['pins_off'] : ['pins_on', 'pins_off'];
  process.stdout.write(`cutover bench: ${users} users, ${duration} s per run, timeline ${TIMELINE.map(([at, s, p]) => `${Math.round(at * duration)}s ${s}${s === 'canary' ? ` ${p}%` : ''}`).join(' → ')}\n`);
  const results: RunResult[] = [];
  for (const m of modes) {
    process.stdout.write(`  running ${m} ...\n`);
    results.push(await runOnce(m, users, duration, delay, operatorKind));
  }
  process.stdout.write(`\n${table(results)}\n`);
  for (const r of results) {
    process.stdout.write(`\n${r.mode} by stage at login start: ${JSON.stringify(r.outcomes.by_stage)}\n${r.mode} deny reasons at callback: ${JSON.stringify(r.outcomes.deny_reasons)}\n`);
    const c = r.stage_control;
    process.stdout.write(`${r.mode} stage changes (${c.operator}): ${c.steps.map((s) => `${s.at_s}s ${s.stage} exit ${s.exit}`).join(', ')}\n`);
    if (c.decommissioned) process.stdout.write(`${r.mode} decommissioned: ${c.decommissioned.accepted ? `accepted after ${c.decommissioned.attempts} attempt(s)` : `REFUSED: ${c.decommissioned.last_stderr}`}\n`);
    if (c.audit_verify) process.stdout.write(`${r.mode} audit verify: exit ${c.audit_verify.exit}: ${c.audit_verify.summary}\n`);
  }
  fs.mkdirSync(path.dirname(values.out!), { recursive: true });
  fs.writeFileSync(values.out!, JSON.stringify({ when: new Date().toISOString(), node: process.version, timeline: TIMELINE, results }, null, 2));
  process.stdout.write(`\nwritten ${values.out}\n`);
  // The headline promise: with pins, no login breaks during a cutover.
  const on = results.find((r) => r.mode === 'pins_on');
  if (on && on.broken_total > 0) {
    process.stderr.write(`pins on: ${on.broken_total} broken logins (expected 0)\n`);
    process.exitCode = 1;
  }
  for (const r of results) {
    const c = r.stage_control;
    if (c.operator === 'cli' && (!c.decommissioned?.accepted || c.audit_verify?.exit !== 0)) {
      process.stderr.write(`${r.mode}: the migration did not end decommissioned with a verified audit chain\n`);
      process.exitCode = 1;
    }
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:cutover failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
