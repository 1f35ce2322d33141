// Where bundles come from. A local directory or `.tar.gz` is read on demand (`load()`; re-reading on
// change is the caller's watcher). A bundle server is polled as OPA polls it (http-bundle-source.ts).
// Both keep a BundleStatus for /readyz, metrics and decision logs.
import { asBundleError } from './bundle-errors';
import type { BundleError } from './bundle-errors';
import { BundleStatusTracker } from './bundle-status';
import type { BundleStatus } from './bundle-status';
import { loadBundlePath } from './load-bundle';
import type { BundleReadOptions, LoadedBundle } from './load-bundle';

export interface BundleSource {
  readonly name: string;
  status(): BundleStatus;
  /** The last bundle read successfully, or null. */
  current(): LoadedBundle | null;
}

export interface LocalBundleSourceOptions {
  /** A bundle directory or `.tar.gz` file. */
  path: string;
  name?: string;
  read?: Omit<BundleReadOptions, 'name' | 'etag'>;
  now?: () => number;
}

export class LocalBundleSource implements BundleSource {
  readonly name: string;
  private readonly tracker: BundleStatusTracker;
  private last: LoadedBundle | null = null;

  constructor(private readonly opts: LocalBundleSourceOptions) {
    this.name = opts.name ?? opts.path.replace(/\/+$/, '').split('/').pop() ?? opts.path;
    this.tracker = new BundleStatusTracker(this.name, opts.now);
  }

  /**
   * Reads the bundle. Throws BundleError (and records it) when it cannot be read or verified; the
   * previous bundle stays `current()`, so a reload can keep serving the last good one.
   */
  async load(): Promise<LoadedBundle> {
    this.tracker.request();
    try {
      const b = await loadBundlePath(this.opts.path, { ...this.opts.read, name: this.name });
      this.tracker.downloaded();
      this.last = b;
      return b;
    } catch (e) {
      const err = asBundleError(e, 'bundle_unreadable');
      this.tracker.failed(err);
      throw err;
    }
  }

  /** Marks the bundle from load() as in use (after the engine compiled it). */
  activated(b: LoadedBundle): void {
    this.tracker.activated(b.revision);
  }

  /** Records a bundle that was read but could not be put in use (it did not compile). */
  activationFailed(err: BundleError): void {
    this.tracker.failed(err);
  }

  status(): BundleStatus {
    return this.tracker.get();
  }

  current(): LoadedBundle | null {
    return this.last;
  }
}
