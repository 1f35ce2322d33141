// Structured logs (pino): one JSON line per event, request values only through the redact helpers, and
// the active span's trace_id/span_id on every line written inside a traced check. Logging never throws
// into the request path.
import pino from 'pino';
import type { Logger } from 'pino';
import { PINO_REDACT_PATHS } from './redact';
import { activeTraceIds } from './trace-ids';
import type { TraceIds } from './trace-ids';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: string;
  /** A writable sink (tests capture lines); default: stdout via pino's async destination. */
  stream?: NodeJS.WritableStream;
  name?: string;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const options: pino.LoggerOptions = {
    name: opts.name ?? 'callback-proxy',
    level: opts.level ?? 'info',
    redact: { paths: PINO_REDACT_PATHS, censor: '[REDACTED]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Ties a log line to its trace. Outside a span the mixin returns a shared frozen empty object, so
    // the merge leaves the line's own object alone instead of copying it.
    mixin: activeTraceIds,
    mixinMergeStrategy: (line: object, ids: TraceIds) => (ids.trace_id === undefined ? line : Object.assign(ids, line)),
  };
  if (opts.stream) return pino(options, opts.stream);
  return pino(options, pino.destination({ dest: 1, sync: false }));
}

/** Flushes buffered lines (pino's async destination) before exit; never throws. */
export async function flushLogger(logger: Logger): Promise<void> {
  await new Promise<void>((resolve) => {
    try {
      logger.flush((err) => {
        void err;
        resolve();
      });
    } catch {
      resolve();
    }
  });
}

/** A logger that drops everything (CLI `check`, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
