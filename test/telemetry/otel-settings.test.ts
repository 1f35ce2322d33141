// The OTEL_* settings (telemetry/otel-settings.ts): exporters off unless configured, the specification's
// endpoint rules (signal-specific URLs as given, the general one + /v1/<signal>), samplers, batch
// settings, and errors that name the variable without echoing its value.
import { readOtelSettings, TelemetryConfigError } from '../../ext-authz/src/telemetry/otel-settings';

const SECRET = 'sekrit-9f2c';

test('nothing configured: no spans, no push; the service name and propagation have defaults', () => {
  const s = readOtelSettings({});
  expect(s).toMatchObject({ disabled: false, serviceName: 'callback-proxy', traces: null, propagateTraceContext: true, warnings: [] });
  expect(s.metrics).toMatchObject({ otlp: null, console: false, intervalMs: 60_000, temporality: 'cumulative' });
});

test('a general endpoint turns on OTLP for both signals, http/protobuf, with /v1/<signal> appended', () => {
  const s = readOtelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=a%2Cb,tenant=t1', OTEL_EXPORTER_OTLP_TIMEOUT: '2500' });
  expect(s.traces?.otlp).toEqual({ url: 'http://collector:4318/v1/traces', protocol: 'http/protobuf', headers: { 'x-api-key': 'a,b', tenant: 't1' }, timeoutMs: 2500, compression: 'none' });
  expect(s.metrics.otlp?.url).toBe('http://collector:4318/v1/metrics');
  expect(s.traces).toMatchObject({ sampler: 'parentbased_always_on', batch: { scheduledDelayMs: 5000, maxQueueSize: 2048, maxExportBatchSize: 512 } });
});

test('signal-specific settings win; signal URLs are used as given; grpc keeps the bare endpoint', () => {
  const s = readOtelSettings({
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://metrics.example/custom/path',
    OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'a=2',
    OTEL_EXPORTER_OTLP_HEADERS: 'a=1,b=1',
    OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
  });
  expect(s.traces?.otlp).toMatchObject({ url: 'http://collector:4317/', protocol: 'grpc', headers: { a: '1', b: '1' }, compression: 'gzip' });
  expect(s.metrics.otlp).toMatchObject({ url: 'https://metrics.example/custom/path', protocol: 'http/json', headers: { a: '2', b: '1' } });
});

test('exporter lists: none turns a signal off, an explicit otlp without endpoint uses the default one, console works', () => {
  const s = readOtelSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'prometheus' });
  expect(s.traces).toBeNull();
  expect(s.metrics.otlp).toBeNull();
  const t = readOtelSettings({ OTEL_TRACES_EXPORTER: 'otlp,console' });
  expect(t.traces).toMatchObject({ console: true, otlp: { url: 'http://localhost:4318/v1/traces' } });
  expect(readOtelSettings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).traces?.otlp?.url).toBe('http://localhost:4317');
});

test('OTEL_SDK_DISABLED turns off spans and push; OTEL_PROPAGATORS=none stops extraction', () => {
  const s = readOtelSettings({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' });
  expect(s.traces).toBeNull();
  expect(s.metrics.otlp).toBeNull();
  expect(readOtelSettings({ OTEL_PROPAGATORS: 'none' }).propagateTraceContext).toBe(false);
  expect(readOtelSettings({ OTEL_PROPAGATORS: 'tracecontext,baggage' }).warnings).toEqual([expect.stringMatching(/^OTEL_PROPAGATORS: baggage/)]);
  expect(readOtelSettings({ OTEL_LOGS_EXPORTER: 'otlp' }).warnings).toEqual([expect.stringMatching(/^OTEL_LOGS_EXPORTER: ignored/)]);
});

test('resource attributes are percent-decoded; OTEL_SERVICE_NAME wins over service.name in them', () => {
  expect(readOtelSettings({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,deployment.environment.name=prod%20eu' })).toMatchObject({
    serviceName: 'from-attrs',
    resourceAttributes: { 'deployment.environment.name': 'prod eu' },
  });
  expect(readOtelSettings({ OTEL_SERVICE_NAME: 'svc', OTEL_RESOURCE_ATTRIBUTES: 'service.name=x' }).serviceName).toBe('svc');
});

test('samplers and their argument', () => {
  const on = { OTEL_TRACES_EXPORTER: 'console' };
  expect(readOtelSettings({ ...on, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }).traces).toMatchObject({ sampler: 'parentbased_traceidratio', samplerArg: 0.25 });
  expect(readOtelSettings({ ...on, OTEL_TRACES_SAMPLER: 'ALWAYS_OFF' }).traces?.sampler).toBe('always_off');
});

test.each([
  [{ OTEL_SDK_DISABLED: 'yes' }, 'OTEL_SDK_DISABLED: expected true or false'],
  [{ OTEL_EXPORTER_OTLP_ENDPOINT: `ftp://${SECRET}@host` }, 'OTEL_EXPORTER_OTLP_ENDPOINT: expected an http:// or https:// URL'],
  [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `not a url ${SECRET}` }, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: expected an http:// or https:// URL'],
  [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' }, 'OTEL_EXPORTER_OTLP_PROTOCOL: expected one of http/protobuf, http/json, grpc'],
  [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_EXPORTER_OTLP_HEADERS: `authorization${SECRET}` }, 'OTEL_EXPORTER_OTLP_HEADERS: expected comma-separated key=value pairs'],
  [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_EXPORTER_OTLP_TRACES_HEADERS: `k=%E0%A4%A${SECRET}` }, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS: a key or value is not valid percent-encoding'],
  [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_EXPORTER_OTLP_TIMEOUT: '10s' }, 'OTEL_EXPORTER_OTLP_TIMEOUT: expected an integer between 1 and 600000'],
  [{ OTEL_TRACES_EXPORTER: 'zipkin' }, 'OTEL_TRACES_EXPORTER: "zipkin" is not supported; expected otlp, console, none'],
  [{ OTEL_METRICS_EXPORTER: 'none,otlp' }, 'OTEL_METRICS_EXPORTER: none cannot be combined with other exporters'],
  [{ OTEL_TRACES_SAMPLER: 'sometimes' }, 'OTEL_TRACES_SAMPLER: expected one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio'],
  [{ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' }, 'OTEL_TRACES_SAMPLER_ARG: expected a ratio between 0 and 1'],
  [{ OTEL_BSP_MAX_QUEUE_SIZE: '100', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '200' }, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE: expected an integer between 1 and 100'],
  [{ OTEL_PROPAGATORS: 'b3' }, 'OTEL_PROPAGATORS: "b3" is not supported; expected tracecontext, baggage or none'],
  [{ OTEL_RESOURCE_ATTRIBUTES: `${SECRET}` }, 'OTEL_RESOURCE_ATTRIBUTES: expected comma-separated key=value pairs'],
])('%j → %s', (env, message) => {
  let err: unknown;
  try {
    readOtelSettings(env);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(TelemetryConfigError);
  expect((err as TelemetryConfigError).code).toBe('telemetry_config_invalid');
  expect((err as Error).message).toBe(message);
  expect((err as Error).message).not.toContain(SECRET);
});
