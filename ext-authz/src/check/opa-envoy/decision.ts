// opa-envoy-plugin's decision contract (its envoyauth EvalResult getters and the Check handler): the
// policy result is a boolean, or an object with a boolean `allowed` and optional `headers`,
// `response_headers_to_add`, `request_headers_to_remove`, `query_parameters_to_set`,
// `query_parameters_to_remove`, `body`, `http_status` and `dynamic_metadata`, each with its exact
// type rules. An object's headers and dynamic metadata are checked on every decision, the allow-only
// fields only when it allows, body and status only when it denies; a field of the wrong type makes the
// whole check an error (the plugin answers with a gRPC error, never a guess). dry-run turns a denial
// into an empty allow after all checks passed. The result is transport-neutral: the gRPC and HTTP
// adapters encode it.
import { CodedError } from '../../model/errors';

export interface HeaderPair {
  key: string;
  value: string;
}

/** What an allowed request carries upstream (OkHttpResponse). */
export interface OpaEnvoyOk {
  /** Request headers to set; the plugin sends them without `append`, which Envoy treats as overwrite. */
  headers: HeaderPair[];
  headersToRemove: string[];
  /** Headers added to the response sent back downstream. */
  responseHeadersToAdd: HeaderPair[];
  queryParametersToSet: HeaderPair[];
  queryParametersToRemove: string[];
}

/** What a denied request is answered with (DeniedHttpResponse). */
export interface OpaEnvoyDenied {
  status: number;
  headers: HeaderPair[];
  body: string;
}

export interface OpaEnvoyResult {
  /** What Envoy is told (after dry-run). */
  allowed: boolean;
  /** What the policy decided (for decision logs and metrics). */
  policyAllowed: boolean;
  /** True when dry-run turned a denial into an allow. */
  dryRunOverride: boolean;
  /**
   * The HTTP part: `ok` for an allowing object decision (or a dry-run override, then empty), `denied`
   * for a denying object decision, neither for a boolean decision (Envoy then uses its defaults).
   */
  ok: OpaEnvoyOk | null;
  denied: OpaEnvoyDenied | null;
  /** The decision's dynamic_metadata plus `decision_id`, as the plugin always adds it. */
  dynamicMetadata: Record<string, unknown>;
}

export type OpaEnvoyDecisionErrorCode = 'decision_undefined' | 'decision_invalid';

export type OpaEnvoyOutcome =
  | { ok: true; result: OpaEnvoyResult }
  /** `detail` is for operators (logs), never for the client. */
  | { ok: false; code: OpaEnvoyDecisionErrorCode; detail: string };

export interface InterpretOptions {
  decisionId: string;
  dryRun?: boolean;
}

/** Statuses a decision may set: those Envoy's envoy.type.v3.StatusCode enum names (every one Go also knows). */
export const ENVOY_HTTP_STATUSES: ReadonlySet<number> = new Set([
  100, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308, 400, 401, 402, 403, 404,
  405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 423, 424, 426, 428, 429, 431, 500, 501, 502,
  503, 504, 505, 506, 507, 508, 510, 511,
]);

