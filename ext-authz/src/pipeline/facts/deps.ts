// Facts dependencies prepared once per registry load (STYLE "validate and compile once"): route
// tables, the host map, issuer verifiers and keys as Buffers. The hot path only reads these.
import type { BackendConfig, ConnectionConfig, Limits, RegistryConfig, RouteTable } from '../../model/registry';
import type { PinStore, ReplayStore } from '../../store/types';
import { prepareIssuers } from '../tokens/issuer-registry';
import type { IssuerRegistry, JwksFetch } from '../tokens/issuer-registry';
import { prepareWebhook } from '../webhooks/prepare';
import type { PreparedWebhook } from '../webhooks/prepare';
import { keyBytes } from './keyed-hash';
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
}

export interface PreparedKeys {
  hash: Buffer;
  state: Map<string, Buffer>;
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
  /** How long a seen authorization code hash is remembered (T-C1: 10 min). */
  codeReplayTtlMs: number;
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
}

/** Builds the prepared facts dependencies. Throws only on a registry that skipped validation. */
export function createFactsDeps(registry: RegistryConfig, opts: FactsDepsOptions): FactsDeps {
  const connections = new Map<string, PreparedConnection>();
  const hosts = new Map<string, PreparedConnection>();
  for (const c of registry.connections) {
    const p = prepareConnection(c);
    connections.set(c.name, p);
    for (const h of p.hosts) hosts.set(h, p);
  }
  const state = new Map<string, Buffer>();
  for (const [b, k] of Object.entries(registry.keys.state_keys)) state.set(b, keyBytes(k));
  return {
    registry,
    limits: registry.limits,
    keys: { hash: keyBytes(registry.keys.hash_key), state, cookie: keyBytes(registry.keys.cookie_key) },
    hosts,
    connections,
    issuers: prepareIssuers(registry.issuers, { fetch: opts.fetchJwks }, opts.previous?.issuers),
    stripHeaders: new Set(registry.strip_headers.map((h) => h.toLowerCase())),
    pinStore: opts.pinStore,
    replayStore: opts.replayStore,
    codeReplayTtlMs: 10 * 60 * 1000,
  };
}

function prepareConnection(c: ConnectionConfig): PreparedConnection {
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
  };
}
