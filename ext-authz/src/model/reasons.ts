// Reason codes: the contract with policy authors, SREs and docs/threat-model.md. Tests assert these
// codes, never prose. Every deny carries at least one; allow/rewrite carry the reason the route was
// chosen. The table maps each code to the HTTP status of a deny (400 for malformed input, 403
// otherwise, 429 for rate limiting, 503 when a dependency is down), a one-line meaning, and what
// docs/reason-codes.md says about it (generated from this table by `npm run docs:reasons`):
//   by    who answers with it: 'facts' (the strict parsers and verifiers before the policy), 'policy'
//         (the callback policy), 'service' (adapters, check core, decision validation, stores),
//         'forwarding' (Envoy or nginx, before ext-authz is asked) or 'reserved' (not produced yet);
//   fix   what an operator does about it;
//   hint  the static hint a deny carries to the client (x-callback-hint), when the policy sets one.
// A new code needs all three parts before the docs can be generated; the generator names any that lack them.

/** What docs/reason-codes.md says about a code besides its status and meaning. */
export interface ReasonDoc {
  by: 'facts' | 'policy' | 'service' | 'forwarding' | 'reserved';
  fix: string;
  hint?: 'restart-login';
}

export const REASONS = {
  // -- mix-up / issuer (docs/threat-model.md §1)
  issuer_mismatch: [
    403, 'iss / id_token iss / SAML Issuer differs from the issuer the flow was pinned to',
    { by: 'policy', fix: 'Usually an attack (OAuth mix-up), so nothing to fix. If real callbacks hit it, compare each backend\'s `issuer` with the exact `iss` its IdP sends (scheme, host, path, trailing slash) and the SAML `saml_entity_id` with the `<Issuer>` in its responses.' },
  ],
  iss_required: [
    403, 'the issuer supports RFC 9207 but the callback carries no iss',
    { by: 'policy', fix: 'The backend is marked `iss_parameter_supported: true` but the callback carried no `iss`. Turn on RFC 9207 `iss` at that IdP, or set `iss_parameter_supported: false` if it really never sends it.' },
  ],
  issuer_unknown: [
    403, 'iss names no issuer in the registry',
    { by: 'policy', fix: 'If the issuer is yours, add it under `issuers:` with its backend, algs and keys. Otherwise the deny is right.' },
  ],
  duplicate_param: [
    400, 'a parameter appears more than once',
    { by: 'facts', fix: 'A client or proxy sent one parameter twice. Fix the sender; a repeated parameter is never guessed at.' },
  ],
  // -- state / flow binding (§2)
  state_missing: [
    400, 'no state / RelayState on a callback',
    { by: 'policy', fix: 'The callback has no `state` (or RelayState). Make the client send one; for IdP-initiated SAML, allow-list the (issuer, ACS) pair under `idp_initiated_saml`.' },
  ],
  state_unknown: [
    403, 'state resolves to no pin',
    { by: 'policy', fix: 'No pin matches the state. Check that the backend records its flows (the Pin API, or signed state envelopes under its `state_keys` key), that all replicas share one pin store (`--redis`), and that `pin_ttl_s` covers a real login. A flood of these is an attack.' },
  ],
  state_expired: [
    403, 'the pin expired; restart the login',
    { by: 'facts', fix: 'The login took longer than the connection\'s `pin_ttl_s`. Raise `pin_ttl_s` if real logins take that long; the user starts again.', hint: 'restart-login' },
  ],
  state_replayed: [
    403, 'the pin was already consumed',
    { by: 'facts', fix: 'The pin was already used: a double submit or a replay. If a proxy retries callbacks, stop it retrying non-idempotent requests.' },
  ],
  state_bad_mac: [
    403, 'signed state envelope failed verification',
    { by: 'facts', fix: 'A signed state envelope (or cookie hint) did not verify. If real flows hit it, the backend signs with another key than the registry\'s `state_keys` entry for it (rotate both together); otherwise it is tampering.' },
  ],
  error_response: [
    200, 'an OAuth error callback routed to the flow initiator',
    { by: 'policy', fix: 'Nothing: the IdP answered `error=…`, and the callback goes to the backend that started the flow so it can clean up and tell the user.' },
  ],
  response_mode_mismatch: [
    403, 'callback response mode differs from the pinned one',
    { by: 'policy', fix: 'The callback arrived as a GET where the flow was pinned for form_post, or the other way round. Make the response mode the backend pins with match what it asks the IdP for.' },
  ],
  non_canonical_encoding: [
    400, 'a MAC, signature, token or SAML response is not in its one canonical encoding (other alphabet, padding, whitespace or unused bits set)',
    { by: 'facts', fix: 'A MAC, signature, token or SAML response came in a non-canonical spelling of its encoding (another base64 alphabet, padding, whitespace, unused bits). Make the sender emit the canonical form; a second spelling of a spent value is how replays hide.' },
  ],
  // -- code injection / replay (§3)
  code_replayed: [
    403, 'the same authorization code was seen before',
    { by: 'facts', fix: 'The same authorization code came twice (within 10 minutes). A double submit or a replay; stop proxies from retrying callbacks.' },
  ],
  code_injection_out_of_scope: [
    200, 'a valid state with a foreign code: the backend must enforce PKCE/nonce',
    { by: 'reserved', fix: 'Nothing at the proxy: it cannot tell a stolen code under the attacker\'s own valid state. The backends must enforce PKCE or the nonce (docs/threat-model.md, T-C2).' },
  ],
  ambiguous_param_location: [
    400, 'a parameter appears in both query and body',
    { by: 'facts', fix: 'A parameter came in both the query and the body. Fix the sender; the proxy never picks one.' },
  ],
  no_mirror_nonidempotent: [
    200, 'shadow stage: the candidate decision is logged, never mirrored',
    { by: 'policy', fix: 'Nothing: in the shadow stage the candidate decision is logged and the callback is forwarded once, never mirrored.' },
  ],
  open_redirect: [
    400, 'a return target is not a same-origin https URL or path (checked after normalising the path)',
    { by: 'facts', fix: 'A return parameter (`return_params`) points off-site. If the target is yours, send a relative path; otherwise the deny is right.' },
  ],
  rate_limited: [
    429, 'too many callbacks with an unknown state from this source or for this connection',
    { by: 'facts', fix: 'A source (or, from many sources, a whole connection) sent more callbacks whose state resolved to nothing than `limits.unknown_states_per_source_per_min` / `unknown_states_per_connection_per_min` allow: usually a flood, refused before the pin lookup. `callback_proxy_unknown_state_limited_total` says which; raise the limits only if real logins hit them. Signed-envelope logins are never limited.' },
  ],
  // -- redirect / RelayState (§4)
  relaystate_not_opaque: [
    400, 'RelayState is a URL, not an opaque handle',
    { by: 'facts', fix: 'RelayState holds a URL. Make the service provider send an opaque handle (the key its pin is stored under).' },
  ],
  relaystate_too_long: [
    400, 'RelayState longer than 80 bytes',
    { by: 'facts', fix: 'RelayState is longer than `limits.max_relay_state_bytes` (80, as the SAML bindings require). Shorten it at the service provider.' },
  ],
  unexpected_param: [
    400, 'a parameter that may influence routing is not expected here',
    { by: 'facts', fix: 'A parameter this route does not expect, and one that could steer routing. If a real client needs it, add it to the connection\'s `allowed_params` (never `redirect_uri`).' },
  ],
  unsolicited_saml: [
    403, 'IdP-initiated SAML response not allow-listed for this stage',
    { by: 'policy', fix: 'An IdP-initiated SAML response. If you accept those, allow-list the (issuer, ACS) pair under the connection\'s `idp_initiated_saml`.' },
  ],
  saml_malformed: [
    400, 'SAMLResponse is not base64 XML, or it declares a DTD or entities',
    { by: 'facts', fix: 'SAMLResponse is not base64 XML, or it declares a DTD or entities. Check the IdP uses the HTTP-POST binding; never allow DTDs.' },
  ],
  saml_multiple_assertions: [
    400, 'the SAML response holds more than one Assertion or EncryptedAssertion',
    { by: 'facts', fix: 'A response with several assertions (a signature-wrapping trick). Fix the IdP if it is yours; otherwise the deny is right.' },
  ],
  saml_assertion_misplaced: [
    400, 'an Assertion or EncryptedAssertion that is not a direct child of the Response (e.g. inside Extensions)',
    { by: 'facts', fix: 'An assertion hidden somewhere other than directly under the Response (signature wrapping). Nothing to configure: the deny is right.' },
  ],
  saml_issuer_namespace: [
    400, 'an Issuer or Assertion element outside the SAML 2.0 assertion namespace',
    { by: 'facts', fix: 'An Issuer or Assertion in a foreign XML namespace. Check the IdP emits SAML 2.0; otherwise the deny is right.' },
  ],
  saml_issuer_ambiguous: [
    400, 'more than one Issuer where one belongs, an Issuer elsewhere, or an Issuer text split by comments or CDATA',
    { by: 'facts', fix: 'The Issuer cannot be read one way only (several, misplaced, or split by comments/CDATA). Fix the IdP if it is yours; otherwise it is an attack.' },
  ],
  saml_issuer_conflict: [
    403, 'the Response Issuer and the Assertion Issuer differ',
    { by: 'facts', fix: 'The Response and its Assertion name different issuers. Check the IdP\'s entity ID settings; otherwise it is an attack.' },
  ],
  // -- host / forwarding headers (§5)
  host_not_allowed: [
    403, 'Host / :authority matches no connection',
    { by: 'facts', fix: 'No connection lists this Host. If it is yours, add it to the connection\'s `hosts` (exact, lower-case, no default port).' },
  ],
  duplicate_host: [
    400, 'more than one Host',
    { by: 'facts', fix: 'Two Host headers. Fix the sender; Envoy should reject these before ext-authz is asked.' },
  ],
  ignored_forwarding_header: [
    200, 'client X-Forwarded-Host / Forwarded / X-Original-URL ignored and stripped',
    { by: 'policy', fix: 'Nothing: a client-sent X-Forwarded-Host, Forwarded, X-Original-URL or X-Rewrite-URL was ignored and removed. Keep them in `strip_headers` so the forwarding layer drops them too.' },
  ],
  ignored_routing_header: [
    200, 'client routing header ignored and stripped',
    { by: 'policy', fix: 'Nothing: a client-sent routing header was ignored and removed; only the decision sets it.' },
  ],
  authority_mismatch: [
    400, 'absolute-form request target differs from Host',
    { by: 'facts', fix: 'An absolute-form request target names another host than Host. Fix the sender.' },
  ],
  source_ip_denied: [
    403, 'source address not on the route allow-list',
    { by: 'facts', fix: 'The webhook sender\'s address is not in the connection\'s `webhook.source_cidrs`. Add the sender\'s ranges, and make sure Envoy reports the real peer (`use_remote_address: true`).' },
  ],
  bad_header: [
    400, 'malformed header name',
    { by: 'facts', fix: 'A header name with an underscore or another byte HTTP does not allow. Fix the sender; have Envoy reject them (`headers_with_underscores_action: REJECT_REQUEST`).' },
  ],
  // -- path (§6)
  not_callback_route: [
    403, 'path is not an exact callback route',
    { by: 'policy', fix: 'The path is not one of the connection\'s exact routes. If it is a callback, add the exact path under the connection\'s `routes`.' },
  ],
  encoded_slash: [
    400, '%2F or %5C in the path',
    { by: 'facts', fix: '%2F or %5C in the path. Fix the sender; keep Envoy\'s path normalisation as in envoy/envoy.yaml.' },
  ],
  path_param: [
    400, '; in the path',
    { by: 'facts', fix: 'A `;` in the path (matrix parameters, which some Java servers strip). Fix the sender.' },
  ],
  double_encoding: [
    400, '%25 in the path',
    { by: 'facts', fix: '%25 in the path (double encoding). Fix the sender.' },
  ],
  bad_path: [
    400, 'NUL, control or non-ASCII bytes in the path',
    { by: 'facts', fix: 'NUL, control or non-ASCII bytes in the path. Fix the sender.' },
  ],
  // -- sizes (§8)
  headers_too_large: [
    431, 'header section over the limit',
    { by: 'forwarding', fix: 'Answered by the forwarding layer (Envoy `max_request_headers_kb`) before ext-authz is asked. Raise the limit there only if real requests hit it.' },
  ],
  body_too_large: [
    413, 'body over the limit',
    { by: 'service', fix: 'The body is over `limits.max_body_bytes` (ext-authz) or Envoy\'s `max_request_bytes`. If real SAML responses are larger, raise both together.' },
  ],
  param_too_long: [
    400, 'a parameter is over its length limit',
    { by: 'facts', fix: 'A parameter is over its limit (`limits.max_state_bytes`, `max_code_bytes`, `max_token_bytes`). Raise it only if a real IdP sends longer values.' },
  ],
  too_many_params: [
    400, 'more parameters than allowed',
    { by: 'facts', fix: 'More parameters than `limits.max_params`. Raise it only if a real client sends that many.' },
  ],
  body_truncated: [
    400, 'the body reached ext-authz truncated',
    { by: 'facts', fix: 'The body reached ext-authz cut short. Set `allow_partial_message: false` and a `max_request_bytes` big enough for the callbacks (`callback-proxy envoy lint` checks both).' },
  ],
  // -- tokens (§9)
  alg_not_allowed: [
    403, 'token alg not on the issuer allow-list',
    { by: 'facts', fix: 'The token\'s alg is not in its issuer\'s `algs`. Add it only if the IdP really signs with it (never `none` or an HS alg).' },
  ],
  kid_unknown: [
    403, 'kid names no key in the issuer JWKS',
    { by: 'facts', fix: 'The token\'s kid is not among its issuer\'s keys. With `jwks_uri`, a new key is fetched on the next unknown kid after a 30 s cooldown; with inline `jwks`, add the key.' },
  ],
  key_source_not_allowed: [
    403, 'token names its own key (jku/x5u/jwk)',
    { by: 'facts', fix: 'The token names its own key (jku, x5u or an embedded jwk); keys only ever come from the registry. Configure the IdP not to send these headers.' },
  ],
  token_expired: [
    403, 'exp in the past beyond skew',
    { by: 'facts', fix: '`exp` is in the past by more than the issuer\'s `clock_skew_s`. Check the clocks (NTP) of the IdP and of ext-authz.' },
  ],
  token_not_yet_valid: [
    403, 'nbf or iat in the future beyond skew',
    { by: 'facts', fix: '`nbf` or `iat` is in the future by more than the issuer\'s `clock_skew_s`. Check the clocks (NTP) of the IdP and of ext-authz.' },
  ],
  token_too_old: [
    403, 'iat older than the maximum token age for its use',
    { by: 'facts', fix: '`iat` is older than the issuer\'s `max_token_age_s` for this use allows. Check the IdP\'s clock and the token lifetime; raise the limit only if the IdP really issues long-lived tokens of this kind.' },
  ],
  token_claim_missing: [
    403, 'a claim the token use requires is absent (exp, iat, sub/sid, jti, azp with several audiences, client_id)',
    { by: 'facts', fix: 'The token lacks a claim its use requires (exp, iat, sub or sid, jti, azp, client_id). Configure the IdP to issue it; the proxy never fills one in.' },
  ],
  aud_mismatch: [
    403, 'aud is not the expected audience',
    { by: 'facts', fix: 'The token is not for this audience. If it is meant for this client, add the audience to the issuer\'s `audiences`.' },
  ],
  legacy_issuer_retired: [
    403, 'a legacy-issued token after the stage retired it',
    { by: 'policy', fix: 'A legacy-issued token after the stage retired them (`retired`, `decommissioned`, or past the backend\'s `retire_tokens_at`). Expected late in a migration: the user signs in again at the new IdP.' },
  ],
  typ_mismatch: [
    403, 'token typ does not fit where it was presented',
    { by: 'facts', fix: 'The token\'s `typ` does not fit where it was presented (a logout token as an ID token, …). Set the issuer\'s `typ` to what the IdP sends; a token of one use presented as another is an attack.' },
  ],
  jti_replayed: [
    403, 'a one-shot token jti seen before',
    { by: 'facts', fix: 'A one-shot token came twice. The caller must send a fresh token each time.' },
  ],
  token_malformed: [
    400, 'token is not a well-formed JWS',
    { by: 'facts', fix: 'Not a well-formed JWS, or over `limits.max_token_bytes`. Fix the caller.' },
  ],
  token_invalid: [
    403, 'token signature or claims failed verification',
    { by: 'facts', fix: 'The signature or a claim did not verify. Check the issuer\'s keys (`jwks` or `jwks_uri`) are the IdP\'s current ones.' },
  ],
  token_missing: [
    401, 'a token is required on this route',
    { by: 'policy', fix: 'This route needs a bearer token. The caller must send `Authorization: Bearer …`.' },
  ],
  jwks_unavailable: [
    503, 'the issuer keys could not be fetched and the stale window passed',
    { by: 'facts', fix: 'The issuer\'s key set could not be fetched and the cached one is gone. Check that ext-authz can reach the `jwks_uri`; checks that need it fail closed until it can.' },
  ],
  // -- webhooks (§11)
  webhook_replay: [
    403, 'webhook id seen before',
    { by: 'facts', fix: 'A webhook id (or GitHub delivery id) seen before: a redelivery or a replay. Senders must not resend a delivered webhook under the same id.' },
  ],
  webhook_stale: [
    403, 'webhook timestamp outside tolerance',
    { by: 'facts', fix: 'The webhook timestamp is further from now than `webhook.tolerance_s`. Check the clocks; raise the tolerance only a little.' },
  ],
  bad_signature: [
    403, 'webhook signature did not verify',
    { by: 'facts', fix: 'The webhook signature did not verify over the raw body. Check the connection\'s `webhook.secrets` hold the sender\'s current secret.' },
  ],
  bad_webhook_id: [
    400, 'webhook id contains forbidden characters',
    { by: 'facts', fix: 'The webhook id has characters that could shift the signed content (such as `.`). Fix the sender.' },
  ],
  secret_retired: [
    403, 'signed only with a retired secret',
    { by: 'facts', fix: 'Signed only with a secret past its `retire_at`. Make the sender sign with the current secret.' },
  ],
  bad_notification_token: [
    403, 'CIBA notification token or auth_req_id unknown',
    { by: 'reserved', fix: 'Not produced yet: CIBA ping callbacks are not implemented (docs/threat-model.md, T-W7).' },
  ],
  logout_fail_safe: [
    200, 'verified logout routed to the session owner at any stage',
    { by: 'policy', fix: 'Nothing: a verified back-channel logout goes to the owner of the session at every stage.' },
  ],
  // -- tenants (§12)
  tenant_mismatch: [
    403, 'the flow or key belongs to another tenant',
    { by: 'policy', fix: 'The flow or the verifying key belongs to another tenant. Check the connections\' `tenant` and webhook secret tenants; otherwise it is an attack.' },
  ],
  tenant_not_allowed: [
    403, 'token tenant not on the allow-list',
    { by: 'facts', fix: 'The token\'s tenant is not on its issuer\'s `tenants` list. Add it if the tenant is yours.' },
  ],
  client_id_unknown: [
    403, "client_id is not one of the connection's registered client_ids",
    { by: 'facts', fix: 'The client_id is not in the connection\'s `client_ids`. Register it there if it is yours (a canary keyed by client_id only places registered clients).' },
  ],
  identity_mapping_required: [
    403, 'cross-backend identity must come from the mapping table',
    { by: 'reserved', fix: 'Not produced yet: the proxy never links accounts; identities map across backends by (iss, sub) in the migration tooling.' },
  ],
  // -- downgrade / stale (§13, §14)
  downgrade_blocked: [
    403, 'client attempt to force the legacy backend',
    { by: 'policy', fix: 'Nothing: a client tried to force the legacy IdP (`idp=`, `domain_hint=`, …) after it stopped taking new flows, and was ignored or denied.' },
  ],
  policy_unsigned: [
    403, 'stage change or bundle without a valid signature',
    { by: 'reserved', fix: 'Not produced yet: signed stage changes and policy bundles are future work (docs/threat-model.md, T-D3).' },
  ],
  rollback_requires_approval: [
    403, 'rollback without approval',
    { by: 'reserved', fix: 'Not produced yet: approvals for stage changes belong to the control plane (docs/threat-model.md, T-D5).' },
  ],
  proxy_sunset_exceeded: [
    403, 'past the connection sunset: legacy routes are closed',
    { by: 'policy', fix: 'The connection is past its `sunset_at`: legacy routes are closed. Finish the migration (stage `retired`, then remove the proxy), or move `sunset_at` on purpose.' },
  ],
  policy_stale: [
    503, 'policy older than max_age',
    { by: 'reserved', fix: 'Not produced yet: policies are local files, hot-reloaded; bundle age limits are future work (docs/threat-model.md, T-X3).' },
  ],
  authz_unavailable: [
    403, 'ext-authz unreachable',
    { by: 'service', fix: 'ext-authz is not ready: still loading, its policy bundle not activated yet, or draining for a stop. Wait for `/readyz` (`?verbose` shows each bundle and its last error); if it stays, the log says why the load failed.' },
  ],
  // -- routing outcomes (allow / rewrite reasons)
  pinned_legacy: [
    200, 'flow pinned to the legacy backend',
    { by: 'policy', fix: 'Nothing: the flow started at the legacy backend and goes back there.' },
  ],
  pinned_new: [
    200, 'flow pinned to the new backend',
    { by: 'policy', fix: 'Nothing: the flow started at the new backend and goes back there.' },
  ],
  stage_legacy: [
    200, 'new flow: the stage routes to legacy',
    { by: 'policy', fix: 'Nothing: a new flow, and the stage sends new flows to legacy.' },
  ],
  stage_new: [
    200, 'new flow: the stage routes to new',
    { by: 'policy', fix: 'Nothing: a new flow, and the stage sends new flows to new.' },
  ],
  canary_cohort: [
    200, 'new flow: canary cohort bucket chose the backend',
    { by: 'policy', fix: 'Nothing: a new flow in a canary, placed by its keyed cohort bucket (`canary_percent`, `cohort_key`).' },
  ],
  drain_expired: [
    403, 'legacy flow after drain_until; restart the login',
    { by: 'policy', fix: 'A legacy flow after the connection\'s `drain_until`. Expected after a cutover; if many users are caught mid-login, move `drain_until` later.', hint: 'restart-login' },
  ],
  backend_retired: [
    403, 'the pinned backend is retired at this stage',
    { by: 'policy', fix: 'The flow is pinned to a backend this stage no longer routes to. Expected after a stage change; the user starts again.' },
  ],
  proxy_decommissioned: [
    403, 'stage decommissioned: the proxy should be gone',
    { by: 'policy', fix: 'The connection is `decommissioned`: the proxy should no longer be in the path. Remove it (docs/stages.md).' },
  ],
  backend_not_live: [
    403, 'the pinned backend takes no traffic at this stage (e.g. new during observe)',
    { by: 'policy', fix: 'The flow is pinned to a backend that takes no traffic at this stage (e.g. new during observe). Advance the stage, or stop that backend pinning flows yet.' },
  ],
  token_issuer: [
    200, "a verified token routed to its issuer's backend",
    { by: 'policy', fix: 'Nothing: a verified token goes to its issuer\'s backend.' },
  ],
  // -- fail-closed internals
  policy_error: [
    403, 'policy evaluation failed',
    { by: 'service', fix: 'The policy failed while evaluating. The log line and `callback_proxy_policy_errors_total` count it; reproduce with `callback-proxy check` and `callback-proxy policy test`.' },
  ],
  policy_timeout: [
    403, 'policy evaluation exceeded its deadline',
    { by: 'service', fix: 'The evaluation passed its deadline or step budget. Find the slow rule (`npm run bench:rego`, `callback-proxy rego eval`) and simplify it.' },
  ],
  policy_undefined: [
    403, 'the policy produced no decision',
    { by: 'service', fix: 'The decision path is undefined for this input. Check `--decision` names the policy\'s decision, and give the policy a default decision.' },
  ],
  invalid_decision: [
    403, 'the policy decision is malformed',
    { by: 'service', fix: 'The policy\'s answer is malformed (an unknown action or reason code, a header it may not set, …). Test the policy\'s decisions; the decision log shows the answer.' },
  ],
  backend_not_allowed: [
    403, 'the decision names a backend outside the connection allow-list',
    { by: 'service', fix: 'The decision names a backend outside the connection. Fix the policy, or the connection\'s `backends`.' },
  ],
  policy_ignored_violation: [
    403, 'the policy allowed a request the parser had rejected',
    { by: 'service', fix: 'The policy allowed a request the facts phase had rejected, or a flow pinned elsewhere. Fix the policy: a facts violation must end in a deny.' },
  ],
  store_unavailable: [
    503, 'the pin store could not be reached',
    { by: 'service', fix: 'The pin store could not be reached. Check the `--redis` URL and the Redis server; checks that need it fail closed until it is back.' },
  ],
  replay_budget_exhausted: [
    503, 'the store holds as many one-time markers of this kind as its budget allows: new flows wait until held ones expire',
    { by: 'service', fix: 'A marker class (named in the `replay_budget_exhausted` log line) is at its budget; nothing is evicted, so new flows are refused until held markers expire. Raise its `limits.max_*_markers` (and Redis `maxmemory`), or find what produces that many flows. With `class: memory`, Redis itself is full.' },
  ],
  store_data_lost: [
    403, 'issued before the replay store lost its data, so one-time use cannot be proven; restart the login',
    { by: 'facts', fix: 'The replay store lost its data (Redis restarted empty or from an old file; the memory store restarted) and this flow, token or webhook predates the loss. Users restart the login; webhook senders retry. Keep Redis persistent: `appendonly yes`, `maxmemory-policy noeviction` (docs/operations.md, "Redis").', hint: 'restart-login' },
  ],
  stage_unknown: [
    503, "the replica cannot read the connection's stage overrides, so its stage is unknown (docs/stages.md)",
    { by: 'service', fix: 'This replica cannot read the stage overrides in the shared store, so it denies the connection\'s callbacks rather than guess its stage. Restore the shared store (Redis), or `callback-proxy stage reset` an unreadable override; the cockpit and `GET /v1/alarms` show it.' },
  ],
  malformed_request: [
    400, 'the check request could not be read',
    { by: 'service', fix: 'ext-authz could not read the request (no HTTP attributes from Envoy; no X-Original-* or X-Forwarded-* headers from the proxy). Check the forwarding layer\'s ext_authz or forward-auth settings (docs/http-forward-auth.md). With `--mode opa-envoy` it is also what opa-envoy-plugin refuses with 400: a malformed `%` escape or a `;` in the query, or a JSON, form or multipart body that does not parse.' },
  ],
  internal_error: [
    403, 'unexpected failure on the request path',
    { by: 'service', fix: 'A bug in ext-authz. The `check_failed` log line has the decision id, error class and stack frames; report it with them.' },
  ],
  opa_envoy_denied: [
    403, 'an OPA-Envoy-shaped decision denied',
    { by: 'service', fix: 'An OPA-Envoy-shaped policy denied the request. See that policy.' },
  ],
  opa_envoy_allowed: [
    200, 'an OPA-Envoy-shaped decision allowed',
    { by: 'service', fix: 'Nothing: an OPA-Envoy-shaped policy allowed the request.' },
  ],
} as const satisfies Record<string, readonly [number, string] | readonly [number, string, ReasonDoc]>;

export type ReasonCode = keyof typeof REASONS;

export function isReasonCode(x: unknown): x is ReasonCode {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(REASONS, x);
}

/** HTTP status for a deny with this reason (403 when the reason itself is an allow reason). */
export function denyStatus(code: ReasonCode): number {
  const s = REASONS[code][0];
  return s >= 400 ? s : 403;
}