class DecisionError extends CodedError<'decision_invalid'> {
  constructor(message: string) {
    super('decision_invalid', message);
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function has(o: Record<string, unknown>, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k) && o[k] !== undefined;
}

/** A list of strings (`request_headers_to_remove`, `query_parameters_to_remove`). */
function stringList(d: Record<string, unknown>, field: string): string[] {
  if (!has(d, field)) return [];
  const v = d[field];
  if (!Array.isArray(v)) throw new DecisionError(`${field} must be an array of strings, got ${typeName(v)}`);
  return v.map((x) => {
    if (typeof x !== 'string') throw new DecisionError(`${field} values must be strings, got ${typeName(x)}`);
    return x;
  });
}

/** Headers: an object of string or string-array values, or an array of such objects. */
function headerList(d: Record<string, unknown>, field: string): HeaderPair[] {
  if (!has(d, field)) return [];
  const v = d[field];
  const maps = Array.isArray(v) ? v : [v];
  const out: HeaderPair[] = [];
  for (const m of maps) {
    if (!isObject(m)) throw new DecisionError(`${field} must be an object (or an array of objects), got ${typeName(m)}`);
    for (const [key, value] of Object.entries(m)) {
      if (typeof value === 'string') out.push({ key, value });
      else if (Array.isArray(value)) {
        for (const x of value) {
          if (typeof x !== 'string') throw new DecisionError(`${field}: header ${JSON.stringify(key)} values must be strings, got ${typeName(x)}`);
          out.push({ key, value: x });
        }
      } else throw new DecisionError(`${field}: header ${JSON.stringify(key)} must be a string or an array of strings, got ${typeName(value)}`);
    }
  }
  return out;
}

function queryToSet(d: Record<string, unknown>): HeaderPair[] {
  const field = 'query_parameters_to_set';
  if (!has(d, field)) return [];
  const v = d[field];
  if (!isObject(v)) throw new DecisionError(`${field} must be an object, got ${typeName(v)}`);
  const out: HeaderPair[] = [];
  for (const [key, value] of Object.entries(v)) {
    if (typeof value === 'string') out.push({ key, value });
    else if (Array.isArray(value)) {
      for (const x of value) {
        if (typeof x !== 'string') throw new DecisionError(`${field}: ${JSON.stringify(key)} values must be strings, got ${typeName(x)}`);
        out.push({ key, value: x });
      }
    } else throw new DecisionError(`${field}: ${JSON.stringify(key)} must be a string or an array of strings, got ${typeName(value)}`);
  }
  return out;
}

function httpStatus(d: Record<string, unknown>): number {
  if (!has(d, 'http_status')) return 403;
  const v = d.http_status;
  if (typeof v !== 'number') throw new DecisionError(`http_status must be a number, got ${typeName(v)}`);
  if (!Number.isInteger(v)) throw new DecisionError('http_status must be an integer');
  if (!ENVOY_HTTP_STATUSES.has(v)) throw new DecisionError(`invalid HTTP status code ${v}`);
  return v;
}

function body(d: Record<string, unknown>): string {
  if (!has(d, 'body')) return '';
  if (typeof d.body !== 'string') throw new DecisionError(`body must be a string, got ${typeName(d.body)}`);
  return d.body;
}

/** JSON-representable values only (google.protobuf.Struct); anything else is an error. */
function checkStructValue(v: unknown, path: string): void {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new DecisionError(`dynamic_metadata${path} is not a finite number`);
    return;
  }
  if (Array.isArray(v)) return v.forEach((x, i) => checkStructValue(x, `${path}[${i}]`));
  if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) checkStructValue(x, `${path}.${k}`);
    return;
  }
  throw new DecisionError(`dynamic_metadata${path} is not a JSON value`);
}

function dynamicMetadata(d: Record<string, unknown>): Record<string, unknown> {
  if (!has(d, 'dynamic_metadata')) return {};
  const v = d.dynamic_metadata;
  if (!isObject(v)) throw new DecisionError(`dynamic_metadata must be an object, got ${typeName(v)}`);
  checkStructValue(v, '');
  return { ...v };
}

/** Interprets a policy result by the plugin's rules. Never throws. */
export function interpretOpaEnvoyDecision(value: unknown, opts: InterpretOptions): OpaEnvoyOutcome {
  if (value === undefined) return { ok: false, code: 'decision_undefined', detail: 'undefined decision' };
  try {
    let allowed: boolean;
    let ok: OpaEnvoyOk | null = null;
    let denied: OpaEnvoyDenied | null = null;
    let meta: Record<string, unknown> = {};
    if (typeof value === 'boolean') {
      allowed = value;
    } else if (isObject(value)) {
      if (!has(value, 'allowed')) throw new DecisionError('unable to determine evaluation result due to missing "allowed" key');
      if (typeof value.allowed !== 'boolean') throw new DecisionError(`allowed must be a boolean, got ${typeName(value.allowed)}`);
      allowed = value.allowed;
      const headers = headerList(value, 'headers');
      meta = dynamicMetadata(value);
      if (allowed) {
        ok = {
          headers,
          headersToRemove: stringList(value, 'request_headers_to_remove'),
          responseHeadersToAdd: headerList(value, 'response_headers_to_add'),
          queryParametersToRemove: stringList(value, 'query_parameters_to_remove'),
          queryParametersToSet: queryToSet(value),
        };
      } else {
        denied = { body: body(value), status: httpStatus(value), headers };
      }
    } else {
      throw new DecisionError(`illegal value for policy evaluation result: ${typeName(value)}`);
    }
    const dryRunOverride = !allowed && opts.dryRun === true;
    if (dryRunOverride) {
      ok = { headers: [], headersToRemove: [], responseHeadersToAdd: [], queryParametersToSet: [], queryParametersToRemove: [] };
      denied = null;
    }
    return {
      ok: true,
      result: { allowed: allowed || dryRunOverride, policyAllowed: allowed, dryRunOverride, ok, denied, dynamicMetadata: { ...meta, decision_id: opts.decisionId } },
    };
  } catch (e) {
    return { ok: false, code: 'decision_invalid', detail: (e as Error).message };
  }
}
