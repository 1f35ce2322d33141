// Polls a bundle server as OPA does (OPA docs, "Bundles" and the bundle service API): GET with
// `If-None-Match: <etag>` (304 = unchanged), `Prefer: modes=snapshot;wait=N` long polling while the
// server answers `Content-Type: application/vnd.openpolicyagent.bundles`, a random delay between
// min_delay_seconds and max_delay_seconds after a success, and exponential backoff with jitter after
// an error. A download that is corrupt, too large, unverifiable or fails activation keeps the last
// good bundle in place; the error is recorded in the status. Timers, clock and randomness are injected.
import { backoffDelayMs, unrefTimers } from '../../model/backoff';
import type { Timers } from '../../model/backoff';
import { BundleError } from './bundle-errors';
import { asBundleError } from './bundle-errors';
import { BundleStatusTracker } from './bundle-status';
import type { BundleStatus } from './bundle-status';
import type { BundleSource } from './bundle-source';
import { loadBundleArchive } from './load-bundle';
import type { BundleReadOptions, LoadedBundle } from './load-bundle';

export const LONG_POLL_CONTENT_TYPE = 'application/vnd.openpolicyagent.bundles';
/** OPA's backoff: base 100 ms, factor 1.6, jitter ±20 %, capped at max_delay_seconds. */

