// Facts phase entry (DESIGN §4): RequestView → everything the policy needs except `attributes` and
// `version` (the pipeline adds those). Never throws: every failure is a reason code inside the facts.
//
// `callback.violations` lists every reason that must deny whatever the stage: parser/path/host/header
// violations, code_replayed, state_bad_mac, store_unavailable, token errors, webhook errors,
// internal_error. Pin outcomes that the policy maps itself (not found → state_unknown, expired →
// state_expired, consumed_before → state_replayed, response mode, issuer comparison) are NOT
// violations. One-time things (pins, codes, jti, webhook ids) are consumed only when the request
// has no parser violation, so a polluted request cannot burn a legitimate flow.
import type { ConnectionConfig } from '../../model/registry';
import type { ReasonCode } from '../../model/reasons';
import type { CallbackFacts, PinFacts, PolicyInput, TokenFacts, WebhookFacts } from '../../model/facts';
import type { RequestView } from '../../model/request';
import { hintSetCookie, readHintCookie, verifyHint } from '../pins/cookie-hint';
import { emptyPin, resolvePin } from '../pins/resolve';
import { jsonDepth } from '../tokens/token-shape';
import { emptyToken, verifyToken } from '../tokens/verify';
import type { TokenUse } from '../tokens/verify';
import { verifyWebhook } from '../webhooks/verify-webhook';
import { readCallback } from './callback';
import type { FactsDeps, PreparedConnection, RouteKind } from './deps';
import { checkHeaders, normaliseAuthority } from './host-rules';
import { migrationFacts } from './migration';
import { parseForm, toRecord } from './params';
import type { ParsedParams } from './params';
import { checkPath, splitTarget } from './path-rules';
import { readSamlResponse } from './saml';

export { createFactsDeps } from './deps';
export type { FactsDeps, FactsDepsOptions, PreparedConnection } from './deps';

export type FactsInput = Omit<PolicyInput, 'attributes' | 'version'>;

export interface GatheredFacts {
  connection: ConnectionConfig | null;
  input: FactsInput;
  /** Client-sent routing/forwarding headers to remove before upstream (names, lower-case). */
  headersToRemove: string[];
  /** Keyed hash of the flow key (state, else RelayState), for pins written on this request. */
  flowKeyHash: string | null;
}

const MAX_JSON_DEPTH = 32;

/** The last clock reading's strings: requests in the same millisecond share them (no Date/BigInt each). */
let lastNow: { ms: number; rfc3339: string; ns: string } = { ms: Number.NaN, rfc3339: '', ns: '' };

export function nowFacts(nowMs: number): PolicyInput['now'] {
  if (nowMs !== lastNow.ms) {
    const ms = Math.floor(nowMs);
    // A positive safe integer times 10^6 is its digits and six zeros; anything else goes through BigInt.
    const ns = Number.isSafeInteger(ms) && ms > 0 ? `${ms}000000` : (BigInt(ms) * 1_000_000n).toString();
    lastNow = { ms: nowMs, rfc3339: new Date(nowMs).toISOString(), ns };
  }
  return { rfc3339: lastNow.rfc3339, ns: lastNow.ns };
}

/**
 * Gathers the facts for one request. Every request-level problem is a reason code inside the facts; an
 * exception here is a bug, and it propagates to the check core, which denies internal_error and logs it.
 */
export function gatherFacts(req: RequestView, deps: FactsDeps, nowMs: number): Promise<GatheredFacts> {
  return gather(req, deps, nowMs);
}

function mediaType(ct: string | undefined): string {
  return (ct ?? '').split(';')[0].trim().toLowerCase();
}

