// OpenTelemetry settings from the standard OTEL_* variables (OpenTelemetry specification, "Environment
// Variable Specification" and "OTLP Exporter Configuration"), read from an environment map the CLI
// passes in: nothing here reads process state. Exporters are off unless configured: an OTLP endpoint or
// an explicit OTEL_*_EXPORTER turns them on. A value we cannot use fails start-up naming the variable
// and never echoing its value (header values and URLs may carry credentials).
import { CodedError } from '../model/errors';

export type EnvLike = Readonly<Record<string, string | undefined>>;

export type TelemetryConfigErrorCode = 'telemetry_config_invalid';

export class TelemetryConfigError extends CodedError<TelemetryConfigErrorCode> {}

export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';

export interface OtlpTarget {
  url: string;
  protocol: OtlpProtocol;
  headers: Record<string, string>;
  timeoutMs: number;
  compression: 'gzip' | 'none';
}

export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

export interface TraceSettings {
  otlp: OtlpTarget | null;
  console: boolean;
  sampler: SamplerName;
  /** Ratio for the traceidratio samplers, 0..1. */
  samplerArg: number;
  batch: { scheduledDelayMs: number; exportTimeoutMs: number; maxQueueSize: number; maxExportBatchSize: number };
}

export interface MetricSettings {
  /** OTLP push; the Prometheus pull on the admin listener is always served. */
  otlp: OtlpTarget | null;
  console: boolean;
  intervalMs: number;
  timeoutMs: number;
  temporality: 'cumulative' | 'delta' | 'lowmemory';
}

export interface OtelSettings {
  /** OTEL_SDK_DISABLED=true: no spans and no push; /metrics keeps working (it is the service's own). */
  disabled: boolean;
  serviceName: string;
  resourceAttributes: Record<string, string>;
  /** null when no trace exporter is configured: no spans are created at all. */
  traces: TraceSettings | null;
  metrics: MetricSettings;
  /** Extract W3C traceparent/tracestate from requests (OTEL_PROPAGATORS includes tracecontext). */
  propagateTraceContext: boolean;
  /** Settings we accept but ignore, for a start-up warning. */
  warnings: string[];
}

const SAMPLERS: readonly SamplerName[] = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'];
const PROTOCOLS: readonly OtlpProtocol[] = ['http/protobuf', 'http/json', 'grpc'];

function bad(name: string, why: string): TelemetryConfigError {
  return new TelemetryConfigError('telemetry_config_invalid', `${name}: ${why}`);
}

