// Decision log events in OPA's decision-log shape (decision_id, labels, path, input, result, timestamp in
// RFC 3339 ns, metrics.timer_rego_query_eval_ns, erased/masked JSON pointers), written as JSON lines.
// Masking covers every copy of the query and body (docs/threat-model.md T-L5) through telemetry/redact.ts:
// parsed_query, attributes path/query/fragment, the :path header (path parameters too) and the body
// fields; non-allow-listed headers and token claims are erased, our own response headers masked.
import * as fs from 'node:fs';
import type { Decision, PipelineResult } from '../model/decision';
import { REDACTED, renderHeaders, renderParams, renderQuery, renderTarget } from './redact';
import { activeTraceIds } from './trace-ids';
import { applyMaskRules } from './decision-log-mask';
import type { MaskRule } from './decision-log-mask';

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
  /** OPA's bundle revisions: here the policy the decision was made with (`callback-proxy explain` shows it). */
  bundles?: Record<string, { revision: string }>;
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
    copy.parsed_query = renderParams(copy.parsed_query);
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
    // Every copy of the target goes through the one renderer: path parameters, query and fragment.
    for (const k of ['path', 'query', 'fragment']) {
      const v = http[k];
      if (typeof v !== 'string' || v.length === 0) continue;
      const r = k === 'path' ? renderTarget(v) : renderQuery(v);
      if (r !== v) {
        http[k] = r;
        masked.push(ptr([...base, k]));
      }
    }
    if (isObj(http.headers)) {
      const h = http.headers;
      const kept = renderHeaders(h, { authority: true });
      for (const name of Object.keys(h)) {
        if (!(name in kept)) {
          delete h[name];
          erased.push(ptr([...base, 'headers', name]));
        } else if (kept[name] !== h[name]) {
          h[name] = kept[name];
          masked.push(ptr([...base, 'headers', name]));
        }
      }
    }
  }
  return { input: copy, erased, masked };
}

/** Response headers whose values a decision-log event shows (short tokens of ours, no request value). */
const SHOWN_RESPONSE_HEADERS: ReadonlySet<string> = new Set(['x-callback-hint', 'cache-control', 'content-type']);

/**
 * The decision as logged: response headers are masked unless listed above (the login start's
 * Set-Cookie carries the cookie hint's MAC); everything else is the policy's own output.
 */
export function maskDecision(d: Decision): { decision: Decision; masked: string[] } {
  const masked: string[] = [];
  const rh = d.response_headers;
  const names = Object.keys(rh).filter((k) => !SHOWN_RESPONSE_HEADERS.has(k.toLowerCase()));
  if (names.length === 0) return { decision: d, masked };
  const out: Record<string, string> = {};
  for (const k of Object.keys(rh)) {
    if (names.includes(k)) {
      out[k] = REDACTED;
      masked.push(ptr(['result', 'response_headers', k]));
    } else out[k] = rh[k];
  }
  return { decision: { ...d, response_headers: out }, masked };
}

