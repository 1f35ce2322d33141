// Registry hot reload (docs/operations.md, "Reload"): the shared FileWatcher notices a changed file; a
// file that does not validate is reported (coded, naming the field, never a value) and the last good
// registry stays current.
import type { RegistryConfig } from '../model/registry';
import { FileWatcher } from './file-watcher';
import { ConfigError } from './registry-errors';
import { loadRegistryFile } from './registry';
import type { ParseOptions } from './registry';
import type { RegistryLoader } from './registry-off-thread';

export interface RegistryWatcherOptions extends ParseOptions {
  /** A new registry validated; `loadMs` is how long reading, parsing and validating it took. */
  onChange: (registry: RegistryConfig, loadMs: number) => void;
  onError: (err: ConfigError) => void;
  debounceMs?: number;
  /** Polling interval; fs.watch is not reliable on every filesystem (NFS, some container mounts). */
  pollMs?: number;
  /**
   * Loads a changed file for a reload (the first load stays synchronous: start-up waits for it anyway).
   * The service passes the off-thread loader (config/registry-off-thread.ts), so a reload does not hold
   * the event loop; absent → loadRegistryFile on this thread.
   */
  loader?: RegistryLoader | null;
}

export class RegistryWatcher {
  private last: RegistryConfig;
  private readonly files: FileWatcher;
  /** An off-thread load in progress, and whether another change arrived meanwhile. */
  private loading = false;
  private again = false;
  private closed = false;

  /** Loads the file once (throws ConfigError when the first load fails: start-up must not go on). */
  constructor(private readonly file: string, private readonly opts: RegistryWatcherOptions) {
    this.files = new FileWatcher(file, { onChange: () => this.load(), debounceMs: opts.debounceMs, pollMs: opts.pollMs });
    this.last = loadRegistryFile(file, opts);
  }

  get current(): RegistryConfig {
    return this.last;
  }

  start(): this {
    this.files.start();
    return this;
  }

  /**
   * Re-reads the file now if its content changed; returns true when a new registry was installed. With
   * an asynchronous `loader` the load only starts here, and this returns false.
   */
  reload(): boolean {
    const before = this.last;
    this.files.check();
    return this.last !== before;
  }

  private load(): void {
    if (this.opts.loader) {
      this.loadAsync(this.opts.loader);
      return;
    }
    let next: RegistryConfig;
    const started = performance.now();
    try {
      next = loadRegistryFile(this.file, this.opts);
    } catch (e) {
      // loadRegistryFile throws ConfigError, which names the field and never a value. Anything else is
      // a bug; it runs on a timer, where throwing would end the process, so it is reported by its class
      // (its message might quote the file).
      const name = e instanceof Error ? e.name : typeof e;
      this.opts.onError(e instanceof ConfigError ? e : new ConfigError('config_unreadable', this.file, [{ path: '', message: `reload failed unexpectedly (${name})` }]));
      return;
    }
    this.last = next;
    this.opts.onChange(next, performance.now() - started);
  }

  /** One load at a time; a change noticed during one is loaded after it (the newest content wins). */
  private loadAsync(loader: RegistryLoader): void {
    if (this.loading) {
      this.again = true;
      return;
    }
    this.loading = true;
    const started = performance.now();
    loader(this.file, this.opts).then(
      (next) => {
        if (this.closed) return;
        this.last = next;
        try {
          this.opts.onChange(next, performance.now() - started);
        } catch (e) {
          // The owner's bug, reported like a failed load rather than as an unhandled rejection.
          this.opts.onError(new ConfigError('config_unreadable', this.file, [{ path: '', message: `reload failed unexpectedly (${e instanceof Error ? e.name : typeof e})` }]));
        }
      },
      (e: unknown) => {
        if (this.closed) return;
        const name = e instanceof Error ? e.name : typeof e;
        this.opts.onError(e instanceof ConfigError ? e : new ConfigError('config_unreadable', this.file, [{ path: '', message: `reload failed unexpectedly (${name})` }]));
      },
    ).finally(() => {
      this.loading = false;
      if (this.again && !this.closed) {
        this.again = false;
        this.loadAsync(loader);
      }
    });
  }

  close(): void {
    this.closed = true;
    this.files.close();
  }
}
