// Facts dependencies prepared once per registry load (validated and compiled once): route
// tables, the host map, issuer verifiers and keys as Buffers. The hot path only reads these.
import { createHash, randomInt } from 'node:crypto';
import type { BackendConfig, ConnectionConfig, IssuerConfig, Limits, RegistryConfig, RouteTable } from '../../model/registry';
import { credentialFor } from '../../model/registry';
import type { PinStore, ReplayStore } from '../../store/types';
import { prepareIssuers } from '../tokens/issuer-registry';
import type { IssuerRegistry, JwksFetch } from '../tokens/issuer-registry';
import { prepareWebhook } from '../webhooks/prepare';
import type { PreparedWebhook } from '../webhooks/prepare';
import { keyBytes } from './keyed-hash';
import { UnknownStateLimiter } from './unknown-state-limiter';
import { migrationBase } from './migration';
import type { MigrationBase } from './migration';

export type RouteKind = keyof RouteTable;

/** Protocol parameters a callback may carry (RFC 6749 §4.1.2/§4.2.2, RFC 9207, OIDC Core §3.2.2.5). */
const OAUTH_PARAMS = [
  'code', 'state', 'iss', 'error', 'error_description', 'error_uri', 'session_state', 'id_token',
  'access_token', 'token_type', 'expires_in', 'scope', 'client_id',
];
/** SAML HTTP-POST / Redirect binding parameters (SAML Bindings §3.4.4, §3.5.4). */
const SAML_PARAMS = ['SAMLResponse', 'RelayState', 'SigAlg', 'Signature'];
/** OIDC Back-Channel Logout 1.0 §2.5: the body carries exactly logout_token. */
const LOGOUT_PARAMS = ['logout_token'];

export interface PreparedConnection {
  config: ConnectionConfig;
  /** exact path → route kind */
  routes: Map<string, RouteKind>;
  /** Parameter names expected per route kind (protocol + allowed_params + return_params). */
  expected: Map<RouteKind, ReadonlySet<string>>;
  returnParams: ReadonlySet<string>;
  hosts: ReadonlySet<string>;
  legacy: BackendConfig;
  new: BackendConfig;
  backends: Map<string, BackendConfig>;
  webhook: PreparedWebhook | null;
  /** Request-independent migration facts (stage, backends, issuers, dates as RFC 3339). */
  migration: MigrationBase;
  /** Registered client_ids (cohorts, the client_id check, token audiences). */
  clientIds: ReadonlySet<string>;
  /** backend id → its state-envelope key on THIS connection (keys are scoped by connection and backend). */
  stateKeys: ReadonlyMap<string, Buffer>;
  /** backend id → SHA-256 of its Pin API token on this connection. */
  pinTokens: ReadonlyMap<string, Buffer>;
  /**
   * issuer → the audiences a token of that issuer must name on this connection: the issuer's
   * audiences ∩ the connection's client_ids (all client_ids when the issuer lists none).
   */
  audiences: ReadonlyMap<string, readonly string[]>;
}

export interface PreparedKeys {
  hash: Buffer;
  cookie: Buffer;
}

export interface FactsDeps {
  registry: RegistryConfig;
  limits: Limits;
  keys: PreparedKeys;
  /** normalised host → connection */
  hosts: Map<string, PreparedConnection>;
  connections: Map<string, PreparedConnection>;
  issuers: IssuerRegistry;
  stripHeaders: ReadonlySet<string>;
  pinStore: PinStore;
  replayStore: ReplayStore;
  /** How long a seen authorization code hash is remembered at least (T-C1: 10 min). */
  codeReplayTtlMs: number;
  /** A uniform draw 0..99 for `cohort_key: random` (tests may fix it; default crypto randomInt). */
  cohortDraw: () => number;
  /** Unknown-state rate limits (T-C6); one instance outlives registry reloads. */
  unknownStates: UnknownStateLimiter;
}

