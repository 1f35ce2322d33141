// Child spans of a check (docs/operations.md, "Traces"): the facts phase, the policy evaluation, store
// calls and JWKS fetches run through these. Outside a traced check they call straight through. Only
// @opentelemetry/api is loaded here: the pipeline imports this module whether or not anything traces.
import { context, createContextKey, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Span, Tracer } from '@opentelemetry/api';

/** Where a phase span finds the tracer of the check it belongs to (several apps may share a process). */
export const TRACER_KEY = createContextKey('callback-proxy.tracer');

/**
 * Runs `fn` inside a child span of the active check, when there is one (tracing on and inside
 * `CheckTracing.within`); otherwise just runs it, building nothing (`attributes` is a thunk). `fn`'s own
 * failures propagate unchanged; a span that ends with an exception is marked as an error with the
 * exception's class name only (never its message, which may quote request text).
 */
export function phase<T>(name: string, attributes: (() => Attributes) | undefined, fn: () => Promise<T>): Promise<T> {
  const active = context.active();
  const tracer = active.getValue(TRACER_KEY) as Tracer | undefined;
  if (tracer === undefined) return fn();
  let span: Span;
  try {
    span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes: attributes?.() }, active);
  } catch {
    return fn();
  }
  return context.with(trace.setSpan(active, span), fn).then(
    (v) => {
      span.end();
      return v;
    },
    (e: unknown) => {
      span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.name : 'error' });
      span.end();
      throw e;
    },
  );
}

/** Like `phase` for synchronous work (policy evaluation), with the outcome set by `fn`'s result. */
export function phaseSync<T>(name: string, attributes: (() => Attributes) | undefined, fn: () => T, outcome: (v: T) => string | null): T {
  const active = context.active();
  const tracer = active.getValue(TRACER_KEY) as Tracer | undefined;
  if (tracer === undefined) return fn();
  const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes: attributes?.() }, active);
  try {
    const v = fn();
    const failed = outcome(v);
    if (failed !== null) {
      span.setAttribute('error.type', failed);
      span.setStatus({ code: SpanStatusCode.ERROR, message: failed });
    }
    return v;
  } catch (e) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.name : 'error' });
    throw e;
  } finally {
    span.end();
  }
}
