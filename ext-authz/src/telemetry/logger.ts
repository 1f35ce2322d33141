// Structured logs (pino): one JSON line per event, request values only through the redact helpers.
// Logging never throws into the request path (STYLE "telemetry never throws").
import pino from 'pino';
import type { Logger } from 'pino';
import { PINO_REDACT_PATHS } from './redact';

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
