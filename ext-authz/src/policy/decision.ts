// Policy phase, decision validation (docs/architecture.md, "The decision"): the policy's value → a checked Decision.
// Accepts our shape ({action, backend, reasons, ...}) and the OPA-Envoy plugin's (a boolean or
// {allowed, headers, ...}); anything malformed fails closed as `invalid_decision`, a backend outside
// the connection as `backend_not_allowed`. Problems name fields only, never values.
import { denyStatus, isReasonCode } from '../model/reasons';
import type { ReasonCode } from '../model/reasons';
import type { Action, Decision } from '../model/decision';
import { headerProblem, removableHeader } from './headers';

export interface DecisionContext {
  /** Backend ids of the connection: the only targets a decision may name. */
  backends: ReadonlySet<string>;
  /** Header names only we set (the routing header). */
  reserved: ReadonlySet<string>;
  /** Where an OPA-Envoy `allowed: true` goes: the flow's pinned backend, else legacy (the owner). */
  defaultBackend: string | null;
}

export interface ValidatedDecision {
  decision: Decision;
  /** OPA-Envoy `request_headers_to_remove`, checked. */
  requestHeadersToRemove: string[];
  shape: 'callback' | 'opa_envoy' | 'invalid';
  /** Why the decision was rejected (field path and rule; for operators, never sent to clients). */
  problem: string | null;
}

const ACTIONS: ReadonlySet<string> = new Set<Action>(['allow', 'rewrite', 'deny']);

class Invalid extends Error {
  constructor(readonly reason: 'invalid_decision' | 'backend_not_allowed', readonly problem: string) {
    super(problem);
  }
}

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function has(o: Record<string, unknown>, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k) && o[k] !== undefined;
}

/** A deny with these reasons (first one primary) and its table status. */
export function denyDecision(reasons: ReasonCode[], dynamicMetadata: Record<string, unknown> = {}): Decision {
  return {
    action: 'deny',
    backend: null,
    reasons,
    http_status: denyStatus(reasons[0]),
    headers: {},
    response_headers: {},
    pin: null,
    dynamic_metadata: dynamicMetadata,
  };
}

function status(o: Record<string, unknown>, key: string, deflt: number): number {
  if (!has(o, key) || o[key] === null) return deflt;
  const s = o[key];
  if (typeof s !== 'number' || !Number.isInteger(s) || s < 200 || s > 599) throw new Invalid('invalid_decision', `${key}: not an integer in 200..599`);
  return s;
}

function headerMap(o: Record<string, unknown>, key: string, ctx: DecisionContext, joinArrays: boolean): Record<string, string> {
  if (!has(o, key) || o[key] === null) return {};
  const m = o[key];
  if (!isObj(m)) throw new Invalid('invalid_decision', `${key}: not an object`);
  const out: Record<string, string> = {};
  for (const name of Object.keys(m)) {
    let v = m[name];
    // OPA-Envoy allows a list of values per header; joined as one field (RFC 9110 §5.3).
    if (joinArrays && Array.isArray(v) && v.every((x) => typeof x === 'string')) v = v.join(', ');
    const p = headerProblem(name, v, ctx.reserved);
    if (p !== null) throw new Invalid('invalid_decision', `${key}: ${p} header`);
    out[name.toLowerCase()] = v as string;
  }
  return out;
}

function metadata(o: Record<string, unknown>): Record<string, unknown> {
  if (!has(o, 'dynamic_metadata') || o.dynamic_metadata === null) return {};
  if (!isObj(o.dynamic_metadata)) throw new Invalid('invalid_decision', 'dynamic_metadata: not an object');
  return o.dynamic_metadata;
}

function backendOf(v: unknown, ctx: DecisionContext, field: string): string {
  if (typeof v !== 'string' || v.length === 0) throw new Invalid('invalid_decision', `${field}: not a backend id`);
  if (!ctx.backends.has(v)) throw new Invalid('backend_not_allowed', `${field}: not a backend of this connection`);
  return v;
}

function reasonsOf(o: Record<string, unknown>): ReasonCode[] {
  const r = o.reasons;
  if (!Array.isArray(r) || r.length === 0) throw new Invalid('invalid_decision', 'reasons: not a non-empty array');
  for (const c of r) if (!isReasonCode(c)) throw new Invalid('invalid_decision', 'reasons: unknown reason code');
  return r as ReasonCode[];
}

