// Decision-log upload in OPA's format (OPA docs, "Decision Logs"): events are masked by the mask
// decision's rules, encoded once, held in a bounded buffer (bytes and/or events; the oldest are dropped
// and counted when it is full), and POSTed to `<service><resource>` (default /logs) as gzip-compressed
// JSON arrays no larger than upload_size_limit_bytes. A failed upload puts its batch back and retries
// with exponential backoff and jitter; a batch that fails max_attempts times is dropped and counted.
// Nothing here throws into the caller: log() is fire-and-forget and flush() resolves with a summary.
import { gzipSync } from 'node:zlib';
import { backoffDelayMs, unrefTimers } from '../model/backoff';
import type { Timers } from '../model/backoff';
import { applyMaskRules } from './decision-log-mask';
import type { MaskRule } from './decision-log-mask';

/** What the uploader needs from a service client (OpaServiceClient fits). */
export interface DecisionLogTransport {
  request(req: { method: 'POST'; path: string; headers: Record<string, string>; body: Buffer }): Promise<{ status: number }>;
}

/** The timers the upload loop runs on (injectable for tests). */
export type UploadTimers = Timers;

export type DropReason = 'buffer_full' | 'upload_failed' | 'too_large' | 'mask_error' | 'encode_error';

export interface DecisionLogUploaderOptions {
  transport: DecisionLogTransport;
  /** Path below the service URL (OPA's decision_logs.resource). */
  resource?: string;
  /** Largest gzip body per POST (OPA's upload_size_limit_bytes, default 32768). */
  uploadSizeLimitBytes?: number;
  /** Buffer limits: encoded bytes, events (default 10000 events). */
  bufferSizeLimitBytes?: number;
  bufferSizeLimitEvents?: number;
  /** Reporting interval (OPA's reporting.min/max_delay_seconds, default 300..600). */
  minDelaySeconds?: number;
  maxDelaySeconds?: number;
  /** Attempts per batch before it is dropped (default: retry until the buffer pushes it out, as OPA). */
  maxAttempts?: number;
  /** The mask decision's rules for an event (static, or evaluated per event). */
  mask?: readonly MaskRule[] | ((event: Record<string, unknown>) => readonly MaskRule[] | Promise<readonly MaskRule[]>);
  /** Told about drops and failed uploads (counts only; never event contents). */
  onEvent?: (e: { kind: 'dropped'; reason: DropReason; count: number } | { kind: 'upload_failed'; status: number | null }) => void;
  timers?: UploadTimers;
  random?: () => number;
}

export interface UploaderStats {
  bufferedEvents: number;
  bufferedBytes: number;
  uploadedEvents: number;
  uploads: number;
  failedUploads: number;
  dropped: Record<DropReason, number>;
}

interface Entry {
  json: string;
  bytes: number;
  attempts: number;
}



export class DecisionLogUploader {
  private buffer: Entry[] = [];
  private bufferedBytes = 0;
  private retry = 0;
  private timer: unknown = null;
  private running = false;
  private flushing: Promise<void> | null = null;
  private readonly pending = new Set<Promise<void>>();
  private readonly s: UploaderStats = {
    bufferedEvents: 0,
    bufferedBytes: 0,
    uploadedEvents: 0,
    uploads: 0,
    failedUploads: 0,
    dropped: { buffer_full: 0, upload_failed: 0, too_large: 0, mask_error: 0, encode_error: 0 },
  };
  private readonly limit: number;
  private readonly timers: UploadTimers;
  private readonly random: () => number;

  constructor(private readonly opts: DecisionLogUploaderOptions) {
    this.limit = opts.uploadSizeLimitBytes ?? 32_768;
    this.timers = opts.timers ?? unrefTimers;
    this.random = opts.random ?? Math.random;
  }

  stats(): UploaderStats {
    return { ...this.s, bufferedEvents: this.buffer.length, bufferedBytes: this.bufferedBytes, dropped: { ...this.s.dropped } };
  }

  private drop(reason: DropReason, count: number): void {
    if (count <= 0) return;
    this.s.dropped[reason] += count;
    try {
      this.opts.onEvent?.({ kind: 'dropped', reason, count });
    } catch {
      // reporting must not break logging
    }
  }

