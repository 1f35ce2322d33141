// The migration registry after validation: what the YAML file (config/registry.ts, zod) produces and
// everything downstream (facts, policy input, envoy render) reads. Field names are the YAML names.
// Durations are seconds; instants are epoch milliseconds (the YAML holds RFC 3339 strings).

export type Stage = 'observe' | 'shadow' | 'canary' | 'cutover' | 'rollback' | 'retired' | 'decommissioned';
export const STAGES: readonly Stage[] = ['observe', 'shadow', 'canary', 'cutover', 'rollback', 'retired', 'decommissioned'];

/** The header that tells the forwarding layer which backend to route to, unless the registry names another. */
export const DEFAULT_ROUTING_HEADER = 'x-callback-backend';

/** Which routes of a connection are callbacks and of what kind (exact paths, case-sensitive). */
export interface RouteTable {
  oauth_callback: string[]; // OAuth/OIDC redirect_uri paths (query or form_post)
  saml_acs: string[]; // SAML POST ACS
  login_start: string[]; // flow start (ext_proc / cookie hint / cohort decision)
  webhook: string[]; // Standard Webhooks / GitHub-style HMAC callbacks
  logout: string[]; // OIDC back-channel logout
  agent: string[]; // bearer-token agent / CIBA callbacks
}

export type BackendRole = 'legacy' | 'new';

export interface BackendConfig {
  /** Backend id used in pins, decisions and the routing header (e.g. "legacy", "new"). */
  id: string;
  role: BackendRole;
  /** Envoy cluster name (envoy render, docker-compose). */
  cluster: string;
  /** host:port of the upstream (envoy render, nginx e2e). */
  address?: string;
  /** Exact issuer identifier of this backend's authorization server / SAML entityID. */
  issuer: string;
  saml_entity_id?: string;
  /** The backend supports RFC 9207 (`authorization_response_iss_parameter_supported`). */
  iss_parameter_supported: boolean;
  /** When this backend's tokens stop being accepted (epoch ms); legacy only. */
  retire_tokens_at?: number;
}

export interface IssuerConfig {
  issuer: string;
  backend: string; // BackendConfig.id
  jwks_uri?: string;
  jwks?: { keys: Record<string, unknown>[] }; // inline JWKS
  algs: string[]; // allow-list, e.g. ["RS256"]
  audiences: string[];
  /**
   * Expected `typ` per token use. Absent for access tokens means `at+jwt` (RFC 9068 §2.1), unless
   * `allow_untyped_access_tokens` opts out; absent for the other uses means "not checked".
   */
  typ?: { id_token?: string; access_token?: string; logout_token?: string };
  /** Opt-out of the RFC 9068 `typ: at+jwt` requirement (id_tokens are still refused as access tokens). */
  allow_untyped_access_tokens?: boolean;
  /** Maximum age (now − iat) per use, seconds; defaults in pipeline/tokens/claims.ts. */
  max_token_age_s?: { id_token?: number; access_token?: number; logout_token?: number };
  clock_skew_s: number;
  /** Multi-tenant issuers: allowed `tid` values. */
  tenants?: string[];
}

export interface WebhookConfig {
  scheme: 'standard' | 'github';
  /** Secrets, newest first; `retire_at` epoch ms. Values are secrets: never log them. */
  secrets: { id: string; secret: string; retire_at?: number; tenant?: string }[];
  tolerance_s: number;
  source_cidrs?: string[];
}

export interface ConnectionConfig {
  name: string;
  hosts: string[]; // exact, lower-case authority without default port
  client_ids: string[];
  routes: RouteTable;
  backends: BackendConfig[]; // exactly one legacy and one new
  stage: Stage;
  canary_percent: number; // 0..100, used in canary
  /**
   * What the canary cohort bucket comes from at flow start: facts the caller cannot choose. `client_id`:
   * a keyed hash of a registered client_id (an unregistered one is denied); `random`: a server-side
   * draw at login start, pinned from then on by the MAC'd cookie hint.
   */
  cohort_key: 'client_id' | 'random';
  drain_until?: number;
  sunset_at?: number;
  require_pin: boolean;
  pin_ttl_s: number;
  /** IdP-initiated SAML allowed for these (issuer, acs path) pairs. */
  idp_initiated_saml: { issuer: string; acs: string }[];
  /** Post-login return parameters checked for open redirects (e.g. returnTo). */
  return_params: string[];
  /** Extra parameters allowed on callbacks besides the protocol ones. */
  allowed_params: string[];
  webhook?: WebhookConfig;
  tenant?: string;
  /** Stage changes to cutover, rollback, retired and decommissioned need an `approver` admin token (docs/stages.md). */
  require_approval?: boolean;
  /** SLO guard: roll back automatically when logins on the new backend break (docs/stages.md). */
  guard?: GuardConfig;
}

