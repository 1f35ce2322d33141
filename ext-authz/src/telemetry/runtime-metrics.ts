// Node runtime metrics under our prefix (docs/operations.md, "Metrics"): event-loop delay and
// utilisation, V8 heap, GC pauses, process CPU and memory — from node:perf_hooks, node:v8 and the
// process object, read when a collection asks. @opentelemetry/instrumentation-runtime-node reports
// similar numbers, but under unprefixed names and with a module-patching base class we do not need.
import { constants, monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import type { EventLoopUtilization, IntervalHistogram } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import type { Histogram, Meter } from '@opentelemetry/api';

/** Event-loop figures are windows: each collection within this time of the last reuses its figures. */
const WINDOW_MS = 5000;
const GC_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

interface LoopWindow {
  at: number;
  delay: { min: number; max: number; mean: number; p50: number; p90: number; p99: number } | null;
  utilization: number | null;
}

export class RuntimeMetrics {
  private delay: IntervalHistogram | null = null;
  private gcObserver: PerformanceObserver | null = null;
  private elu: EventLoopUtilization | null = null;
  private window: LoopWindow = { at: 0, delay: null, utilization: null };
  private readonly gcDuration: Histogram;
  private readonly gcAttrs: Record<string, { kind: string }> = {};

  constructor(meter: Meter, private readonly clock: () => number = Date.now) {
    const delayGauge = (suffix: keyof NonNullable<LoopWindow['delay']>): void => {
      meter
        .createObservableGauge(`callback_proxy_nodejs_eventloop_delay_${suffix}_seconds`, { description: `Event-loop delay ${suffix} over the last window`, unit: 's' })
        .addCallback((r) => {
          const d = this.sample().delay;
          if (d) r.observe(d[suffix]);
        });
    };
    for (const s of ['min', 'max', 'mean', 'p50', 'p90', 'p99'] as const) delayGauge(s);
    meter
      .createObservableGauge('callback_proxy_nodejs_eventloop_utilization_ratio', { description: 'Share of the last window the event loop was busy', unit: '1' })
      .addCallback((r) => {
        const u = this.sample().utilization;
        if (u !== null) r.observe(u);
      });
    meter.createObservableGauge('callback_proxy_nodejs_heap_used_bytes', { description: 'V8 heap in use', unit: 'By' }).addCallback((r) => r.observe(getHeapStatistics().used_heap_size));
    meter.createObservableGauge('callback_proxy_nodejs_heap_total_bytes', { description: 'V8 heap allocated', unit: 'By' }).addCallback((r) => r.observe(getHeapStatistics().total_heap_size));
    meter.createObservableGauge('callback_proxy_nodejs_heap_limit_bytes', { description: 'V8 heap size limit', unit: 'By' }).addCallback((r) => r.observe(getHeapStatistics().heap_size_limit));
    meter.createObservableGauge('callback_proxy_nodejs_heap_space_used_bytes', { description: 'V8 heap in use by space', unit: 'By' }).addCallback((r) => {
      for (const s of getHeapSpaceStatistics()) r.observe(s.space_used_size, { space: s.space_name });
    });
    this.gcDuration = meter.createHistogram('callback_proxy_nodejs_gc_duration_seconds', {
      description: 'Garbage collection pauses by kind',
      unit: 's',
      advice: { explicitBucketBoundaries: GC_BUCKETS },
    });
    meter.createObservableCounter('callback_proxy_process_cpu_seconds', { description: 'Process CPU time, user and system', unit: 's' }).addCallback((r) => {
      const u = process.cpuUsage();
      r.observe((u.user + u.system) / 1e6);
    });
    meter.createObservableGauge('callback_proxy_process_resident_memory_bytes', { description: 'Resident set size', unit: 'By' }).addCallback((r) => r.observe(process.memoryUsage.rss()));
    const started = (this.clock() - process.uptime() * 1000) / 1000;
    meter.createObservableGauge('callback_proxy_process_start_time_seconds', { description: 'Process start, seconds since the epoch', unit: 's' }).addCallback((r) => r.observe(started));
  }

  /** Starts the event-loop histogram and the GC observer (a 20 ms timer and a perf_hooks observer). */
  start(): void {
    if (this.delay) return;
    this.delay = monitorEventLoopDelay({ resolution: 20 });
    this.delay.enable();
    this.elu = performance.eventLoopUtilization();
    this.gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const detail = (e as { detail?: { kind?: number } }).detail;
        const kind = GC_KINDS[detail?.kind ?? -1] ?? 'other';
        this.gcDuration.record(e.duration / 1000, (this.gcAttrs[kind] ??= { kind }));
      }
    });
    this.gcObserver.observe({ entryTypes: ['gc'] });
  }

  stop(): void {
    this.delay?.disable();
    this.delay = null;
    this.gcObserver?.disconnect();
    this.gcObserver = null;
  }

  /** The current window's figures; a new window starts when the last is older than WINDOW_MS. */
  private sample(): LoopWindow {
    const now = this.clock();
    if (this.window.at !== 0 && now - this.window.at < WINDOW_MS) return this.window;
    let delay: LoopWindow['delay'] = null;
    if (this.delay && this.delay.count > 0) {
      const s = (ns: number): number => ns / 1e9;
      delay = { min: s(this.delay.min), max: s(this.delay.max), mean: s(this.delay.mean), p50: s(this.delay.percentile(50)), p90: s(this.delay.percentile(90)), p99: s(this.delay.percentile(99)) };
      this.delay.reset();
    }
    let utilization: number | null = null;
    if (this.elu) {
      const next = performance.eventLoopUtilization();
      utilization = performance.eventLoopUtilization(next, this.elu).utilization;
      this.elu = next;
    }
    this.window = { at: now, delay, utilization };
    return this.window;
  }
}
