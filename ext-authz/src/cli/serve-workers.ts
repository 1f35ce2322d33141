// `serve --workers N|auto` (docs/operations.md, "Workers"): N processes under node:cluster share the gRPC
// and HTTP listeners (the primary accepts, the workers answer, round robin), so every core answers checks.
// Pins and one-time markers must be shared by every worker, so N > 1 needs --redis: a memory store would
// be silently split, one per worker, and a state minted through one worker would be unknown to the next
// (and a code replayed through another worker accepted). The embedded demo makes its keys at start, one
// set per process, so it is refused too.
//
// The primary runs no service: it forks the workers, reports one ready line once all of them are ready,
// replaces a worker that dies while serving (at most RESTART_LIMIT in RESTART_WINDOW_MS, else it stops
// everything), and on SIGTERM/SIGINT tells every worker to drain (an IPC message, not a signal: a signal
// sent to the whole process group as well must not count as a second one) and exits once all have.
// Admin listener: per worker, not shared (its metrics, readiness and traffic counters are that process's):
// worker k (1-based) listens on the admin port + k − 1, or on a free port of its own with port 0.
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import * as os from 'node:os';
import type { Listening } from '../app';
import { CliError } from './cli-errors';

export const MAX_WORKERS = 64;
export const SHUTDOWN_MESSAGE = 'callback-proxy:shutdown';
const READY_MESSAGE = 'callback-proxy:ready';
const RESTART_LIMIT = 5;
const RESTART_WINDOW_MS = 60_000;
/** The primary's own deadline: the workers' drains (30 s each at most, in parallel) plus a margin. */
const PRIMARY_DEADLINE_MS = 35_000;

/** `--workers` value → a count; `auto` is the cores this process may use. Throws naming `from`. */
export function parseWorkers(value: string | undefined, from: string, cores: () => number = () => os.availableParallelism()): number {
  const v = (value ?? '1').trim();
  if (v === 'auto') return Math.max(1, Math.min(MAX_WORKERS, cores()));
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > MAX_WORKERS) throw new CliError('cli_usage', `${from}: expected a number of workers (1..${MAX_WORKERS}) or auto`);
  return Number(v);
}

/** Why these options cannot run N > 1 workers, or null when they can. */
export function workersRefusal(workers: number, opts: { redisUrl?: string; configFile?: string; mode?: string }, from: string): CliError | null {
  if (workers <= 1) return null;
  // The opa-envoy mode keeps nothing between checks (no pins, one-time markers, stages or keys): every
  // worker answers a request alone, exactly as one process would, so it needs neither a shared store nor
  // a key file (and refuses both flags anyway).
  if (opts.mode === 'opa-envoy') return null;
  if (!opts.redisUrl) {
    return new CliError(
      'cli_usage',
      `${from}: ${workers} workers need --redis: pins and one-time markers in memory live in one process, and split across workers a state minted through one would be unknown to the others (and a code replayed through another accepted). Give every worker the same store with --redis, or run one worker`,
    );
  }
  if (!opts.configFile) {
    return new CliError('cli_usage', `${from}: ${workers} workers need --config: the embedded demo makes its keys at start, a different set in every worker`);
  }
  return null;
}

/** In a worker: this worker's number (1-based), or null in a single process. */
export function workerIndex(): number | null {
  return cluster.isWorker ? Number(process.env.CALLBACK_PROXY_WORKER_INDEX ?? cluster.worker?.id ?? 1) : null;
}

/** In a worker: the admin address for worker k (the admin port + k − 1; port 0 stays 0). */
export function workerAdminAddr(addr: string | undefined, k: number): string | undefined {
  if (addr === undefined) return undefined;
  const m = /^(.*):(\d+)$/.exec(addr);
  if (!m || Number(m[2]) === 0) return addr;
  return `${m[1]}:${Number(m[2]) + k - 1}`;
}

/** In a worker: tells the primary this worker serves (its ports). */
export function reportReady(listening: Listening): void {
  process.send?.({ type: READY_MESSAGE, listening });
}