/** Admin API roles, each including the one before: viewer reads, operator changes stages, approver approves. */
export type AdminRole = 'viewer' | 'operator' | 'approver';
export const ADMIN_ROLES: readonly AdminRole[] = ['viewer', 'operator', 'approver'];

/** A bearer token of the admin API (stage control, report, cockpit). `token` is a secret: never log it. */
export interface AdminTokenConfig {
  /** Who holds it: recorded as the actor in the audit trail. */
  name: string;
  token: string;
  role: AdminRole;
}

export interface GuardConfig {
  /** Roll back when more than this fraction of the window's callbacks for the new backend were denied for `reasons`. */
  deny_ratio: number;
  window_s: number;
  /** No verdict below this many callbacks for the new backend in the window. */
  min_callbacks: number;
  /** Deny reasons that mean a broken login (reason codes). */
  reasons: string[];
}

/** A period during which stage changes through the admin API are refused (epoch ms, [start, end)). */
export interface FreezeWindow {
  start: number;
  end: number;
  reason: string;
  /** Connections it applies to; absent means all. */
  connections?: string[];
}

export interface LifecycleConfig {
  freeze_windows: FreezeWindow[];
  removal: {
    /** The legacy backend must have seen no callback for this long before a connection is removable. */
    quiet_s: number;
    /** Registry mappings (routes, hosts, backends) without traffic for this many days are reported. */
    unused_mapping_days: number;
  };
}

export interface KeysConfig {
  /** HMAC key for state/code/cohort hashes (base64url). Secret. */
  hash_key: string;
  /**
   * Keys that sign state envelopes (base64url HMAC keys), named `<connection>/<backend>`, or just
   * `<backend>` when that backend id belongs to one connection only. Secret.
   */
  state_keys: Record<string, string>;
  /** Key for the cookie hint MAC (base64url). Secret. */
  cookie_key: string;
  /**
   * Bearer tokens of the Pin API, named like state_keys (`<connection>/<backend>` or `<backend>`). A
   * token serves one connection only. Secret.
   */
  pin_api_tokens: Record<string, string>;
  /** Admin API tokens (stage control), separate from the Pin API tokens. Secret. */
  admin_tokens?: AdminTokenConfig[];
}

export interface Limits {
  max_params: number; // 20
  max_state_bytes: number; // 512
  max_code_bytes: number; // 2048
  max_relay_state_bytes: number; // 80
  max_token_bytes: number; // 16384
  max_body_bytes: number; // 262144
  // One-time markers and pins are held until their own expiry and never evicted early
  // (docs/operations.md, "Store budgets"). Each class has its own budget; when one is full, new flows
  // of that class are denied replay_budget_exhausted (503) and nothing already held is dropped.
  max_state_markers: number; // 250000 consumed states / RelayStates
  max_code_markers: number; // 250000 used authorization codes
  max_webhook_markers: number; // 100000 delivered webhook ids
  max_jti_markers: number; // 100000 used one-shot token jtis (logout, agent)
  max_pins: number; // 250000 store-backed pins (Pin API / login start)
  // Callbacks whose state or RelayState resolves to nothing (docs/threat-model.md T-C6), per replica:
  // past either rate, callbacks with a store-backed flow key are denied rate_limited (429) before the
  // pin lookup. Signed envelopes are checked by MAC alone and are never limited.
  unknown_states_per_source_per_min: number; // 60 per source address (IPv6: per /64)
  unknown_states_per_connection_per_min: number; // 6000 per registry connection
  max_limited_sources: number; // 50000 source addresses tracked at once
}

export interface RegistryConfig {
  version: 1;
  connections: ConnectionConfig[];
  issuers: IssuerConfig[];
  keys: KeysConfig;
  limits: Limits;
  /** Routing header set towards the upstream. */
  routing_header: string;
  /** Headers a client may not send (stripped, never trusted). */
  strip_headers: string[];
  /** Freeze windows and removal-report thresholds (absent: none and the defaults). */
  lifecycle?: LifecycleConfig;
}

/**
 * The credential of (connection, backend) in `keys.state_keys` / `keys.pin_api_tokens`: the qualified
 * name `<connection>/<backend>` first, else the bare backend id (the registry schema allows a bare id
 * only when the backend id belongs to a single connection).
 */
export function credentialFor(map: Readonly<Record<string, string>>, connection: string, backend: string): string | undefined {
  const own = Object.prototype.hasOwnProperty;
  const qualified = `${connection}/${backend}`;
  if (own.call(map, qualified)) return map[qualified];
  return own.call(map, backend) ? map[backend] : undefined;
}
