// Callback facts (docs/architecture.md, "The policy input"): classify the request by route + method + body, and apply the
// parameter rules of docs/threat-model.md §3/§4/§7/§8 to the strictly parsed query and body. Raw secrets are only
// returned to the caller for pin lookup / token verification; the facts carry keyed hashes.
import type { ReasonCode } from '../../model/reasons';
import type { CallbackFacts, CallbackKind } from '../../model/facts';
import type { Limits } from '../../model/registry';
import type { PreparedConnection, RouteKind } from './deps';
import { keyedHash } from './keyed-hash';
import { ambiguousNames, duplicateNames, isOpenRedirect, relayStateViolations } from './params';
import type { ParsedParams } from './params';

export interface CallbackInput {
  method: string;
  route: string | null;
  routeKind: RouteKind | null;
  query: ParsedParams;
  /** Form body params (POST application/x-www-form-urlencoded), else null. */
  form: ParsedParams | null;
  authorization: string | undefined;
  conn: PreparedConnection | null;
  limits: Limits;
  hashKey: Buffer;
}


/** Raw values the later phases need; never logged, never put in the policy input. */
export interface CallbackSecrets {
  state: string | null;
  relayState: string | null;
  code: string | null;
  token: string | null;
}

function classify(kind: RouteKind | null, method: string, hasForm: boolean): { kind: CallbackKind; mode: CallbackFacts['response_mode'] } {
  switch (kind) {
    case 'oauth_callback':
      if (method === 'GET') return { kind: 'oauth_query', mode: 'query' };
      // OAuth 2.0 Form Post Response Mode §2: a POST of the authorization response.
      if (method === 'POST' && hasForm) return { kind: 'oidc_form_post', mode: 'form_post' };
      return { kind: 'other', mode: null };
    case 'saml_acs':
      return method === 'POST' && hasForm ? { kind: 'saml_post', mode: 'form_post' } : { kind: 'other', mode: null };
    case 'webhook':
      return { kind: 'webhook', mode: null };
    case 'login_start':
      return { kind: 'login_start', mode: null };
    case 'logout':
      return { kind: 'logout', mode: null };
    case 'agent':
      return { kind: 'agent', mode: null };
    default:
      return { kind: 'other', mode: null };
  }
}

/** The single value of a name, looked up in the query and then the body. */
function single(name: string, q: ParsedParams, f: ParsedParams | null): string | null {
  const v = q.values.get(name) ?? f?.values.get(name);
  return v && v.length === 1 ? v[0] : null;
}

function lengthLimit(name: string, l: Limits): number {
  switch (name) {
    case 'state':
      return l.max_state_bytes;
    case 'code':
      return l.max_code_bytes;
    case 'RelayState':
      return Number.POSITIVE_INFINITY; // its own reason code below (T-R2)
    case 'id_token':
    case 'logout_token':
    case 'access_token':
      return l.max_token_bytes;
    case 'SAMLResponse':
      return l.max_body_bytes;
    default:
      return l.max_code_bytes;
  }
}

/** True when a value's UTF-8 length exceeds `limit`; the UTF-16 length bounds it (1..3 bytes per unit). */
function anyLonger(values: string[] | undefined, limit: number): boolean {
  if (values === undefined) return false;
  for (const x of values) {
    if (x.length * 3 <= limit) continue;
    if (x.length > limit || Buffer.byteLength(x, 'utf8') > limit) return true;
  }
  return false;
}

export function readCallback(input: CallbackInput): { facts: CallbackFacts; secrets: CallbackSecrets } {
  const { query: q, form: f, limits, conn } = input;
  const v: ReasonCode[] = [];
  const add = (r: ReasonCode): void => {
    if (!v.includes(r)) v.push(r);
  };
  const { kind, mode } = classify(input.routeKind, input.method, f !== null);
  if (q.malformed || f?.malformed) add('malformed_request');
  if (q.count + (f?.count ?? 0) > limits.max_params) add('too_many_params');
  // Map keys are unique, so without a form body no de-duplication (and no copying) is needed.
  const duplicates = f ? [...new Set([...duplicateNames(q.values), ...duplicateNames(f.values)])] : duplicateNames(q.values);
  if (duplicates.length > 0) add('duplicate_param');
  const ambiguous = ambiguousNames(q.values, f?.values ?? null);
  if (ambiguous.length > 0) add('ambiguous_param_location');
  const names = f ? [...new Set([...q.values.keys(), ...f.values.keys()])] : [...q.values.keys()];
  for (const name of names) {
    const limit = lengthLimit(name, limits);
    if (anyLonger(q.values.get(name), limit) || anyLonger(f?.values.get(name), limit)) add('param_too_long');
  }
  // Routing-relevant parameters not expected here (T-R4, T-Q5): only strict callback routes.
  const expected = input.routeKind && conn ? conn.expected.get(input.routeKind) : undefined;
  const unexpected = expected ? names.filter((n) => !expected.has(n)) : [];
  if (unexpected.length > 0) add('unexpected_param');
  if (conn) {
    for (const name of conn.returnParams) {
      for (const val of [...(q.values.get(name) ?? []), ...(f?.values.get(name) ?? [])]) {
        if (isOpenRedirect(val, conn.hosts)) add('open_redirect');
      }
    }
  }
  const state = single('state', q, f);
  const relay = single('RelayState', q, f);
  const code = single('code', q, f);
  if (relay !== null) for (const r of relayStateViolations(relay, limits.max_relay_state_bytes)) add(r);
  // The token presented on this route: id_token in an OIDC response, logout_token on back-channel
  // logout, a bearer on agent routes (RFC 6750 §2.1: header only, never a query parameter).
  let token: string | null = null;
  let tokenLocation: CallbackFacts['token_location'] = null;
  if (kind === 'logout') {
    token = single('logout_token', q, f);
    if (token !== null) tokenLocation = 'logout_token';
  } else if (kind === 'oauth_query' || kind === 'oidc_form_post') {
    token = single('id_token', q, f);
    if (token !== null) tokenLocation = 'id_token';
  } else if (kind === 'agent' || kind === 'webhook') {
    const m = input.authorization ? /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(input.authorization) : null;
    if (m) {
      token = m[1];
      tokenLocation = 'authorization';
    }
  }
  const has = (n: string): boolean => q.values.has(n) || (f?.values.has(n) ?? false);
  const facts: CallbackFacts = {
    kind,
    route: input.route,
    response_mode: mode,
    state_present: has('state'),
    state_hash: state !== null ? keyedHash(input.hashKey, 'state', state) : null,
    relay_state_present: has('RelayState'),
    relay_state_hash: relay !== null ? keyedHash(input.hashKey, 'relay', relay) : null,
    code_present: has('code'),
    code_hash: code !== null ? keyedHash(input.hashKey, 'code', code) : null,
    iss: single('iss', q, f),
    client_id: single('client_id', q, f),
    error: single('error', q, f),
    duplicate_params: duplicates,
    ambiguous_params: ambiguous,
    unexpected_params: unexpected,
    param_names: names,
    saml: null,
    token_location: tokenLocation,
    violations: v,
  };
  return { facts, secrets: { state, relayState: relay, code, token } };
}
