// Registry hot reload: fs.watch on the file's directory (editors and Kubernetes replace files by
// rename) plus a polling fallback, debounced; a bad file reports an error and the last good stays.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { RegistryConfig } from '../model/registry';
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
  private lastDigest: string;
  private watcher: fs.FSWatcher | null = null;
  private poll: NodeJS.Timeout | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private closed = false;

  /** Loads the file once (throws ConfigError when the first load fails: start-up must not go on). */
  constructor(private readonly file: string, private readonly opts: RegistryWatcherOptions) {
    this.lastDigest = this.digest() ?? '';
    this.last = loadRegistryFile(file, opts);
  }

  get current(): RegistryConfig {
    return this.last;
  }

  start(): this {
    const dir = path.dirname(path.resolve(this.file));
    const base = path.basename(this.file);
    try {
      this.watcher = fs.watch(dir, { persistent: false }, (_ev, name) => {
        if (name === null || name.toString() === base) this.schedule();
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = null; // polling carries on
      });
    } catch {
      this.watcher = null;
    }
    this.poll = setInterval(() => this.schedule(), this.opts.pollMs ?? 2000);
    this.poll.unref();
    return this;
  }

  private digest(): string | null {
    try {
      return createHash('sha256').update(fs.readFileSync(this.file)).digest('hex');
    } catch {
      return null;
    }
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.reload(), this.opts.debounceMs ?? 100);
    this.debounce.unref();
  }

  /** Re-reads the file now; returns true when a new registry was installed. */
  reload(): boolean {
    if (this.closed) return false;
    const d = this.digest();
    if (d !== null && d === this.lastDigest) return false;
    try {
      const next = loadRegistryFile(this.file, this.opts);
      this.last = next;
      this.lastDigest = d ?? '';
      this.opts.onChange(next);
      return true;
    } catch (e) {
      // Remember the bad digest so one bad file reports once, not on every poll.
      this.lastDigest = d ?? '';
      const err = e instanceof ConfigError ? e : new ConfigError('config_unreadable', this.file, [{ path: '', message: 'reload failed' }]);
      this.opts.onError(err);
      return false;
    }
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
  }
}
