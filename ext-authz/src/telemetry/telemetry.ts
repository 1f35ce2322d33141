// The OpenTelemetry SDK as the service runs it (docs/operations.md, "Telemetry"): one MeterProvider with a
// Prometheus reader (served by the admin listener's /metrics) and, when configured, an OTLP push reader;
// one TracerProvider with a batch span processor when a trace exporter is configured, else no tracing at
// all. Configured only from the OTEL_* map handed in (otel-settings.ts). Nothing here waits on the
// network: exporters connect lazily, spans are batched off the request path into a bounded queue
// (dropped when full), and shutdown flushes within a deadline.
import { randomUUID } from 'node:crypto';
import { context } from '@opentelemetry/api';
import type { Meter, Tracer } from '@opentelemetry/api';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import type { Resource } from '@opentelemetry/resources';
import { AggregationTemporality, ConsoleMetricExporter, InstrumentType, MeterProvider, MetricReader, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { IMetricReader, PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { BasicTracerProvider, Sampler, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { readOtelSettings } from './otel-settings';
import type { EnvLike, MetricSettings, OtelSettings, OtlpTarget, TraceSettings } from './otel-settings';
import { ServiceMetrics } from './service-metrics';
import { RuntimeMetrics } from './runtime-metrics';
import { CheckTracing } from './tracing';

export interface TelemetryOptions {
  /** The environment (OTEL_* variables), as the CLI read it. */
  env: EnvLike;
  version: string;
  /** node version string for build info (the caller passes process.version). */
  nodeVersion: string;
}

/** The Prometheus text exposition content type (text format 0.0.4). */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * OTLP/trace exporters are loaded only when configured, so a default start does not pay for them.
 * (`require`, not `import()`: the service runs as CommonJS and the loaders in bin/ map import() to it.)
 */
function load<T>(id: string): T {
  return require(id) as T;
}

/**
 * Gauges are collected as deltas, everything else cumulatively. Why: under cumulative temporality the
 * SDK merges every collection into the last one, so a gauge series that is no longer observed (the
 * stage a connection left, a replaced policy revision) would be exported forever. A gauge has no
 * temporality on the wire (Prometheus or OTLP), so only the stale series go away.
 */
function gaugesAsDelta(t: InstrumentType): AggregationTemporality {
  return t === InstrumentType.OBSERVABLE_GAUGE || t === InstrumentType.GAUGE ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;
}

/** The reader behind /metrics: collects on demand (a scrape) and never pushes. */
class PrometheusPullReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: gaugesAsDelta });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** A push exporter with its temporality choice kept for counters and histograms, gauges as deltas. */
function withGaugeDeltas(e: PushMetricExporter): PushMetricExporter {
  return {
    export: (metrics, done) => e.export(metrics, done),
    forceFlush: () => e.forceFlush(),
    shutdown: () => e.shutdown(),
    selectAggregation: e.selectAggregation?.bind(e),
    selectAggregationTemporality: (t) => (gaugesAsDelta(t) === AggregationTemporality.DELTA ? AggregationTemporality.DELTA : (e.selectAggregationTemporality?.(t) ?? AggregationTemporality.CUMULATIVE)),
  };
}

function otlpOptions(t: OtlpTarget): { url: string; headers: Record<string, string>; timeoutMillis: number; compression: 'gzip' | 'none' } {
  return { url: t.url, headers: t.headers, timeoutMillis: t.timeoutMs, compression: t.compression };
}

function traceExporter(t: OtlpTarget): SpanExporter {
  if (t.protocol === 'grpc') {
    const m = load<typeof import('@opentelemetry/exporter-trace-otlp-grpc')>('@opentelemetry/exporter-trace-otlp-grpc');
    const { grpcMetadata } = grpcHeaders(t);
    return new m.OTLPTraceExporter({ url: t.url, timeoutMillis: t.timeoutMs, metadata: grpcMetadata, compression: t.compression as never });
  }
  if (t.protocol === 'http/json') {
    const m = load<typeof import('@opentelemetry/exporter-trace-otlp-http')>('@opentelemetry/exporter-trace-otlp-http');
    return new m.OTLPTraceExporter(otlpOptions(t) as never);
  }
  const m = load<typeof import('@opentelemetry/exporter-trace-otlp-proto')>('@opentelemetry/exporter-trace-otlp-proto');
  return new m.OTLPTraceExporter(otlpOptions(t) as never);
}

function metricExporter(s: MetricSettings, t: OtlpTarget): PushMetricExporter {
  const temporalityPreference = { cumulative: 1, delta: 0, lowmemory: 2 }[s.temporality];
  if (t.protocol === 'grpc') {
    const m = load<typeof import('@opentelemetry/exporter-metrics-otlp-grpc')>('@opentelemetry/exporter-metrics-otlp-grpc');
    return new m.OTLPMetricExporter({ url: t.url, timeoutMillis: t.timeoutMs, metadata: grpcHeaders(t).grpcMetadata, compression: t.compression as never, temporalityPreference });
  }
  if (t.protocol === 'http/json') {
    const m = load<typeof import('@opentelemetry/exporter-metrics-otlp-http')>('@opentelemetry/exporter-metrics-otlp-http');
    return new m.OTLPMetricExporter({ ...(otlpOptions(t) as object), temporalityPreference });
  }
  const m = load<typeof import('@opentelemetry/exporter-metrics-otlp-proto')>('@opentelemetry/exporter-metrics-otlp-proto');
  return new m.OTLPMetricExporter({ ...(otlpOptions(t) as object), temporalityPreference });
}

function grpcHeaders(t: OtlpTarget): { grpcMetadata: import('@grpc/grpc-js').Metadata } {
  const grpc = load<typeof import('@grpc/grpc-js')>('@grpc/grpc-js');
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(t.headers)) md.set(k, v);
  return { grpcMetadata: md };
}

