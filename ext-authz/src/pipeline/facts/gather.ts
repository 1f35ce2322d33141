// Facts phase entry (docs/architecture.md, "A callback, step by step"): RequestView → everything the policy needs except `attributes` and
// `version` (the pipeline adds those). Never throws for a request-level problem: every failure is a
// reason code inside the facts.
//
// The facts come from a list of named providers run in order (facts/context.ts): request → saml →
// unknown-state gate → pin → unknown-state charge → token → migration → webhook → one-time. Each reads what the earlier ones found and adds its
// own; adding a fact is adding one provider here. `callback.violations` lists every reason that must
// deny whatever the stage: parser/path/host/header violations, state_bad_mac, store_unavailable, token
// and webhook errors, replayed codes / jti / webhook ids. Pin outcomes the policy maps itself (not
// found → state_unknown, expired → state_expired, consumed_before → state_replayed, response mode,
// issuer comparison) are NOT violations.
//
// Nothing here writes a store: one-time markers are peeked, and written by the pipeline's commit phase
// only for a request the decision forwards (pipeline/commit.ts).
import type { ConnectionConfig } from '../../model/registry';
import type { CallbackFacts, PolicyInput } from '../../model/facts';
import type { RequestView } from '../../model/request';
import { hintSetCookie } from '../pins/cookie-hint';
import { emptyPin } from '../pins/resolve';
import { emptyToken } from '../tokens/verify';
import type { FactsContext, FactsPhase, OneTimeMarker } from './context';
import type { CallbackSecrets } from './callback';
import type { FactsDeps } from './deps';
import type { ParsedParams } from './params';
import { toRecord } from './params';
import { migrationPhase } from './phases/migration';
import { oneTimePhase } from './phases/one-time';
import { pinPhase } from './phases/pin';
import { requestPhase } from './phases/request';
import { samlPhase } from './phases/saml';
import { tokenPhase } from './phases/token';
import { unknownStateChargePhase, unknownStateGatePhase } from './phases/unknown-state';
import { webhookPhase } from './phases/webhook';

export { createFactsDeps } from './deps';
export type { FactsDeps, FactsDepsOptions, PreparedConnection } from './deps';
export type { OneTimeMarker } from './context';

export type FactsInput = Omit<PolicyInput, 'attributes' | 'version'>;

export interface GatheredFacts {
  connection: ConnectionConfig | null;
  input: FactsInput;
  /** Client-sent routing/forwarding headers to remove before upstream (names, lower-case). */
  headersToRemove: string[];
  /** Keyed hash of the flow key (state, else RelayState), for pins written on this request. */
  flowKeyHash: string | null;
  /** The one-time markers this request carries; the commit phase writes those marked `commit`. */
  markers: OneTimeMarker[];
}

/** The fact providers, in order. A constant: nothing is allocated per request to run them. */
export const FACT_PHASES: readonly FactsPhase[] = Object.freeze([
  requestPhase, samlPhase, unknownStateGatePhase, pinPhase, unknownStateChargePhase, tokenPhase, migrationPhase, webhookPhase, oneTimePhase,
]);

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

/** Placeholders the request provider always replaces (it runs first, for every request). */
const NO_PARAMS: ParsedParams = Object.freeze({ values: new Map<string, string[]>(), count: 0, malformed: false }) as ParsedParams;
const NO_SECRETS: CallbackSecrets = Object.freeze({ state: null, relayState: null, code: null, token: null });
const NO_CALLBACK = Object.freeze({}) as CallbackFacts;

/** A fresh per-request context for the providers (exported for the providers' focused tests). */
export function newFactsContext(req: RequestView, deps: FactsDeps, nowMs: number): FactsContext {
  return {
    req, deps, nowMs,
    conn: null, clean: false, violations: [], parsedPath: [], query: NO_PARAMS, form: null, parsedBody: null,
    ignoredHeaders: [], callback: NO_CALLBACK, secrets: NO_SECRETS, pin: emptyPin(), flowExpiresAtMs: null, flowKeyUnknown: false,
    token: emptyToken(), migration: null, webhook: null, markers: [],
  };
}

/** Runs `phases` over a context in order (gatherFacts runs FACT_PHASES; tests may run a prefix). */
export async function runPhases(ctx: FactsContext, phases: readonly FactsPhase[] = FACT_PHASES): Promise<FactsContext> {
  for (let i = 0; i < phases.length; i++) {
    const p = phases[i];
    if (!p.applies(ctx)) continue;
    const pending = p.run(ctx);
    if (pending !== undefined) await pending;
  }
  return ctx;
}

/**
 * Gathers the facts for one request. Every request-level problem is a reason code inside the facts; an
 * exception here is a bug, and it propagates to the check core, which denies internal_error and logs it.
 */
export async function gatherFacts(req: RequestView, deps: FactsDeps, nowMs: number): Promise<GatheredFacts> {
  const ctx = await runPhases(newFactsContext(req, deps, nowMs));
  const callback = ctx.callback;
  callback.violations = ctx.violations;
  return {
    connection: ctx.conn?.config ?? null,
    input: {
      parsed_path: ctx.parsedPath,
      parsed_query: toRecord(ctx.query.values),
      parsed_body: ctx.parsedBody,
      truncated_body: req.bodyTruncated,
      callback,
      pin: ctx.pin,
      token: ctx.token,
      migration: ctx.migration,
      ignored_headers: ctx.ignoredHeaders,
      now: nowFacts(nowMs),
      webhook: ctx.webhook,
    },
    headersToRemove: ctx.ignoredHeaders,
    flowKeyHash: callback.state_hash ?? callback.relay_state_hash,
    markers: ctx.markers,
  };
}

/** The login-start cookie hint for a decided backend (the pipeline adds it to response_headers). */
export function cookieHintHeader(deps: FactsDeps, connection: string, backend: string, nowMs: number): string | null {
  const conn = deps.connections.get(connection);
  if (!conn || !conn.backends.has(backend)) return null;
  return hintSetCookie(deps.keys.cookie, connection, backend, nowMs, conn.config.pin_ttl_s);
}
