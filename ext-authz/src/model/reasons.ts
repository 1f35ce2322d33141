// Reason codes: the contract with policy authors, SREs and THREATS.md. Tests assert these codes,
// never prose. Every deny carries at least one; allow/rewrite carry the reason the route was chosen.
// The table maps each code to the HTTP status of a deny (400 for malformed input, 403 otherwise,
// 429 for rate limiting, 503 when a dependency is down) and a one-line description for docs.

export const REASONS = {
  // -- mix-up / issuer (THREATS §1)
  issuer_mismatch: [403, 'iss / id_token iss / SAML Issuer differs from the issuer the flow was pinned to'],
  iss_required: [403, 'the issuer supports RFC 9207 but the callback carries no iss'],
  issuer_unknown: [403, 'iss names no issuer in the registry'],
  duplicate_param: [400, 'a parameter appears more than once'],
  // -- state / flow binding (§2)
  state_missing: [400, 'no state / RelayState on a callback'],
  state_unknown: [403, 'state resolves to no pin'],
  state_expired: [403, 'the pin expired; restart the login'],
  state_replayed: [403, 'the pin was already consumed'],
  state_bad_mac: [403, 'signed state envelope failed verification'],
  error_response: [200, 'an OAuth error callback routed to the flow initiator'],
  response_mode_mismatch: [403, 'callback response mode differs from the pinned one'],
  // -- code injection / replay (§3)
  code_replayed: [403, 'the same authorization code was seen before'],
  code_injection_out_of_scope: [200, 'a valid state with a foreign code: the backend must enforce PKCE/nonce'],
  ambiguous_param_location: [400, 'a parameter appears in both query and body'],
  no_mirror_nonidempotent: [200, 'shadow stage: the candidate decision is logged, never mirrored'],
  open_redirect: [400, 'a return target is not a same-origin https URL or path (checked after normalising the path)'],
  rate_limited: [429, 'too many callbacks with an unknown state from this source or for this connection'],
  // -- redirect / RelayState (§4)
  relaystate_not_opaque: [400, 'RelayState is a URL, not an opaque handle'],
  relaystate_too_long: [400, 'RelayState longer than 80 bytes'],
  unexpected_param: [400, 'a parameter that may influence routing is not expected here'],
  unsolicited_saml: [403, 'IdP-initiated SAML response not allow-listed for this stage'],
  saml_malformed: [400, 'SAMLResponse is not base64 XML, or it declares a DTD or entities'],
  saml_multiple_assertions: [400, 'the SAML response holds more than one Assertion or EncryptedAssertion'],
  saml_assertion_misplaced: [400, 'an Assertion or EncryptedAssertion that is not a direct child of the Response (e.g. inside Extensions)'],
  saml_issuer_namespace: [400, 'an Issuer or Assertion element outside the SAML 2.0 assertion namespace'],
  saml_issuer_ambiguous: [400, 'more than one Issuer where one belongs, an Issuer elsewhere, or an Issuer text split by comments or CDATA'],
  saml_issuer_conflict: [403, 'the Response Issuer and the Assertion Issuer differ'],
  // -- host / forwarding headers (§5)
  host_not_allowed: [403, 'Host / :authority matches no connection'],
  duplicate_host: [400, 'more than one Host'],
  ignored_forwarding_header: [200, 'client X-Forwarded-Host / Forwarded / X-Original-URL ignored and stripped'],
  ignored_routing_header: [200, 'client routing header ignored and stripped'],
  authority_mismatch: [400, 'absolute-form request target differs from Host'],
  source_ip_denied: [403, 'source address not on the route allow-list'],
  bad_header: [400, 'malformed header name'],
  // -- path (§6)
  not_callback_route: [403, 'path is not an exact callback route'],
  encoded_slash: [400, '%2F or %5C in the path'],
  path_param: [400, '; in the path'],
  double_encoding: [400, '%25 in the path'],
  bad_path: [400, 'NUL, control or non-ASCII bytes in the path'],
  // -- sizes (§8)
  headers_too_large: [431, 'header section over the limit'],
  body_too_large: [413, 'body over the limit'],
  param_too_long: [400, 'a parameter is over its length limit'],
  too_many_params: [400, 'more parameters than allowed'],
  body_truncated: [400, 'the body reached ext-authz truncated'],
  // -- tokens (§9)
  alg_not_allowed: [403, 'token alg not on the issuer allow-list'],
  kid_unknown: [403, 'kid names no key in the issuer JWKS'],
  key_source_not_allowed: [403, 'token names its own key (jku/x5u/jwk)'],
  token_expired: [403, 'exp in the past beyond skew'],
  token_not_yet_valid: [403, 'nbf or iat in the future beyond skew'],
  token_too_old: [403, 'iat older than the maximum token age for its use'],
  token_claim_missing: [403, 'a claim the token use requires is absent (exp, iat, sub/sid, jti, azp with several audiences, client_id)'],
  aud_mismatch: [403, 'aud is not the expected audience'],
  legacy_issuer_retired: [403, 'a legacy-issued token after the stage retired it'],
  typ_mismatch: [403, 'token typ does not fit where it was presented'],
  jti_replayed: [403, 'a one-shot token jti seen before'],
  token_malformed: [400, 'token is not a well-formed JWS'],
  token_invalid: [403, 'token signature or claims failed verification'],
  token_missing: [401, 'a token is required on this route'],
  jwks_unavailable: [503, 'the issuer keys could not be fetched and the stale window passed'],
  // -- webhooks (§11)
  webhook_replay: [403, 'webhook id seen before'],
  webhook_stale: [403, 'webhook timestamp outside tolerance'],
  bad_signature: [403, 'webhook signature did not verify'],
  bad_webhook_id: [400, 'webhook id contains forbidden characters'],
  secret_retired: [403, 'signed only with a retired secret'],
  bad_notification_token: [403, 'CIBA notification token or auth_req_id unknown'],
  logout_fail_safe: [200, 'verified logout routed to the session owner at any stage'],
  // -- tenants (§12)
  tenant_mismatch: [403, 'the flow or key belongs to another tenant'],
  tenant_not_allowed: [403, 'token tenant not on the allow-list'],
  client_id_unknown: [403, "client_id is not one of the connection's registered client_ids"],
  identity_mapping_required: [403, 'cross-backend identity must come from the mapping table'],
  // -- downgrade / stale (§13, §14)
  downgrade_blocked: [403, 'client attempt to force the legacy backend'],
  policy_unsigned: [403, 'stage change or bundle without a valid signature'],
  rollback_requires_approval: [403, 'rollback without approval'],
  proxy_sunset_exceeded: [403, 'past the connection sunset: legacy routes are closed'],
  policy_stale: [503, 'policy older than max_age'],
  authz_unavailable: [403, 'ext-authz unreachable'],
  // -- routing outcomes (allow / rewrite reasons)
  pinned_legacy: [200, 'flow pinned to the legacy backend'],
  pinned_new: [200, 'flow pinned to the new backend'],
  stage_legacy: [200, 'new flow: the stage routes to legacy'],
  stage_new: [200, 'new flow: the stage routes to new'],
  canary_cohort: [200, 'new flow: canary cohort bucket chose the backend'],
  drain_expired: [403, 'legacy flow after drain_until; restart the login'],
  backend_retired: [403, 'the pinned backend is retired at this stage'],
  proxy_decommissioned: [403, 'stage decommissioned: the proxy should be gone'],
  backend_not_live: [403, 'the pinned backend takes no traffic at this stage (e.g. new during observe)'],
  token_issuer: [200, "a verified token routed to its issuer's backend"],
  // -- fail-closed internals
  policy_error: [403, 'policy evaluation failed'],
  policy_timeout: [403, 'policy evaluation exceeded its deadline'],
  policy_undefined: [403, 'the policy produced no decision'],
  invalid_decision: [403, 'the policy decision is malformed'],
  backend_not_allowed: [403, 'the decision names a backend outside the connection allow-list'],
  policy_ignored_violation: [403, 'the policy allowed a request the parser had rejected'],
  store_unavailable: [503, 'the pin store could not be reached'],
  replay_budget_exhausted: [503, 'the store holds as many one-time markers of this kind as its budget allows: new flows wait until held ones expire'],
  store_data_lost: [403, 'issued before the replay store lost its data, so one-time use cannot be proven; restart the login'],
  malformed_request: [400, 'the check request could not be read'],
  internal_error: [403, 'unexpected failure on the request path'],
  opa_envoy_denied: [403, 'an OPA-Envoy-shaped decision denied'],
  opa_envoy_allowed: [200, 'an OPA-Envoy-shaped decision allowed'],
} as const satisfies Record<string, readonly [number, string]>;

export type ReasonCode = keyof typeof REASONS;

export function isReasonCode(x: unknown): x is ReasonCode {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(REASONS, x);
}

/** HTTP status for a deny with this reason (403 when the reason itself is an allow reason). */
export function denyStatus(code: ReasonCode): number {
  const s = REASONS[code][0];
  return s >= 400 ? s : 403;
}