/** Our shape: `data.callback.decision`. */
function fromCallbackShape(o: Record<string, unknown>, ctx: DecisionContext): Decision {
  const action = o.action;
  if (typeof action !== 'string' || !ACTIONS.has(action)) throw new Invalid('invalid_decision', 'action: not allow|rewrite|deny');
  const reasons = reasonsOf(o);
  const headers = headerMap(o, 'headers', ctx, false);
  const responseHeaders = headerMap(o, 'response_headers', ctx, false);
  const dyn = metadata(o);
  if (action === 'deny') {
    if (has(o, 'backend') && o.backend !== null && typeof o.backend !== 'string') throw new Invalid('invalid_decision', 'backend: not a string');
    return {
      action: 'deny', backend: null, reasons, http_status: status(o, 'http_status', denyStatus(reasons[0])),
      headers, response_headers: responseHeaders, pin: null, dynamic_metadata: dyn,
    };
  }
  const backend = backendOf(o.backend, ctx, 'backend');
  let pin: Decision['pin'] = null;
  if (has(o, 'pin') && o.pin !== null) {
    if (!isObj(o.pin)) throw new Invalid('invalid_decision', 'pin: not an object');
    pin = { backend: backendOf(o.pin.backend, ctx, 'pin.backend') };
  }
  const httpStatus = status(o, 'http_status', 200);
  if (httpStatus >= 300) throw new Invalid('invalid_decision', 'http_status: an allow must be 2xx');
  return { action: action as Action, backend, reasons, http_status: httpStatus, headers, response_headers: responseHeaders, pin, dynamic_metadata: dyn };
}

/** OPA-Envoy plugin shape (envoyauth/response.go): a boolean or {allowed, headers, ...}. */
function fromOpaEnvoyShape(raw: unknown, ctx: DecisionContext): { decision: Decision; remove: string[] } {
  const o: Record<string, unknown> = typeof raw === 'boolean' ? { allowed: raw } : (raw as Record<string, unknown>);
  if (typeof o.allowed !== 'boolean') throw new Invalid('invalid_decision', 'allowed: not a boolean');
  const headers = headerMap(o, 'headers', ctx, true);
  const responseHeaders = headerMap(o, 'response_headers_to_add', ctx, true);
  const dyn = metadata(o);
  const remove: string[] = [];
  if (has(o, 'request_headers_to_remove') && o.request_headers_to_remove !== null) {
    const r = o.request_headers_to_remove;
    if (!Array.isArray(r) || !r.every((n) => removableHeader(n, ctx.reserved))) {
      throw new Invalid('invalid_decision', 'request_headers_to_remove: not a list of removable header names');
    }
    for (const n of r as string[]) remove.push(n.toLowerCase());
  }
  // `body` is deliberately dropped: deny bodies are generic (threat model T-L4); so are query rewrites,
  // which could move a callback parameter out of the facts' sight.
  if (!o.allowed) {
    return { decision: { ...denyDecision(['opa_envoy_denied'], dyn), http_status: status(o, 'http_status', 403), headers, response_headers: responseHeaders }, remove };
  }
  if (ctx.defaultBackend === null) throw new Invalid('backend_not_allowed', 'allowed: no backend to route to');
  const backend = backendOf(ctx.defaultBackend, ctx, 'default backend');
  const httpStatus = status(o, 'http_status', 200);
  if (httpStatus >= 300) throw new Invalid('invalid_decision', 'http_status: an allow must be 2xx');
  return {
    decision: {
      action: 'allow', backend, reasons: ['opa_envoy_allowed'], http_status: httpStatus, headers, response_headers: responseHeaders,
      pin: null, dynamic_metadata: dyn,
    },
    remove,
  };
}

/** Validates a policy value. Never throws: anything unexpected is a deny. */
export function validateDecision(raw: unknown, ctx: DecisionContext): ValidatedDecision {
  try {
    if (isObj(raw) && has(raw, 'action')) {
      return { decision: fromCallbackShape(raw, ctx), requestHeadersToRemove: [], shape: 'callback', problem: null };
    }
    if (typeof raw === 'boolean' || (isObj(raw) && has(raw, 'allowed'))) {
      const r = fromOpaEnvoyShape(raw, ctx);
      return { decision: r.decision, requestHeadersToRemove: r.remove, shape: 'opa_envoy', problem: null };
    }
    throw new Invalid('invalid_decision', 'neither {action, ...} nor an OPA-Envoy decision');
  } catch (e) {
    const reason = e instanceof Invalid ? e.reason : 'invalid_decision';
    const problem = e instanceof Invalid ? e.problem : 'unexpected validation failure';
    return { decision: denyDecision([reason]), requestHeadersToRemove: [], shape: 'invalid', problem };
  }
}
