// Registry hot reload (docs/operations.md, "Reload"): the shared FileWatcher notices a changed file; a
// file that does not validate is reported (coded, naming the field, never a value) and the last good
// registry stays current.
import type { RegistryConfig } from '../model/registry';
import { FileWatcher } from './file-watcher';
import { ConfigError } from './registry-errors';
import { loadRegistryFile } from './registry';
import type { ParseOptions } from './registry';

export interface RegistryWatcherOptions extends ParseOptions {
  onChange: (registry: RegistryConfig) => void;
  onError: (err: ConfigError) => void;
  debounceMs?: number;
  /** Polling interval; fs.watch is not reliable on every filesystem (NFS, some container mounts). */
  pollMs?: number;
}

export class RegistryWatcher {
  private last: RegistryConfig;
  private readonly files: FileWatcher;

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

  /** Re-reads the file now if its content changed; returns true when a new registry was installed. */
  reload(): boolean {
    const before = this.last;
    this.files.check();
    return this.last !== before;
  }

  private load(): void {
    let next: RegistryConfig;
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
    this.opts.onChange(next);
  }

  close(): void {
    this.files.close();
  }
}
