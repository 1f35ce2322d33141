// Decision log events in OPA's decision-log shape (decision_id, labels, path, input, result, timestamp in
// RFC 3339 ns, metrics.timer_rego_query_eval_ns, erased/masked JSON pointers), written as JSON lines.
// Masking covers every copy of the query and body (THREATS T-L5): parsed_query, attributes path/query,
// the :path header and the body fields; non-allow-listed headers and token claims are erased.
import * as fs from 'node:fs';
import type { PipelineResult } from '../model/decision';
import { LOGGABLE_HEADERS, REDACTED, redactPathQuery } from './redact';
import { activeTraceIds } from './trace-ids';

export interface DecisionLogSink {
  write(line: string): void;
  close(): Promise<void>;
}

/** One line of the decision log, in OPA's decision-log event shape. */
export interface DecisionLogRecord {
  decision_id: string;
  labels: Record<string, string>;
  path: string;
  input: unknown;
  result: unknown;
  timestamp: string;
  metrics: { timer_rego_query_eval_ns: number; timer_server_handler_ns: number };
  req_id?: string;
  /** The check's span, when tracing (OPA's decision log carries the same two fields). */
  trace_id?: string;
  span_id?: string;
  erased: string[];
  masked: string[];
}

/** RFC 6901 token escaping. */
function ptr(parts: string[]): string {
  return `/${parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;
}

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Masks a deep copy of the policy input; returns the copy and the pointers it erased / masked. */
export function maskInput(input: unknown): { input: unknown; erased: string[]; masked: string[] } {
  const erased: string[] = [];
  const masked: string[] = [];
  if (!isObj(input)) return { input, erased, masked };
  const copy = JSON.parse(JSON.stringify(input)) as Record<string, unknown>;
  if (isObj(copy.parsed_query)) {
    const pq = copy.parsed_query;
    for (const k of Object.keys(pq)) pq[k] = Array.isArray(pq[k]) ? (pq[k] as unknown[]).map(() => REDACTED) : REDACTED;
    masked.push('/input/parsed_query');
  }
  for (const k of ['parsed_body']) {
    if (k in copy) {
      delete copy[k];
      erased.push(ptr(['input', k]));
    }
  }
  if (isObj(copy.token) && 'claims' in copy.token) {
    delete copy.token.claims;
    erased.push('/input/token/claims');
  }
  const http = isObj(copy.attributes) && isObj(copy.attributes.request) && isObj(copy.attributes.request.http) ? copy.attributes.request.http : null;
  if (http) {
    const base = ['input', 'attributes', 'request', 'http'];
    for (const k of ['body', 'rawBody', 'headerMap']) {
      if (k in http) {
        delete http[k];
        erased.push(ptr([...base, k]));
      }
    }
    if (typeof http.path === 'string' && http.path.includes('?')) {
      http.path = redactPathQuery(http.path);
      masked.push(ptr([...base, 'path']));
    }
    if (typeof http.query === 'string' && http.query.length > 0) {
      http.query = REDACTED;
      masked.push(ptr([...base, 'query']));
    }
    if (isObj(http.headers)) {
      const h = http.headers;
      for (const name of Object.keys(h)) {
        if (name === ':path') {
          h[name] = redactPathQuery(String(h[name]));
          masked.push(ptr([...base, 'headers', name]));
        } else if (!LOGGABLE_HEADERS.has(name) && name !== ':authority' && name !== 'host') {
          delete h[name];
          erased.push(ptr([...base, 'headers', name]));
        }
      }
    }
  }
  return { input: copy, erased, masked };
}

/** RFC 3339 with nanoseconds from an epoch-ns bigint (OPA writes ns precision). */
export function rfc3339Nanos(epochNs: bigint): string {
  const ms = Number(epochNs / 1_000_000n);
  const ns = String(epochNs % 1_000_000_000n).padStart(9, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${ns}Z`;
}

export interface DecisionLogOptions {
  sink: DecisionLogSink;
  labels: Record<string, string>;
  path: string;
}

export class DecisionLogger {
  constructor(private readonly opts: DecisionLogOptions) {}

  /** Never throws: a broken sink must not turn into an allow or a failed check. */
  log(result: PipelineResult, attributes: unknown, handlerNs: number): void {
    try {
      const event = result.event;
      const m = maskInput(event?.input ?? { attributes });
      const requestId = event?.requestId;
      const ev: DecisionLogRecord = {
        decision_id: result.decisionId,
        labels: this.opts.labels,
        path: this.opts.path,
        input: m.input,
        result: result.decision,
        timestamp: rfc3339Nanos(BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n)),
        metrics: { timer_rego_query_eval_ns: Math.round(result.timings.policy), timer_server_handler_ns: Math.round(handlerNs) },
        erased: m.erased,
        masked: m.masked,
      };
      if (requestId) ev.req_id = requestId;
      const ids = activeTraceIds();
      if (ids.trace_id !== undefined) {
        ev.trace_id = ids.trace_id;
        ev.span_id = ids.span_id;
      }
      this.opts.sink.write(`${JSON.stringify(ev)}\n`);
    } catch {
      // telemetry never throws
    }
  }

  close(): Promise<void> {
    return this.opts.sink.close();
  }
}

/** Opens the file now, so a bad path fails start-up (with the path); later write errors are dropped. */
export function fileSink(file: string): DecisionLogSink {
  let fd: number;
  try {
    fd = fs.openSync(file, 'a');
  } catch (e) {
    throw new Error(`cannot open decision log ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const stream = fs.createWriteStream('', { fd });
  stream.on('error', () => undefined);
  return {
    write: (line) => void stream.write(line),
    close: () => new Promise<void>((resolve) => stream.end(() => resolve())),
  };
}

export function stdoutSink(): DecisionLogSink {
  return { write: (line) => void process.stdout.write(line), close: async () => undefined };
}

/** Keeps lines in memory (tests). */
export function memorySink(): DecisionLogSink & { lines: string[] } {
  const lines: string[] = [];
  return { lines, write: (l) => void lines.push(l), close: async () => undefined };
}
