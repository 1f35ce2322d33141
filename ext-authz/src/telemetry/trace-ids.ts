// The active span's ids for log lines (the pino mixin in logger.ts) and decision-log events: W3C trace
// and span ids as lower-case hex, or nothing outside a span. Only @opentelemetry/api is loaded here, so
// commands that log but never trace stay light.
import { context, trace } from '@opentelemetry/api';

export interface TraceIds {
  trace_id?: string;
  span_id?: string;
}

const NONE: TraceIds = Object.freeze({});

export function activeTraceIds(): TraceIds {
  const span = trace.getSpan(context.active());
  if (span === undefined) return NONE;
  const sc = span.spanContext();
  return trace.isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : NONE;
}
