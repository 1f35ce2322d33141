// Signal handling for `serve` (docs/operations.md, "Shutdown"): SIGTERM/SIGINT → App.stop() (NOT_SERVING, grace,
// GOAWAY, close HTTP, flush, close stores) → exit 0; a hard deadline guarantees exit within 30 s.
import type { App } from '../app';

export interface ShutdownOptions {
  /** Exit no later than this after the first signal, whatever is still open (default 30 s). */
  hardDeadlineMs?: number;
  exit?: (code: number) => void;
}

export function installShutdown(app: App, opts: ShutdownOptions = {}): () => void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let started = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (started) {
      // A second signal: the operator wants out now.
      exit(130);
      return;
    }
    started = true;
    app.logger.info({ event: 'signal', signal }, 'shutting down');
    const hard = setTimeout(() => exit(1), opts.hardDeadlineMs ?? 30_000);
    hard.unref();
    app.stop().then(
      () => exit(0),
      () => exit(1),
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