export interface FactsDepsOptions {
  pinStore: PinStore;
  replayStore: ReplayStore;
  /** fetch used for remote JWKS (tests point it at a local server); defaults to global fetch. */
  fetchJwks?: JwksFetch;
  /** Clock for preparation-time checks; request-time code takes `nowMs` explicitly. */
  now?: () => number;
  /** The dependencies of the last good registry (a reload): unchanged issuers keep their JWKS caches. */
  previous?: FactsDeps;
  /** Cohort draw for `cohort_key: random` (default: crypto.randomInt(100)). */
  cohortDraw?: () => number;
  /** The unknown-state limiter to keep across reloads (default: a fresh one, no metric hook). */
  unknownStates?: UnknownStateLimiter;
}

const drawPercent = (): number => randomInt(100);

/** Builds the prepared facts dependencies. Throws only on a registry that skipped validation. */
export function createFactsDeps(registry: RegistryConfig, opts: FactsDepsOptions): FactsDeps {
  const connections = new Map<string, PreparedConnection>();
  const hosts = new Map<string, PreparedConnection>();
  for (const c of registry.connections) {
    const p = prepareConnection(c, registry);
    connections.set(c.name, p);
    for (const h of p.hosts) hosts.set(h, p);
  }
  return {
    registry,
    limits: registry.limits,
    keys: { hash: keyBytes(registry.keys.hash_key), cookie: keyBytes(registry.keys.cookie_key) },
    hosts,
    connections,
    issuers: prepareIssuers(registry.issuers, { fetch: opts.fetchJwks }, opts.previous?.issuers),
    stripHeaders: new Set(registry.strip_headers.map((h) => h.toLowerCase())),
    pinStore: opts.pinStore,
    replayStore: opts.replayStore,
    codeReplayTtlMs: 10 * 60 * 1000,
    cohortDraw: opts.cohortDraw ?? drawPercent,
    unknownStates: opts.unknownStates ?? new UnknownStateLimiter(),
  };
}

/** The token audiences of one issuer on one connection (docs/threat-model.md T-J7). */
function audiencesFor(iss: IssuerConfig, clientIds: readonly string[]): string[] {
  return iss.audiences.length === 0 ? [...clientIds] : iss.audiences.filter((a) => clientIds.includes(a));
}

function prepareConnection(c: ConnectionConfig, registry: RegistryConfig): PreparedConnection {
  const routes = new Map<string, RouteKind>();
  for (const kind of Object.keys(c.routes) as RouteKind[]) {
    for (const path of c.routes[kind]) routes.set(path, kind);
  }
  const extra = [...c.allowed_params, ...c.return_params];
  const expected = new Map<RouteKind, ReadonlySet<string>>([
    ['oauth_callback', new Set([...OAUTH_PARAMS, ...extra])],
    ['saml_acs', new Set([...SAML_PARAMS, ...extra])],
    ['logout', new Set([...LOGOUT_PARAMS, ...extra])],
  ]);
  const legacy = c.backends.find((b) => b.role === 'legacy');
  const neu = c.backends.find((b) => b.role === 'new');
  if (!legacy || !neu) throw new Error(`connection ${c.name}: needs one legacy and one new backend`);
  const stateKeys = new Map<string, Buffer>();
  const pinTokens = new Map<string, Buffer>();
  for (const b of c.backends) {
    const key = credentialFor(registry.keys.state_keys, c.name, b.id);
    if (key !== undefined) stateKeys.set(b.id, keyBytes(key));
    const token = credentialFor(registry.keys.pin_api_tokens, c.name, b.id);
    if (token !== undefined) pinTokens.set(b.id, createHash('sha256').update(token).digest());
  }
  return {
    config: c,
    routes,
    expected,
    returnParams: new Set(c.return_params),
    hosts: new Set(c.hosts.map((h) => h.toLowerCase())),
    legacy,
    new: neu,
    backends: new Map(c.backends.map((b) => [b.id, b])),
    webhook: c.webhook ? prepareWebhook(c.webhook) : null,
    migration: migrationBase({ config: c, legacy, new: neu }),
    clientIds: new Set(c.client_ids),
    stateKeys,
    pinTokens,
    audiences: new Map(registry.issuers.map((iss) => [iss.issuer, audiencesFor(iss, c.client_ids)])),
  };
}