async function gather(req: RequestView, deps: FactsDeps, nowMs: number): Promise<GatheredFacts> {
  const violations: ReasonCode[] = [];
  const add = (r: ReasonCode): void => {
    if (!violations.includes(r)) violations.push(r);
  };
  const target = splitTarget(req.path);
  const path = checkPath(target.path);
  path.violations.forEach(add);

  // Host (THREATS §5): exact normalised authority → connection.
  const host = normaliseAuthority(req.host, req.scheme);
  const conn: PreparedConnection | null = deps.hosts.get(host) ?? null;
  const headers = checkHeaders(req, deps.stripHeaders);
  headers.violations.forEach(add);
  if (!conn) add('host_not_allowed');
  if (target.authority !== null && normaliseAuthority(target.authority, req.scheme) !== host) add('authority_mismatch');

  let routeKind: RouteKind | null = null;
  let route: string | null = null;
  if (conn && path.violations.length === 0) {
    routeKind = conn.routes.get(target.path) ?? null;
    if (routeKind === null) add('not_callback_route');
    else route = target.path;
  }

  // Query and body through the one strict parser (THREATS §7).
  const query = parseForm(target.query ?? '', deps.limits.max_params);
  let form: ParsedParams | null = null;
  let parsedBody: unknown = null;
  const ct = mediaType(req.headers['content-type']);
  if (req.body !== undefined && req.body.length > 0) {
    if ((req.rawBody?.byteLength ?? Buffer.byteLength(req.body, 'utf8')) > deps.limits.max_body_bytes) add('body_too_large');
    else if (ct === 'application/x-www-form-urlencoded') {
      form = parseForm(req.body, deps.limits.max_params);
      parsedBody = toRecord(form.values);
    } else if (ct === 'application/json' || ct.endsWith('+json')) {
      parsedBody = jsonDepth(req.body) > MAX_JSON_DEPTH ? null : safeJson(req.body);
    }
  } else if (req.method === 'POST' && ct === 'application/x-www-form-urlencoded') {
    form = parseForm('', deps.limits.max_params);
  }
  if (req.bodyTruncated && routeKind !== null) add('body_truncated');

  const cb = readCallback({
    method: req.method.toUpperCase(),
    route,
    routeKind,
    query,
    form,
    authorization: req.headers['authorization'],
    conn,
    limits: deps.limits,
    hashKey: deps.keys.hash,
  });
  const callback: CallbackFacts = cb.facts;
  callback.violations.forEach(add);

  if (callback.kind === 'saml_post') {
    const raw = form?.values.get('SAMLResponse');
    if (raw && raw.length === 1) {
      const saml = readSamlResponse(raw[0], deps.limits.max_body_bytes);
      if (saml.ok) {
        callback.saml = saml.facts;
        if (saml.issuerConflict) add('issuer_mismatch');
      } else add(saml.reason);
    }
  }

  let pin: PinFacts = emptyPin();
  let token: TokenFacts = emptyToken();
  let webhook: WebhookFacts | null = null;
  // Nothing one-time is consumed for a request the parser already rejected: a polluted request
  // must not burn the legitimate user's pin or code (it is denied anyway).
  if (conn && violations.length === 0) {
    const oauth = callback.kind === 'oauth_query' || callback.kind === 'oidc_form_post';
    if (oauth && cb.secrets.state !== null && callback.state_hash !== null) {
      pin = await resolvePin(cb.secrets.state, callback.state_hash, true, conn, deps, nowMs);
    } else if (callback.kind === 'saml_post' && cb.secrets.relayState !== null && callback.relay_state_hash !== null) {
      pin = await resolvePin(cb.secrets.relayState, callback.relay_state_hash, false, conn, deps, nowMs);
    }
    if (pin.error === 'state_bad_mac' || pin.error === 'non_canonical_encoding' || pin.error === 'store_unavailable') add(pin.error);
    pin.hint_backend = verifyHint(deps.keys.cookie, conn.config.name, readHintCookie(req.headers['cookie']), nowMs);

    // T-C1: the keyed hash of every code is remembered for 10 minutes.
    if (oauth && callback.code_hash !== null) {
      try {
        if (!(await deps.replayStore.firstSeen('code', callback.code_hash, deps.codeReplayTtlMs))) add('code_replayed');
      } catch {
        add('store_unavailable');
      }
    }

    if (callback.kind === 'webhook') {
      webhook = conn.webhook
        ? await verifyWebhook(req, conn.webhook, { replayStore: deps.replayStore, hashKey: deps.keys.hash, nowMs })
        : { verified: false, scheme: 'standard', secret_id: null, tenant: null, id_hash: null, error: 'bad_signature' };
      if (webhook.error) add(webhook.error);
    }

    if (cb.secrets.token !== null) {
      const use: TokenUse = callback.token_location === 'id_token' ? 'id_token' : callback.token_location === 'logout_token' ? 'logout_token' : 'access_token';
      // Logout tokens and agent bearers are one-shot (OIDC BCL §2.6 jti, THREATS T-J11).
      const oneShot = callback.kind === 'logout' || callback.kind === 'agent' ? { replayStore: deps.replayStore, hashKey: deps.keys.hash } : undefined;
      token = await verifyToken(cb.secrets.token, use, { issuers: deps.issuers, maxTokenBytes: deps.limits.max_token_bytes, nowMs, oneShot });
      if (token.error) add(token.error);
    }
  } else if (cb.secrets.token !== null) {
    token = { ...emptyToken(), present: true };
  }

  callback.violations = violations;
  const loginHint = query.values.get('login_hint');
  const migration = conn
    ? migrationFacts(conn, conn.migration, deps.keys.hash, {
        client_id: callback.client_id,
        source_ip: req.sourceIp ?? null,
        login_hint: loginHint && loginHint.length === 1 ? loginHint[0] : null,
        session: callback.state_hash ?? callback.relay_state_hash,
      }, nowMs)
    : null;
  return {
    connection: conn?.config ?? null,
    input: {
      parsed_path: path.segments,
      parsed_query: toRecord(query.values),
      parsed_body: parsedBody,
      truncated_body: req.bodyTruncated,
      callback,
      pin,
      token,
      migration,
      ignored_headers: headers.ignored,
      now: nowFacts(nowMs),
      webhook,
    },
    headersToRemove: headers.ignored,
    flowKeyHash: callback.state_hash ?? callback.relay_state_hash,
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** The login-start cookie hint for a decided backend (the pipeline adds it to response_headers). */
export function cookieHintHeader(deps: FactsDeps, connection: string, backend: string, nowMs: number): string | null {
  const conn = deps.connections.get(connection);
  if (!conn || !conn.backends.has(backend)) return null;
  return hintSetCookie(deps.keys.cookie, connection, backend, nowMs, conn.config.pin_ttl_s);
}
