// The one file watcher for hot reload (docs/operations.md, "Reload"): the registry file and the policy
// directory both use it. It notices a change by a content digest, not by trusting change events:
// fs.watch gives a fast nudge where the filesystem supports it (editors and Kubernetes replace files by
// rename, so a single file is watched through its directory), and a poll catches everything fs.watch
// misses (NFS, some container mounts). Nudges are debounced, and the owner is told only when the digest
// differs from the last one it was told about, so a bad file is reported once, not on every poll. What
// to do with the new content (load it, keep the last good one on failure) is the owner's business.
import { errnoCode } from '../model/errors';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface FileWatcherOptions {
  /** The watched content differs from last time: reload it (debounced; never called after close()). */
  onChange: () => void;
  debounceMs?: number;
  /** Polling interval; the digest is compared on every poll. */
  pollMs?: number;
  /** Upper bound on files digested under a directory (a runaway tree must not stall the poll). */
  maxFiles?: number;
}

export const DEFAULT_POLL_MS = 2000;
export const DEFAULT_DEBOUNCE_MS = 100;

/**
 * Watches one file or one directory tree. Construct it before loading the content for the first time:
 * the digest it starts from is then never newer than what the owner loaded.
 */
export class FileWatcher {
  private last: string;
  private watcher: fs.FSWatcher | null = null;
  private poll: NodeJS.Timeout | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly target: string, private readonly opts: FileWatcherOptions) {
    this.last = this.digest();
  }

  /** Starts the fs.watch nudge and the poll. Timers are unref'd: watching never keeps a process alive. */
  start(): this {
    if (this.closed || this.poll) return this;
    this.watcher = this.watchNudges();
    // A poll compares at once, unless a nudge is waiting out its debounce (a poll must not keep
    // postponing that one, nor read a file in the middle of a burst of writes).
    this.poll = setInterval(() => {
      if (!this.debounce) this.check();
    }, this.opts.pollMs ?? DEFAULT_POLL_MS);
    this.poll.unref();
    return this;
  }

  /** Compares the digest now; calls onChange and returns true when it differs from the last one. */
  check(): boolean {
    if (this.closed) return false;
    const d = this.digest();
    if (d === this.last) return false;
    this.last = d;
    this.opts.onChange();
    return true;
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = null;
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
    this.poll = null;
    this.debounce = null;
  }

  private watchNudges(): fs.FSWatcher | null {
    let w: fs.FSWatcher;
    try {
      if (isDirectory(this.target)) {
        // Recursive fs.watch is supported on Linux from Node 20.
        w = fs.watch(this.target, { recursive: true, persistent: false }, () => this.schedule());
      } else {
        const base = path.basename(this.target);
        w = fs.watch(path.dirname(path.resolve(this.target)), { persistent: false }, (_ev, name) => {
          if (name === null || name.toString() === base) this.schedule();
        });
      }
    } catch {
      // No fs.watch here (missing directory, watch limit): the poll alone notices changes.
      return null;
    }
    // Same reason after start (the directory went away): the poll carries on, so nothing is lost.
    w.on('error', () => {
      w.close();
      if (this.watcher === w) this.watcher = null;
    });
    return w;
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = null;
      this.check();
    }, this.opts.debounceMs ?? DEFAULT_DEBOUNCE_MS);
    this.debounce.unref();
  }

  /**
   * sha256 over the file's bytes, or over every file's relative path and bytes under the directory
   * (sorted; dot-files are skipped like the policy loader skips them, except a bundle's `.manifest`,
   * which it reads). An unreadable target has its own digest,
   * so a file that disappears and comes back counts as a change both times.
   */
  private digest(): string {
    const h = createHash('sha256');
    try {
      if (!isDirectory(this.target)) return h.update('file\0').update(fs.readFileSync(this.target)).digest('hex');
      h.update('dir\0');
      let n = 0;
      const max = this.opts.maxFiles ?? 10_000;
      const walk = (dir: string, rel: string): void => {
        for (const name of fs.readdirSync(dir).sort()) {
          if ((name.startsWith('.') && name !== '.manifest') || name === 'node_modules' || n >= max) continue;
          const full = path.join(dir, name);
          const st = fs.statSync(full);
          if (st.isDirectory()) walk(full, `${rel}${name}/`);
          else if (st.isFile()) {
            n++;
            h.update(`${rel}${name}\0`).update(fs.readFileSync(full)).update('\0');
          }
        }
      };
      walk(this.target, '');
      return h.digest('hex');
    } catch (e) {
      return `unreadable:${errnoCode(e)}`;
    }
  }
}

/** A missing target is not a directory: it is digested as a file that cannot be read. */
function isDirectory(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}