function sampler(t: TraceSettings): Sampler {
  const m = load<typeof import('@opentelemetry/sdk-trace-base')>('@opentelemetry/sdk-trace-base');
  const ratio = (): Sampler => new m.TraceIdRatioBasedSampler(t.samplerArg);
  switch (t.sampler) {
    case 'always_on':
      return new m.AlwaysOnSampler();
    case 'always_off':
      return new m.AlwaysOffSampler();
    case 'traceidratio':
      return ratio();
    case 'parentbased_always_off':
      return new m.ParentBasedSampler({ root: new m.AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new m.ParentBasedSampler({ root: ratio() });
    default:
      return new m.ParentBasedSampler({ root: new m.AlwaysOnSampler() });
  }
}

/** Registers the async-hooks context manager once per process (only when some app traces). */
let contextManagerInstalled = false;
function installContextManager(): void {
  if (contextManagerInstalled) return;
  const m = load<typeof import('@opentelemetry/context-async-hooks')>('@opentelemetry/context-async-hooks');
  context.setGlobalContextManager(new m.AsyncLocalStorageContextManager().enable());
  contextManagerInstalled = true;
}

function buildResource(s: OtelSettings, version: string): Resource {
  return defaultResource().merge(
    resourceFromAttributes({
      ...s.resourceAttributes,
      'service.name': s.serviceName,
      'service.version': version,
      'service.instance.id': s.resourceAttributes['service.instance.id'] ?? randomUUID(),
    }),
  );
}

export class Telemetry {
  readonly settings: OtelSettings;
  readonly meter: Meter;
  readonly metrics: ServiceMetrics;
  readonly tracing: CheckTracing;
  private readonly meterProvider: MeterProvider;
  private readonly prometheus: PrometheusPullReader;
  private readonly serializer: PrometheusSerializer;
  private readonly tracerProvider: BasicTracerProvider | null = null;
  private readonly runtime: RuntimeMetrics;
  private stopping: Promise<void> | null = null;

  /** Throws TelemetryConfigError (naming the OTEL_* variable) on a setting it cannot use. */
  constructor(opts: TelemetryOptions) {
    this.settings = readOtelSettings(opts.env);
    const resource = buildResource(this.settings, opts.version);
    // Scope labels (otel_scope_name) would be on every series for nothing: there is one scope.
    this.prometheus = new PrometheusPullReader();
    // No prefix, no timestamps, target_info kept, scope labels (otel_scope_name) left out: one scope.
    this.serializer = new PrometheusSerializer(undefined, false, undefined, false, true);
    const readers: IMetricReader[] = [this.prometheus];
    const ms = this.settings.metrics;
    const push = (exporter: PushMetricExporter): PeriodicExportingMetricReader =>
      new PeriodicExportingMetricReader({ exporter: withGaugeDeltas(exporter), exportIntervalMillis: ms.intervalMs, exportTimeoutMillis: Math.min(ms.timeoutMs, ms.intervalMs) });
    if (ms.otlp) readers.push(push(metricExporter(ms, ms.otlp)));
    if (ms.console) readers.push(push(new ConsoleMetricExporter()));
    this.meterProvider = new MeterProvider({ resource, readers });
    this.meter = this.meterProvider.getMeter('callback-proxy', opts.version);
    this.metrics = new ServiceMetrics(this.meter, opts.version, opts.nodeVersion);
    this.runtime = new RuntimeMetrics(this.meter);

    let tracer: Tracer | null = null;
    const ts = this.settings.traces;
    if (ts) {
      const m = load<typeof import('@opentelemetry/sdk-trace-base')>('@opentelemetry/sdk-trace-base');
      const b = ts.batch;
      const batch = { scheduledDelayMillis: b.scheduledDelayMs, exportTimeoutMillis: b.exportTimeoutMs, maxQueueSize: b.maxQueueSize, maxExportBatchSize: b.maxExportBatchSize };
      const processors = [];
      if (ts.otlp) processors.push(new m.BatchSpanProcessor(traceExporter(ts.otlp), batch));
      if (ts.console) processors.push(new m.BatchSpanProcessor(new m.ConsoleSpanExporter(), batch));
      this.tracerProvider = new m.BasicTracerProvider({ resource, sampler: sampler(ts), spanProcessors: processors });
      tracer = this.tracerProvider.getTracer('callback-proxy', opts.version);
      installContextManager();
    }
    this.tracing = new CheckTracing(tracer, this.settings.propagateTraceContext);
  }

  /** Starts the runtime observers (event-loop delay timer, GC observer). */
  start(): void {
    this.runtime.start();
  }

  /** The Prometheus text exposition of every metric (the admin listener's /metrics). */
  async metricsText(): Promise<string> {
    const { resourceMetrics } = await this.prometheus.collect();
    return this.serializer.serialize(resourceMetrics);
  }

  /** Pushes what is buffered (spans, OTLP metrics) now; bounded by `timeoutMs`. Never throws. */
  async flush(timeoutMs = 5000): Promise<void> {
    await bounded(Promise.allSettled([this.tracerProvider?.forceFlush(), this.meterProvider.forceFlush({ timeoutMillis: timeoutMs })]), timeoutMs);
  }

  /** Flushes and stops everything within `timeoutMs` (an unreachable collector cannot hold the exit). */
  shutdown(timeoutMs = 5000): Promise<void> {
    this.stopping ??= (async () => {
      this.runtime.stop();
      await bounded(Promise.allSettled([this.tracerProvider?.shutdown(), this.meterProvider.shutdown({ timeoutMillis: timeoutMs })]), timeoutMs);
    })();
    return this.stopping;
  }
}

function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    p.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}