/** RFC 3339 with nanoseconds from an epoch-ns bigint (OPA writes ns precision). */
export function rfc3339Nanos(epochNs: bigint): string {
  const ms = Number(epochNs / 1_000_000n);
  const ns = String(epochNs % 1_000_000_000n).padStart(9, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${ns}Z`;
}

/** What `--mode opa-envoy` logs for one check (check/opa-envoy/core.ts). */
export interface OpaEnvoyLogEntry {
  decisionId: string;
  path: string;
  /** The plugin's input document; absent when the request could not be read. */
  input?: Record<string, unknown>;
  /** The policy's own answer (boolean or object); absent on a failure. */
  result?: unknown;
  /** The failure's reason code, on a failure. */
  error?: string;
  /** Engine text for operators on a policy failure (never request text). */
  problem?: string;
  dryRun: boolean;
  evalNs: number;
  handlerNs: number;
  /** The engine's kind and revision, and the bundles it runs (`{name: {revision}}`) when from bundles. */
  engine: { kind: string; revision: string; bundles?: Readonly<Record<string, { readonly revision: string }>> } | null;
}

/** Result fields of an OPA-Envoy decision whose header values are masked (they may carry credentials). */
const OPA_ENVOY_HEADER_FIELDS = ['headers', 'response_headers_to_add'];

/** Masks the header values of an OPA-Envoy object decision (object or array-of-objects form). */
export function maskOpaEnvoyResult(result: unknown): { result: unknown; masked: string[] } {
  const masked: string[] = [];
  if (!isObj(result)) return { result, masked };
  const copy = JSON.parse(JSON.stringify(result)) as Record<string, unknown>;
  for (const field of OPA_ENVOY_HEADER_FIELDS) {
    const v = copy[field];
    const maps = Array.isArray(v) ? v.map((m, i) => [m, [field, String(i)]] as const) : [[v, [field]] as const];
    for (const [m, at] of maps) {
      if (!isObj(m)) continue;
      for (const k of Object.keys(m)) {
        m[k] = Array.isArray(m[k]) ? (m[k] as unknown[]).map(() => REDACTED) : REDACTED;
        masked.push(ptr(['result', ...at, k]));
      }
    }
  }
  return { result: copy, masked };
}

export interface DecisionLogOptions {
  sink: DecisionLogSink;
  labels: Record<string, string>;
  path: string;
  /**
   * OPA's mask decision (`decision_logs.mask_decision`): the rules for one event (it is the input, as in
   * OPA), or null for none. Applied after our own masking, to a copy of the event.
   */
  mask?: (event: Record<string, unknown>) => readonly MaskRule[] | null;
}

/** An engine's answer as the shadow comparison reports it (policy/engine.ts EngineResult). */
export type ShadowSide = { ok: true; value: unknown } | { ok: false; code: string; detail: string };

/** A decision the shadow policy answered differently (policy/shadow-engine.ts). */
export interface ShadowDifference {
  decisionId: string | undefined;
  input: unknown;
  enforcing: ShadowSide;
  shadow: ShadowSide;
  enforcingRevision: string;
  shadowRevision: string;
  bundles?: Readonly<Record<string, { readonly revision: string }>>;
}

/** A policy's raw answer as logged: our masking of response headers applies to it too. */
function maskRaw(side: ShadowSide, at: string, masked: string[]): unknown {
  if (!side.ok) return { error: side.code };
  const v = side.value;
  if (!isObj(v) || !isObj(v.response_headers)) return v;
  const rh = v.response_headers;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(rh)) {
    if (SHOWN_RESPONSE_HEADERS.has(k.toLowerCase())) out[k] = rh[k];
    else {
      out[k] = REDACTED;
      masked.push(ptr([at, 'response_headers', k]));
    }
  }
  return { ...v, response_headers: out };
}

export class DecisionLogger {
  constructor(private readonly opts: DecisionLogOptions) {}

  /** Never throws: a broken sink must not turn into an allow or a failed check. */
  log(result: PipelineResult, attributes: unknown, handlerNs: number): void {
    try {
      const event = result.event;
      const m = maskInput(event?.input ?? { attributes });
      const d = maskDecision(result.decision);
      const requestId = event?.requestId;
      const ev: DecisionLogRecord = {
        decision_id: result.decisionId,
        labels: this.opts.labels,
        path: this.opts.path,
        input: m.input,
        result: d.decision,
        timestamp: rfc3339Nanos(BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n)),
        metrics: { timer_rego_query_eval_ns: Math.round(result.timings.policy), timer_server_handler_ns: Math.round(handlerNs) },
        erased: m.erased,
        masked: [...m.masked, ...d.masked],
      };
      if (requestId) ev.req_id = requestId;
      if (event) ev.bundles = event.bundles ?? { [event.engine]: { revision: event.revision } };
      const ids = activeTraceIds();
      if (ids.trace_id !== undefined) {
        ev.trace_id = ids.trace_id;
        ev.span_id = ids.span_id;
      }
      this.write(ev);
    } catch {
      // telemetry never throws
    }
  }

  /**
   * One `--mode opa-envoy` event, as OPA's decision logger writes it for the plugin: decision_id, path,
   * input (masked like the callback mode's), the policy's result (header values masked), an `error` on a
   * failure, bundles and timers. Never throws.
   */
  logOpaEnvoy(e: OpaEnvoyLogEntry): void {
    try {
      const m = e.input !== undefined ? maskInput(e.input) : { input: undefined, erased: [], masked: [] };
      const r = e.result !== undefined ? maskOpaEnvoyResult(e.result) : { result: undefined, masked: [] };
      const ev: Record<string, unknown> = {
        decision_id: e.decisionId,
        labels: this.opts.labels,
        path: e.path,
      };
      if (m.input !== undefined) ev.input = m.input;
      if (r.result !== undefined) ev.result = r.result;
      if (e.error !== undefined) ev.error = { code: e.error, message: e.problem ?? e.error };
      if (e.engine) ev.bundles = e.engine.bundles ?? { [e.engine.kind]: { revision: e.engine.revision } };
      ev.timestamp = rfc3339Nanos(BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n));
      ev.metrics = { timer_rego_query_eval_ns: Math.round(e.evalNs), timer_server_handler_ns: Math.round(e.handlerNs) };
      if (e.dryRun) ev.dry_run = true;
      const ids = activeTraceIds();
      if (ids.trace_id !== undefined) {
        ev.trace_id = ids.trace_id;
        ev.span_id = ids.span_id;
      }
      ev.erased = m.erased;
      ev.masked = [...m.masked, ...r.masked];
      this.write(ev);
    } catch {
      // telemetry never throws
    }
  }

  /**
   * A shadow difference as an OPA-shaped event of its own: the enforcing answer as `result` and the
   * shadow's beside it, both revisions, the input masked like every event's. Never throws.
   */
  logShadow(d: ShadowDifference): void {
    try {
      const m = maskInput(d.input);
      const masked = [...m.masked];
      const ev: Record<string, unknown> = {
        decision_id: d.decisionId ?? '',
        labels: this.opts.labels,
        path: this.opts.path,
        input: m.input,
        result: maskRaw(d.enforcing, 'result', masked),
        shadow: { result: maskRaw(d.shadow, 'shadow', masked), revision: d.shadowRevision, enforcing_revision: d.enforcingRevision },
        timestamp: rfc3339Nanos(BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n)),
        erased: m.erased,
        masked,
      };
      if (d.bundles) ev.bundles = d.bundles;
      this.write(ev);
    } catch {
      // telemetry never throws
    }
  }

  /** Applies the mask decision (to a copy: the event shares objects with the decision being answered) and writes. */
  private write(ev: DecisionLogRecord | Record<string, unknown>): void {
    let out = ev as Record<string, unknown>;
    if (this.opts.mask) {
      const rules = this.opts.mask(JSON.parse(JSON.stringify(ev)) as Record<string, unknown>);
      if (rules && rules.length > 0) {
        out = JSON.parse(JSON.stringify(ev)) as Record<string, unknown>;
        applyMaskRules(out, rules);
      }
    }
    this.opts.sink.write(`${JSON.stringify(out)}\n`);
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