/** In a worker: calls `drain` when the primary says so (as the first signal would; never as a second). */
export function onPrimaryShutdown(drain: () => void): void {
  process.on('message', (m: unknown) => {
    if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === SHUTDOWN_MESSAGE) drain();
  });
}

export interface PrimaryOptions {
  workers: number;
  /** host:port as given, for the ready line. */
  addrs: { grpc?: string; http?: string; admin?: string };
  /** Writes a line to stderr (the primary has no service logger). */
  say: (line: string) => void;
}

/**
 * The primary: forks `workers` copies of this command, waits until they serve, prints one ready line,
 * and resolves with the exit code once every worker is gone after a signal, a failed start or too many
 * crashes. Never rejects.
 */
export function runPrimary(o: PrimaryOptions): Promise<number> {
  const withPort = (addr: string | undefined, port: number): string => (addr ?? '').replace(/:\d+$/, `:${port}`);
  return new Promise((resolve) => {
    const ready = new Map<number, Listening>();
    const indexOf = new Map<Worker, number>();
    const restarts: number[] = [];
    let stopping = false;
    let code = 0;
    let announced = false;

    const fork = (k: number): void => {
      const w = cluster.fork({ CALLBACK_PROXY_WORKER_INDEX: String(k) });
      indexOf.set(w, k);
      w.on('message', (m: { type?: string; listening?: Listening }) => {
        if (m?.type !== READY_MESSAGE || !m.listening) return;
        ready.set(k, m.listening);
        if (!announced && ready.size === o.workers) {
          announced = true;
          const first = ready.get(1) ?? m.listening;
          const admins = [...ready.keys()].sort((a, b) => a - b).map((i) => ready.get(i)!.adminPort);
          o.say(`callback-proxy ready: grpc=${withPort(o.addrs.grpc, first.grpcPort)} http=${withPort(o.addrs.http, first.httpPort)} admin=${withPort(o.addrs.admin, first.adminPort)} workers=${o.workers} admin_ports=${admins.join(',')}`);
        }
      });
    };

    const stopAll = (exitCode: number): void => {
      if (stopping) return;
      stopping = true;
      code = exitCode;
      for (const w of Object.values(cluster.workers ?? {})) if (w && w.isConnected()) w.send({ type: SHUTDOWN_MESSAGE });
      const hard = setTimeout(() => {
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
        resolve(1);
      }, PRIMARY_DEADLINE_MS);
      hard.unref();
      if (Object.keys(cluster.workers ?? {}).length === 0) resolve(code);
    };

    cluster.on('exit', (w, exitCode, signal) => {
      const k = indexOf.get(w) ?? 0;
      indexOf.delete(w);
      const wasReady = ready.delete(k);
      if (stopping) {
        if (exitCode !== 0) code = code || 1;
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve(code);
        return;
      }
      if (!announced && !wasReady) {
        // A worker that could not start (bad flag, file or field: it said why): the others cannot either.
        o.say(`callback-proxy: worker ${k} exited ${signal ?? exitCode} before it was ready; stopping`);
        stopAll(typeof exitCode === 'number' && exitCode !== 0 ? exitCode : 1);
        return;
      }
      const now = Date.now();
      while (restarts.length > 0 && now - restarts[0] > RESTART_WINDOW_MS) restarts.shift();
      if (restarts.length >= RESTART_LIMIT) {
        o.say(`callback-proxy: worker ${k} exited ${signal ?? exitCode}; ${RESTART_LIMIT} restarts within ${RESTART_WINDOW_MS / 1000} s already, stopping`);
        stopAll(1);
        return;
      }
      restarts.push(now);
      o.say(`callback-proxy: worker ${k} exited ${signal ?? exitCode} while serving; starting a new one`);
      fork(k);
    });

    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals++;
      if (signals > 1) {
        // A second signal: out now, as a single process does.
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
        resolve(130);
        return;
      }
      o.say(`callback-proxy: ${signal}: draining ${Object.keys(cluster.workers ?? {}).length} worker(s)`);
      stopAll(0);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);

    for (let k = 1; k <= o.workers; k++) fork(k);
  });
}

export const isPrimaryOfCluster = (): boolean => cluster.isPrimary;