/** What the source needs from a service client (OpaServiceClient fits). */
export interface BundleHttpClient {
  readonly headerTimeoutMs: number | null;
  request(req: {
    method: 'GET';
    path: string;
    headers: Record<string, string>;
    headerTimeoutMs: number | null;
    maxBodyBytes: number;
    signal?: AbortSignal;
  }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>;
}


export interface PollingOptions {
  minDelaySeconds: number;
  maxDelaySeconds: number;
  longPollingTimeoutSeconds?: number;
}

export interface HttpBundleSourceOptions {
  name: string;
  client: BundleHttpClient;
  /** Path below the service URL, e.g. `bundles/authz.tar.gz`. */
  resource: string;
  polling: PollingOptions;
  read?: Omit<BundleReadOptions, 'name' | 'etag'>;
  /** Puts a new bundle in use (compile, swap). Throwing keeps the previous one. */
  activate: (bundle: LoadedBundle) => void | Promise<void>;
  /** Told about every failed poll (already recorded in status()). */
  onError?: (error: BundleError) => void;
  timers?: Timers;
  now?: () => number;
  random?: () => number;
}

export type PollOutcome =
  | { kind: 'activated'; revision: string; etag: string }
  | { kind: 'not_modified' }
  | { kind: 'empty' }
  | { kind: 'error'; error: BundleError };



function header(h: Record<string, string | string[] | undefined>, name: string): string {
  const v = h[name];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

export class HttpBundleSource implements BundleSource {
  readonly name: string;
  private readonly tracker: BundleStatusTracker;
  private readonly timers: Timers;
  private readonly random: () => number;
  private etag = '';
  private longPoll: boolean;
  private retry = 0;
  private last: LoadedBundle | null = null;
  private timer: unknown = null;
  private running = false;
  private inFlight: Promise<PollOutcome> | null = null;
  private abort: AbortController | null = null;

  constructor(private readonly opts: HttpBundleSourceOptions) {
    this.name = opts.name;
    this.tracker = new BundleStatusTracker(opts.name, opts.now);
    this.timers = opts.timers ?? unrefTimers;
    this.random = opts.random ?? Math.random;
    this.longPoll = opts.polling.longPollingTimeoutSeconds !== undefined;
  }

  status(): BundleStatus {
    return this.tracker.get();
  }

  current(): LoadedBundle | null {
    return this.last;
  }

  /** Is the next request a long poll? (Configured, and the server has shown it supports it.) */
  get longPolling(): boolean {
    return this.longPoll && this.opts.polling.longPollingTimeoutSeconds !== undefined;
  }

  private failed(e: unknown, code: 'bundle_download_failed' | 'bundle_activation_failed'): PollOutcome {
    const error = asBundleError(e, code);
    this.etag = '';
    this.tracker.failed(error);
    try {
      this.opts.onError?.(error);
    } catch {
      // a reporting callback must not break polling
    }
    return { kind: 'error', error };
  }

  /** One download attempt. Never throws. */
  pollOnce(): Promise<PollOutcome> {
    this.inFlight ??= this.download().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async download(): Promise<PollOutcome> {
    const wait = this.longPolling ? this.opts.polling.longPollingTimeoutSeconds : undefined;
    const headers: Record<string, string> = { prefer: wait !== undefined ? `modes=snapshot;wait=${wait}` : 'modes=snapshot' };
    if (this.etag !== '') headers['if-none-match'] = this.etag;
    const base = this.opts.client.headerTimeoutMs;
    // A long poll may legitimately hold the headers for `wait` seconds; allow that plus the usual timeout.
    const headerTimeoutMs = wait !== undefined ? wait * 1000 + (base ?? 10_000) : base;
    const limits = this.opts.read?.limits;
    this.abort = new AbortController();
    this.tracker.request();
    let res: Awaited<ReturnType<BundleHttpClient['request']>>;
    try {
      res = await this.opts.client.request({
        method: 'GET',
        path: this.opts.resource,
        headers,
        headerTimeoutMs,
        maxBodyBytes: limits?.maxTotalBytes ?? 256 * 1024 * 1024,
        signal: this.abort.signal,
      });
    } catch (e) {
      const msg = e instanceof Error ? e.message : 'request failed';
      return this.failed(new BundleError('bundle_download_failed', msg), 'bundle_download_failed');
    } finally {
      this.abort = null;
    }
    if (res.status === 304) {
      const etag = header(res.headers, 'etag');
      if (etag !== '') this.etag = etag;
      this.tracker.notModified();
      this.retry = 0;
      return { kind: 'not_modified' };
    }
    if (res.status !== 200) {
      return this.failed(new BundleError('bundle_http_status', `bundle server replied with HTTP ${res.status}`), 'bundle_download_failed');
    }
    this.longPoll = header(res.headers, 'content-type') === LONG_POLL_CONTENT_TYPE;
    if (res.body.length === 0) {
      this.etag = '';
      this.tracker.notModified();
      this.retry = 0;
      return { kind: 'empty' };
    }
    const etag = header(res.headers, 'etag');
    let bundle: LoadedBundle;
    try {
      bundle = await loadBundleArchive(res.body, { ...this.opts.read, name: this.name, etag });
    } catch (e) {
      return this.failed(e, 'bundle_download_failed');
    }
    this.tracker.downloaded();
    try {
      await this.opts.activate(bundle);
    } catch (e) {
      const why = e instanceof Error && 'code' in e ? String((e as { code: unknown }).code) : 'error';
      return this.failed(new BundleError('bundle_activation_failed', `the downloaded bundle could not be activated (${why})`), 'bundle_activation_failed');
    }
    this.last = bundle;
    this.etag = etag;
    this.retry = 0;
    this.tracker.activated(bundle.revision);
    return { kind: 'activated', revision: bundle.revision, etag };
  }

  /** The wait before the next poll after `outcome` (OPA's rules); advances the retry count on errors. */
  nextDelayMs(outcome: PollOutcome): number {
    const p = this.opts.polling;
    if (outcome.kind === 'error') return backoffDelayMs(this.retry++, p.maxDelaySeconds * 1000, this.random);
    if (this.longPolling) return 0;
    return (p.minDelaySeconds + (p.maxDelaySeconds - p.minDelaySeconds) * this.random()) * 1000;
  }

  /** Starts polling (the first request goes out at once). */
  start(): void {
    if (this.running) return;
    this.running = true;
    const tick = (): void => {
      this.timer = null;
      if (!this.running) return;
      void this.pollOnce().then((outcome) => {
        if (!this.running) return;
        this.timer = this.timers.setTimeout(tick, this.nextDelayMs(outcome));
      });
    };
    tick();
  }

  /** Stops polling and aborts a request in flight; resolves when nothing is running. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.abort?.abort();
    if (this.inFlight) await this.inFlight;
  }
}
