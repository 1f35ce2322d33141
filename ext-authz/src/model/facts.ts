// The facts the policy sees (docs/architecture.md, "The policy input"): callback, pin, token, migration
// and webhook facts, and the `input` document built from them. Facts never hold raw secrets:
// state/RelayState/code appear only as keyed hashes (base64url HMAC-SHA256 under keys.hash_key), tokens
// only as verified claims.
import type { Stage } from './registry';
import type { ReasonCode } from './reasons';

export type CallbackKind = 'oauth_query' | 'oidc_form_post' | 'saml_post' | 'webhook' | 'login_start' | 'logout' | 'agent' | 'other';

export interface CallbackFacts {
  kind: CallbackKind;
  /** The route matched exactly (one of the connection's route paths), or null. */
  route: string | null;
  response_mode: 'query' | 'form_post' | null;
  state_present: boolean;
  state_hash: string | null;
  relay_state_present: boolean;
  relay_state_hash: string | null;
  code_present: boolean;
  code_hash: string | null;
  iss: string | null;
  client_id: string | null;
  error: string | null;
  /** Names (never values) of parameters that appeared more than once. */
  duplicate_params: string[];
  /** Names present in both query and body. */
  ambiguous_params: string[];
  /** Names not expected on this route (protocol params + allowed_params). */
  unexpected_params: string[];
  param_names: string[];
  /** SAML facts: read from the response, never trusted for routing on their own. */
  saml: { issuer: string | null; in_response_to: string | null; destination: string | null } | null;
  /** The id_token / logout_token / bearer found, if any (kept out of the policy input: see token). */
  token_location: 'id_token' | 'logout_token' | 'authorization' | null;
  /** Parser violations, in the order found: the policy must deny on any of them. */
  violations: ReasonCode[];
}

export interface PinFacts {
  found: boolean;
  backend: string | null;
  issuer: string | null;
  connection: string | null;
  response_mode: 'query' | 'form_post' | null;
  age_s: number | null;
  expired: boolean;
  consumed_before: boolean;
  /** How the pin was learned. */
  source: 'envelope' | 'store' | 'cookie' | null;
  /** Verification failure of a signed envelope / cookie (e.g. state_bad_mac). */
  error: ReasonCode | null;
  created_at_ms: number | null;
  /** Backend named by a valid `__Host-cbp_hint` cookie: a hint only, never a pin on its own. */
  hint_backend?: string | null;
}

export interface TokenFacts {
  present: boolean;
  verified: boolean;
  use: 'id_token' | 'logout_token' | 'access_token' | null;
  issuer: string | null;
  backend: string | null;
  alg: string | null;
  typ: string | null;
  claims: Record<string, unknown> | null;
  error: ReasonCode | null;
}

export interface MigrationFacts {
  connection: string;
  stage: Stage;
  percent: number;
  /** Keyed-hash bucket 0..99 of the cohort key (null when the key is absent). */
  cohort_bucket: number | null;
  backends: { id: string; role: 'legacy' | 'new'; issuer: string; cluster: string }[];
  legacy: string; // backend id
  new: string; // backend id
  issuers: Record<string, { backend: string; iss_parameter_supported: boolean }>;
  drain_until: string | null; // RFC 3339
  drained: boolean; // now > drain_until
  sunset_at: string | null;
  sunset_exceeded: boolean;
  require_pin: boolean;
  idp_initiated_saml: { issuer: string; acs: string }[];
  /** now ≥ the legacy backend's retire_tokens_at (threat model T-J9); false when no date is set. */
  legacy_tokens_retired?: boolean;
}

/** Webhook verification (docs/threat-model.md §11): the tenant comes from the verifying secret only. */
export interface WebhookFacts {
  verified: boolean;
  scheme: 'standard' | 'github';
  secret_id: string | null;
  tenant: string | null;
  /** Keyed hash of the webhook id / delivery id (replay key). */
  id_hash: string | null;
  error: ReasonCode | null;
}

/** The `input` document the policy sees (OPA-Envoy compatible + our facts). */
export interface PolicyInput {
  attributes: unknown; // CheckRequest attributes as protojson (lowerCamelCase)
  parsed_path: string[];
  parsed_query: Record<string, string[]>;
  parsed_body: unknown;
  truncated_body: boolean;
  version: { ext_authz: 'v3'; encoding: 'protojson' };
  callback: CallbackFacts;
  pin: PinFacts;
  token: TokenFacts;
  migration: MigrationFacts | null;
  /** Headers the client sent that we strip and never trust (names only). */
  ignored_headers: string[];
  now: { rfc3339: string; ns: string };
  /** Webhook routes only (absent or null elsewhere). */
  webhook?: WebhookFacts | null;
}