  /** Queues one event (OPA's event shape). Never throws; masking may finish asynchronously. */
  log(event: Record<string, unknown>): void {
    const mask = this.opts.mask;
    let json: string;
    try {
      json = JSON.stringify(event);
    } catch {
      this.drop('encode_error', 1);
      return;
    }
    if (mask === undefined) return this.enqueue(json);
    const copy = JSON.parse(json) as Record<string, unknown>; // masking works on our own copy
    let rules: readonly MaskRule[] | Promise<readonly MaskRule[]>;
    try {
      rules = typeof mask === 'function' ? mask(copy) : mask;
    } catch {
      this.drop('mask_error', 1);
      return;
    }
    if (!(rules instanceof Promise)) return this.maskAndEnqueue(copy, rules);
    const p = rules.then(
      (r) => this.maskAndEnqueue(copy, r),
      () => this.drop('mask_error', 1),
    );
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private maskAndEnqueue(event: Record<string, unknown>, rules: readonly MaskRule[]): void {
    try {
      applyMaskRules(event, rules);
    } catch {
      this.drop('mask_error', 1);
      return;
    }
    this.enqueue(JSON.stringify(event));
  }

  private enqueue(json: string): void {
    const bytes = Buffer.byteLength(json, 'utf8');
    // gzip never grows text by more than its header and block overhead, so only large events need the check.
    if (bytes + 64 > this.limit && gzipSize(`[${json}]`) > this.limit) {
      this.drop('too_large', 1); // it could never be uploaded
      return;
    }
    this.buffer.push({ json, bytes, attempts: 0 });
    this.bufferedBytes += bytes;
    this.enforceLimits();
  }

  /** Drops the oldest events until the buffer fits its limits. */
  private enforceLimits(): void {
    const maxEvents = this.opts.bufferSizeLimitEvents ?? 10_000;
    const maxBytes = this.opts.bufferSizeLimitBytes ?? Number.POSITIVE_INFINITY;
    let n = 0;
    while (this.buffer.length > 0 && (this.buffer.length > maxEvents || this.bufferedBytes > maxBytes)) {
      this.bufferedBytes -= this.buffer.shift()!.bytes;
      n++;
    }
    this.drop('buffer_full', n);
  }

  /** The next batch from the head of the buffer whose gzip body fits the upload limit. */
  private takeBatch(): { entries: Entry[]; body: Buffer } | null {
    if (this.buffer.length === 0) return null;
    // Grow by uncompressed size first (cheap), then shrink until the gzip body fits.
    let n = 0;
    let raw = 2;
    while (n < this.buffer.length && (n === 0 || raw + this.buffer[n].bytes + 1 <= this.limit * 8)) raw += this.buffer[n++].bytes + 1;
    for (;;) {
      const body = gzipSync(`[${this.buffer.slice(0, n).map((e) => e.json).join(',')}]`);
      if (body.length <= this.limit || n === 1) {
        const entries = this.buffer.splice(0, n);
        for (const e of entries) this.bufferedBytes -= e.bytes;
        return { entries, body };
      }
      n = Math.max(1, Math.floor(n / 2));
    }
  }

  /** Uploads everything buffered now. Resolves (never rejects) when done or after the first failure. */
  flush(): Promise<void> {
    this.flushing ??= this.doFlush().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async doFlush(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    for (;;) {
      const batch = this.takeBatch();
      if (!batch) {
        this.retry = 0;
        return;
      }
      let status: number | null = null;
      try {
        const res = await this.opts.transport.request({
          method: 'POST',
          path: this.opts.resource ?? '/logs',
          headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
          body: batch.body,
        });
        status = res.status;
      } catch {
        status = null;
      }
      if (status !== null && status >= 200 && status < 300) {
        this.s.uploads++;
        this.s.uploadedEvents += batch.entries.length;
        continue;
      }
      this.s.failedUploads++;
      try {
        this.opts.onEvent?.({ kind: 'upload_failed', status });
      } catch {
        // A failing observer (a log line, a metric) must not stop the upload loop; the failure itself
        // is already counted in failedUploads.
      }
      const maxAttempts = this.opts.maxAttempts ?? Number.POSITIVE_INFINITY;
      const keep = batch.entries.filter((e) => ++e.attempts < maxAttempts);
      this.drop('upload_failed', batch.entries.length - keep.length);
      this.buffer.unshift(...keep);
      for (const e of keep) this.bufferedBytes += e.bytes;
      this.enforceLimits();
      this.retry++;
      return;
    }
  }

  /** The wait before the next upload: backoff after a failure, else a random reporting delay. */
  nextDelayMs(): number {
    const maxMs = (this.opts.maxDelaySeconds ?? 600) * 1000;
    if (this.retry > 0) {
      return backoffDelayMs(this.retry, maxMs, this.random);
    }
    const minMs = (this.opts.minDelaySeconds ?? 300) * 1000;
    return minMs + (maxMs - minMs) * this.random();
  }

  /** Uploads periodically until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    const schedule = (): void => {
      this.timer = this.timers.setTimeout(() => {
        this.timer = null;
        if (!this.running) return;
        void this.flush().then(() => {
          if (this.running) schedule();
        });
      }, this.nextDelayMs());
    };
    schedule();
  }

  /** Stops the timer and makes one last upload attempt. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
  }
}

function gzipSize(text: string): number {
  return gzipSync(text).length;
}