/** An env value, or undefined when unset or blank (the specification treats empty as unset). */
function str(env: EnvLike, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function bool(env: EnvLike, name: string, dflt: boolean): boolean {
  const v = str(env, name);
  if (v === undefined) return dflt;
  if (/^true$/i.test(v)) return true;
  if (/^false$/i.test(v)) return false;
  throw bad(name, 'expected true or false');
}

function int(env: EnvLike, name: string, dflt: number, min: number, max: number): number {
  const v = str(env, name);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw bad(name, `expected an integer between ${min} and ${max}`);
  return Number(v);
}

function list(env: EnvLike, name: string): string[] | undefined {
  const v = str(env, name);
  return v === undefined ? undefined : v.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
}

function oneOf<T extends string>(env: EnvLike, name: string, allowed: readonly T[], dflt: T): T {
  const v = str(env, name);
  if (v === undefined) return dflt;
  const lower = v.toLowerCase() as T;
  if (!allowed.includes(lower)) throw bad(name, `expected one of ${allowed.join(', ')}`);
  return lower;
}

/** `k1=v1,k2=v2`, percent-decoded (W3C Baggage format, as OTEL_RESOURCE_ATTRIBUTES and *_HEADERS use). */
export function parseKeyValues(raw: string | undefined, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  for (const part of raw.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw bad(name, 'expected comma-separated key=value pairs');
    try {
      out[decodeURIComponent(part.slice(0, eq).trim())] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      throw bad(name, 'a key or value is not valid percent-encoding');
    }
  }
  return out;
}

function httpUrl(value: string, name: string): URL {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw bad(name, 'expected an http:// or https:// URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw bad(name, 'expected an http:// or https:// URL');
  return u;
}

type Signal = 'TRACES' | 'METRICS';

/** The OTLP target of one signal: signal-specific variables win over the general ones. */
function otlpTarget(env: EnvLike, signal: Signal): OtlpTarget {
  const protoName = str(env, `OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`) !== undefined ? `OTEL_EXPORTER_OTLP_${signal}_PROTOCOL` : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = oneOf(env, protoName, PROTOCOLS, 'http/protobuf');
  const path = signal === 'TRACES' ? 'v1/traces' : 'v1/metrics';
  let url: string;
  const specific = str(env, `OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`);
  const general = str(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (specific !== undefined) {
    // Used as given (the specification: a signal-specific URL is the full URL).
    url = httpUrl(specific, `OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`).toString();
  } else if (general !== undefined) {
    const base = httpUrl(general, 'OTEL_EXPORTER_OTLP_ENDPOINT').toString();
    url = protocol === 'grpc' ? base : `${base.endsWith('/') ? base : `${base}/`}${path}`;
  } else {
    url = protocol === 'grpc' ? 'http://localhost:4317' : `http://localhost:4318/${path}`;
  }
  const headers = {
    ...parseKeyValues(str(env, 'OTEL_EXPORTER_OTLP_HEADERS'), 'OTEL_EXPORTER_OTLP_HEADERS'),
    ...parseKeyValues(str(env, `OTEL_EXPORTER_OTLP_${signal}_HEADERS`), `OTEL_EXPORTER_OTLP_${signal}_HEADERS`),
  };
  const timeoutName = str(env, `OTEL_EXPORTER_OTLP_${signal}_TIMEOUT`) !== undefined ? `OTEL_EXPORTER_OTLP_${signal}_TIMEOUT` : 'OTEL_EXPORTER_OTLP_TIMEOUT';
  const compressionName = str(env, `OTEL_EXPORTER_OTLP_${signal}_COMPRESSION`) !== undefined ? `OTEL_EXPORTER_OTLP_${signal}_COMPRESSION` : 'OTEL_EXPORTER_OTLP_COMPRESSION';
  return {
    url,
    protocol,
    headers,
    timeoutMs: int(env, timeoutName, 10_000, 1, 600_000),
    compression: oneOf(env, compressionName, ['gzip', 'none'] as const, 'none'),
  };
}

/**
 * Which exporters a signal uses. Unset: OTLP when an endpoint for it is configured, else none (the
 * specification defaults to otlp; we do not, so a bare start never dials localhost:4318).
 */
function exporters(env: EnvLike, signal: Signal, allowed: readonly string[]): Set<string> {
  const name = `OTEL_${signal}_EXPORTER`;
  const v = list(env, name);
  if (v === undefined) {
    const endpoint = str(env, `OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`) ?? str(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
    return new Set(endpoint !== undefined ? ['otlp'] : []);
  }
  for (const e of v) if (!allowed.includes(e)) throw bad(name, `${JSON.stringify(e).slice(0, 40)} is not supported; expected ${allowed.join(', ')}`);
  if (v.includes('none') && v.length > 1) throw bad(name, 'none cannot be combined with other exporters');
  return new Set(v.filter((e) => e !== 'none'));
}

/** Reads every OTEL_* setting the service honours. Throws TelemetryConfigError naming the variable. */
export function readOtelSettings(env: EnvLike): OtelSettings {
  const warnings: string[] = [];
  const disabled = bool(env, 'OTEL_SDK_DISABLED', false);
  const resourceAttributes = parseKeyValues(str(env, 'OTEL_RESOURCE_ATTRIBUTES'), 'OTEL_RESOURCE_ATTRIBUTES');
  const serviceName = str(env, 'OTEL_SERVICE_NAME') ?? resourceAttributes['service.name'] ?? 'callback-proxy';

  const propagators = list(env, 'OTEL_PROPAGATORS') ?? ['tracecontext'];
  for (const p of propagators) {
    if (!['tracecontext', 'baggage', 'none'].includes(p)) throw bad('OTEL_PROPAGATORS', `${JSON.stringify(p).slice(0, 40)} is not supported; expected tracecontext, baggage or none`);
  }
  if (propagators.includes('baggage')) warnings.push('OTEL_PROPAGATORS: baggage is accepted and ignored (no baggage reaches spans or logs)');

  const traceExporters = exporters(env, 'TRACES', ['otlp', 'console', 'none']);
  const metricExporters = exporters(env, 'METRICS', ['otlp', 'prometheus', 'console', 'none']);
  const logs = list(env, 'OTEL_LOGS_EXPORTER');
  if (logs !== undefined && !(logs.length === 1 && logs[0] === 'none')) {
    warnings.push('OTEL_LOGS_EXPORTER: ignored; logs are JSON lines on stdout carrying trace_id and span_id');
  }

  const sampler = oneOf(env, 'OTEL_TRACES_SAMPLER', SAMPLERS, 'parentbased_always_on');
  let samplerArg = 1;
  const arg = str(env, 'OTEL_TRACES_SAMPLER_ARG');
  if (arg !== undefined && sampler.endsWith('traceidratio')) {
    samplerArg = Number(arg);
    if (!/^\d*\.?\d+$/.test(arg) || !(samplerArg >= 0 && samplerArg <= 1)) throw bad('OTEL_TRACES_SAMPLER_ARG', 'expected a ratio between 0 and 1');
  }
  const maxQueueSize = int(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 2048, 1, 1_000_000);
  const batch = {
    scheduledDelayMs: int(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000, 1, 600_000),
    exportTimeoutMs: int(env, 'OTEL_BSP_EXPORT_TIMEOUT', 30_000, 1, 600_000),
    maxQueueSize,
    maxExportBatchSize: int(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', Math.min(512, maxQueueSize), 1, maxQueueSize),
  };

  const tracesOn = !disabled && traceExporters.size > 0;
  const traces: TraceSettings | null = tracesOn
    ? { otlp: traceExporters.has('otlp') ? otlpTarget(env, 'TRACES') : null, console: traceExporters.has('console'), sampler, samplerArg, batch }
    : null;
  const metrics: MetricSettings = {
    otlp: !disabled && metricExporters.has('otlp') ? otlpTarget(env, 'METRICS') : null,
    console: !disabled && metricExporters.has('console'),
    intervalMs: int(env, 'OTEL_METRIC_EXPORT_INTERVAL', 60_000, 100, 86_400_000),
    timeoutMs: int(env, 'OTEL_METRIC_EXPORT_TIMEOUT', 30_000, 1, 600_000),
    temporality: oneOf(env, 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', ['cumulative', 'delta', 'lowmemory'] as const, 'cumulative'),
  };
  return {
    disabled,
    serviceName,
    resourceAttributes,
    traces,
    metrics,
    propagateTraceContext: !propagators.includes('none') && propagators.includes('tracecontext'),
    warnings,
  };
}

/** OTEL_* variables this module reads (for `serve --help`). */
export const OTEL_VARIABLES: readonly string[] = [
  'OTEL_SDK_DISABLED', 'OTEL_SERVICE_NAME', 'OTEL_RESOURCE_ATTRIBUTES', 'OTEL_PROPAGATORS',
  'OTEL_TRACES_EXPORTER', 'OTEL_METRICS_EXPORTER', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TIMEOUT', 'OTEL_EXPORTER_OTLP_COMPRESSION',
  'OTEL_EXPORTER_OTLP_{TRACES,METRICS}_{ENDPOINT,PROTOCOL,HEADERS,TIMEOUT,COMPRESSION}',
  'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', 'OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG',
  'OTEL_BSP_SCHEDULE_DELAY', 'OTEL_BSP_EXPORT_TIMEOUT', 'OTEL_BSP_MAX_QUEUE_SIZE', 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
  'OTEL_METRIC_EXPORT_INTERVAL', 'OTEL_METRIC_EXPORT_TIMEOUT',
];
