// A local OTLP/HTTP receiver for tests (127.0.0.1, port 0): accepts POST /v1/traces and /v1/metrics in
// both encodings the exporters send — binary protobuf (application/x-protobuf) and JSON (application/json)
// — and decodes them into one plain shape. The protobuf schema below is the subset of the OTLP messages
// the assertions read, with field numbers from the OpenTelemetry protocol definition
// (opentelemetry-proto: collector/trace/v1, collector/metrics/v1, trace/v1, metrics/v1, common/v1,
// resource/v1); unknown fields are skipped by the decoder.
import * as http from 'node:http';
import { gunzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import * as protobuf from 'protobufjs';

const f = (id: number, type: string, rule?: 'repeated'): protobuf.IField => (rule ? { id, type, rule } : { id, type });

const OTLP = protobuf.Root.fromJSON({
  nested: {
    otlp: {
      nested: {
        KeyValue: { fields: { key: f(1, 'string'), value: f(2, 'AnyValue') } },
        AnyValue: {
          oneofs: { value: { oneof: ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'] } },
          fields: {
            stringValue: f(1, 'string'),
            boolValue: f(2, 'bool'),
            intValue: f(3, 'int64'),
            doubleValue: f(4, 'double'),
            arrayValue: f(5, 'ArrayValue'),
            kvlistValue: f(6, 'KeyValueList'),
            bytesValue: f(7, 'bytes'),
          },
        },
        ArrayValue: { fields: { values: f(1, 'AnyValue', 'repeated') } },
        KeyValueList: { fields: { values: f(1, 'KeyValue', 'repeated') } },
        Resource: { fields: { attributes: f(1, 'KeyValue', 'repeated') } },
        Scope: { fields: { name: f(1, 'string'), version: f(2, 'string') } },
        Status: { fields: { message: f(2, 'string'), code: f(3, 'int32') } },
        Span: {
          fields: {
            traceId: f(1, 'bytes'),
            spanId: f(2, 'bytes'),
            traceState: f(3, 'string'),
            parentSpanId: f(4, 'bytes'),
            name: f(5, 'string'),
            kind: f(6, 'int32'),
            startTimeUnixNano: f(7, 'fixed64'),
            endTimeUnixNano: f(8, 'fixed64'),
            attributes: f(9, 'KeyValue', 'repeated'),
            status: f(15, 'Status'),
          },
        },
        ScopeSpans: { fields: { scope: f(1, 'Scope'), spans: f(2, 'Span', 'repeated') } },
        ResourceSpans: { fields: { resource: f(1, 'Resource'), scopeSpans: f(2, 'ScopeSpans', 'repeated') } },
        ExportTraceServiceRequest: { fields: { resourceSpans: f(1, 'ResourceSpans', 'repeated') } },
        NumberDataPoint: { fields: { attributes: f(7, 'KeyValue', 'repeated'), asDouble: f(4, 'double'), asInt: f(6, 'sfixed64') } },
        HistogramDataPoint: { fields: { attributes: f(9, 'KeyValue', 'repeated'), count: f(4, 'fixed64'), sum: f(5, 'double') } },
        Gauge: { fields: { dataPoints: f(1, 'NumberDataPoint', 'repeated') } },
        Sum: { fields: { dataPoints: f(1, 'NumberDataPoint', 'repeated'), aggregationTemporality: f(2, 'int32'), isMonotonic: f(3, 'bool') } },
        Histogram: { fields: { dataPoints: f(1, 'HistogramDataPoint', 'repeated'), aggregationTemporality: f(2, 'int32') } },
        Metric: { fields: { name: f(1, 'string'), description: f(2, 'string'), unit: f(3, 'string'), gauge: f(5, 'Gauge'), sum: f(7, 'Sum'), histogram: f(9, 'Histogram') } },
        ScopeMetrics: { fields: { scope: f(1, 'Scope'), metrics: f(2, 'Metric', 'repeated') } },
        ResourceMetrics: { fields: { resource: f(1, 'Resource'), scopeMetrics: f(2, 'ScopeMetrics', 'repeated') } },
        ExportMetricsServiceRequest: { fields: { resourceMetrics: f(1, 'ResourceMetrics', 'repeated') } },
      },
    },
  },
});
const TraceRequest = OTLP.lookupType('otlp.ExportTraceServiceRequest');
const MetricsRequest = OTLP.lookupType('otlp.ExportMetricsServiceRequest');

export type AttrValue = string | number | boolean | AttrValue[] | null;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  attributes: Record<string, AttrValue>;
  status: { code: number; message: string };
  resource: Record<string, AttrValue>;
}

export interface ReceivedMetricPoint {
  name: string;
  unit: string;
  attributes: Record<string, AttrValue>;
  value: number;
}

export interface OtlpRequest {
  path: string;
  contentType: string;
  /** The body as received after gzip, for canary searches (protobuf strings are plain UTF-8 bytes). */
  raw: Buffer;
}

function hex(v: unknown): string {
  if (typeof v === 'string') return v.toLowerCase(); // OTLP/JSON: ids are hex strings
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  return '';
}

function anyValue(v: any): AttrValue {
  if (v === null || v === undefined) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(anyValue);
  return null;
}

function attrs(list: any[] | undefined): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of list ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

function decode(path: string, contentType: string, body: Buffer): any {
  if (contentType.startsWith('application/json')) return JSON.parse(body.toString('utf8'));
  const type = path.endsWith('/v1/traces') ? TraceRequest : MetricsRequest;
  return type.toObject(type.decode(body), { longs: String, defaults: false });
}

export class OtlpReceiver {
  readonly requests: OtlpRequest[] = [];
  readonly spans: ReceivedSpan[] = [];
  readonly points: ReceivedMetricPoint[] = [];
  private server: http.Server | null = null;
  private grpcServer: grpc.Server | null = null;
  port = 0;

  /** OTLP/gRPC instead (TraceService/Export and MetricsService/Export, unary, plaintext). */
  async startGrpc(): Promise<this> {
    const server = new grpc.Server();
    const raw = (b: Buffer): Buffer => b;
    const method = (path: string) => ({
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: raw,
      requestDeserialize: raw,
      responseSerialize: () => Buffer.alloc(0), // an empty Export*ServiceResponse
      responseDeserialize: raw,
    });
    const handler = (path: string) => (call: grpc.ServerUnaryCall<Buffer, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      this.requests.push({ path, contentType: 'application/grpc', raw: call.request });
      this.ingest(path, decode(path, 'application/x-protobuf', call.request));
      cb(null, {});
    };
    server.addService({ Export: method('/opentelemetry.proto.collector.trace.v1.TraceService/Export') } as never, { Export: handler('/v1/traces') });
    server.addService({ Export: method('/opentelemetry.proto.collector.metrics.v1.MetricsService/Export') } as never, { Export: handler('/v1/metrics') });
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, port) => (e ? reject(e) : resolve(port))),
    );
    this.grpcServer = server;
    return this;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        const contentType = String(req.headers['content-type'] ?? '');
        let body = Buffer.concat(chunks);
        try {
          if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
          this.requests.push({ path, contentType, raw: body });
          this.ingest(path, decode(path, contentType, body));
          res.writeHead(200, { 'content-type': contentType.startsWith('application/json') ? 'application/json' : 'application/x-protobuf' });
          res.end(contentType.startsWith('application/json') ? '{}' : Buffer.alloc(0));
        } catch (e) {
          res.writeHead(400).end(String(e));
        }
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private ingest(path: string, msg: any): void {
    if (path.endsWith('/v1/traces')) {
      for (const rs of msg.resourceSpans ?? []) {
        const resource = attrs(rs.resource?.attributes);
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            this.spans.push({
              traceId: hex(s.traceId),
              spanId: hex(s.spanId),
              parentSpanId: hex(s.parentSpanId),
              traceState: s.traceState ?? '',
              name: s.name,
              kind: Number(s.kind ?? 0),
              attributes: attrs(s.attributes),
              status: { code: Number(s.status?.code ?? 0), message: s.status?.message ?? '' },
              resource,
            });
          }
        }
      }
    } else if (path.endsWith('/v1/metrics')) {
      for (const rm of msg.resourceMetrics ?? []) {
        for (const sm of rm.scopeMetrics ?? []) {
          for (const m of sm.metrics ?? []) {
            const pts = m.sum?.dataPoints ?? m.gauge?.dataPoints ?? [];
            for (const p of pts) this.points.push({ name: m.name, unit: m.unit ?? '', attributes: attrs(p.attributes), value: Number(p.asDouble ?? p.asInt ?? 0) });
            for (const p of m.histogram?.dataPoints ?? []) this.points.push({ name: m.name, unit: m.unit ?? '', attributes: attrs(p.attributes), value: Number(p.count ?? 0) });
          }
        }
      }
    }
  }

  /** Waits (bounded) until `pred` holds over what was received. */
  async waitFor(pred: () => boolean, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`OTLP receiver: condition not met within ${timeoutMs} ms (${this.spans.length} spans, ${this.points.length} points)`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async stop(): Promise<void> {
    this.grpcServer?.forceShutdown();
    this.grpcServer = null;
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
    this.server = null;
  }
}
