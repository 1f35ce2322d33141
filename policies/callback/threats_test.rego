# Threat-model rows (docs/threat-model.md) the policy decides (the parser/verifier rows arrive here as violations or token
# errors and are covered by the facts tests; the policy must still deny on them).
package callback_test

import rego.v1

# -- §1 mix-up -------------------------------------------------------------------------------------------
test_t_m1_mixup_iss_of_other_backend if denies(req({"iss": new_iss}, pin_legacy, no_token, {}), "issuer_mismatch")

test_t_m2_iss_stripped_where_supported if denies(req({"iss": null}, pin_new, no_token, {}), "iss_required")

test_t_m2_verified_id_token_of_pinned_issuer_stands_in_for_iss if {
	cb := {"kind": "oidc_form_post", "response_mode": "form_post", "iss": null, "token_location": "id_token"}
	p := object.union(pin_new, {"response_mode": "form_post"})
	routes(req(cb, p, token_from(new_iss, "new", "id_token"), {}), "allow", "new", "pinned_new")
}

test_t_m2_iss_optional_where_unsupported if routes(req({"iss": null}, pin_legacy, no_token, {}), "allow", "legacy", "pinned_legacy")

test_t_m3_trailing_slash_lookalike if denies(req({"iss": "https://new-idp.example.com/"}, pin_new, no_token, {}), "issuer_mismatch")

test_t_m3_case_lookalike if denies(req({"iss": "HTTPS://NEW-IDP.example.com"}, pin_new, no_token, {}), "issuer_mismatch")

test_t_m4_id_token_from_other_issuer if {
	cb := {"kind": "oidc_form_post", "response_mode": "form_post", "iss": null, "token_location": "id_token"}
	p := object.union(pin_legacy, {"response_mode": "form_post"})
	denies(req(cb, p, token_from(new_iss, "new", "id_token"), {}), "issuer_mismatch")
}

test_t_m4_id_token_from_pinned_issuer if {
	cb := {"kind": "oidc_form_post", "response_mode": "form_post", "iss": null, "token_location": "id_token"}
	p := object.union(pin_legacy, {"response_mode": "form_post"})
	routes(req(cb, p, token_from(legacy_iss, "legacy", "id_token"), {}), "allow", "legacy", "pinned_legacy")
}

test_t_m5_unknown_issuer_any_state if {
	denies(req({"iss": "https://attacker.example"}, pin_new, no_token, {}), "issuer_unknown")
	denies(req({"iss": "https://attacker.example"}, no_pin, no_token, {}), "issuer_unknown")
}

test_t_m6_duplicate_iss_violation if denies(req({"violations": ["duplicate_param"]}, pin_new, no_token, {}), "duplicate_param")

saml_cb(issuer) := {
	"kind": "saml_post", "route": "/saml/acs", "response_mode": null, "state_present": false,
	"relay_state_present": true, "relay_state_hash": "cmVsYXk", "code_present": false,
	"saml": {"issuer": issuer, "in_response_to": "_req1", "destination": "https://auth.example.com/saml/acs"},
}

test_t_m7_saml_issuer_vs_relaystate_pin if denies(req(saml_cb(new_iss), pin_legacy, no_token, {}), "issuer_mismatch")

test_t_m7_saml_issuer_matches_pin if routes(req(saml_cb(legacy_iss), pin_legacy, no_token, {}), "allow", "legacy", "pinned_legacy")

test_t_m7_saml_entity_id_of_backend if {
	entity := "urn:legacy:idp"
	mig := {"issuers": {entity: {"backend": "legacy", "iss_parameter_supported": false}}}
	routes(req(saml_cb(entity), pin_legacy, no_token, mig), "allow", "legacy", "pinned_legacy")
	denies(req(saml_cb("urn:new:idp"), pin_legacy, no_token, mig), "issuer_mismatch")
	denies(req(saml_cb(null), pin_legacy, no_token, mig), "issuer_mismatch")
}

# -- §2 state / flow binding ------------------------------------------------------------------------------
test_t_s1_missing_state if denies(req({"state_present": false, "state_hash": null}, no_pin, no_token, {}), "state_missing")

test_t_s2_unknown_state if denies(req({"iss": new_iss}, no_pin, no_token, {}), "state_unknown")

test_t_s2_cookie_hint_alone_is_not_a_pin if {
	p := object.union(pin_new, {"source": "cookie"})
	denies(req({"iss": new_iss}, p, no_token, {}), "state_unknown")
}

test_t_s2_non_strict_unpinned_goes_legacy if {
	routes(req({"iss": legacy_iss}, no_pin, no_token, {"require_pin": false}), "allow", "legacy", "pinned_legacy")
}

test_non_strict_cookie_hint_names_the_backend if {
	p := object.union(no_pin, {"hint_backend": "new"})
	routes(req({"iss": new_iss}, p, no_token, {"require_pin": false}), "allow", "new", "pinned_new")
}

test_strict_cookie_hint_alone_is_not_enough if {
	p := object.union(no_pin, {"hint_backend": "new"})
	denies(req({"iss": new_iss}, p, no_token, {}), "state_unknown")
}

test_t_s3_expired_pin_restart_hint if {
	inp := req({"iss": legacy_iss}, object.union(pin_legacy, {"expired": true}), no_token, {})
	denies(inp, "state_expired")
	decide(inp).response_headers["x-callback-hint"] == "restart-login"
}

test_t_s4_replayed_state if denies(req({"iss": new_iss}, object.union(pin_new, {"consumed_before": true}), no_token, {}), "state_replayed")

test_t_s5_bad_mac_envelope if {
	p := object.union(no_pin, {"error": "state_bad_mac", "source": "envelope"})
	denies(req({"iss": new_iss}, p, no_token, {}), "state_bad_mac")
}

test_t_s6_error_callback_reaches_initiator_within_drain if {
	mig := {"stage": "cutover", "drain_until": "2027-01-01T00:00:00Z", "drained": false}
	inp := req({"iss": legacy_iss, "error": "access_denied", "code_present": false}, pin_legacy, no_token, mig)
	routes(inp, "allow", "legacy", "error_response")
	has_reason(inp, "pinned_legacy")
}

test_t_s7_error_callback_without_state if {
	inp := req({"error": "server_error", "state_present": false, "code_present": false}, no_pin, no_token, {})
	denies(inp, "state_missing")
}

test_t_s8_response_mode_mismatch if {
	p := object.union(pin_new, {"response_mode": "form_post"})
	denies(req({"iss": new_iss}, p, no_token, {}), "response_mode_mismatch")
}

# -- §3 code injection / mirroring ----------------------------------------------------------------------
test_t_c1_code_replayed_violation if denies(req({"iss": new_iss, "violations": ["code_replayed"]}, pin_new, no_token, {}), "code_replayed")

# T-C2: a valid attacker state with a victim's code looks like any good callback; the proxy cannot
# tell (code_injection_out_of_scope) — the backend must enforce PKCE / nonce.
test_t_c2_code_injection_out_of_scope_routes_to_pin if routes(new_cb(at("canary")), "allow", "new", "pinned_new")

test_t_c3_ambiguous_location_violation if {
	denies(req({"kind": "oidc_form_post", "violations": ["ambiguous_param_location"]}, pin_new, no_token, {}), "ambiguous_param_location")
}

test_t_c4_shadow_never_mirrors if {
	inp := new_cb(at("shadow"))
	routes(inp, "allow", "new", "pinned_new")
	has_reason(inp, "no_mirror_nonidempotent")
}

test_t_c5_open_redirect_violation if denies(req({"violations": ["open_redirect"]}, no_pin, no_token, {}), "open_redirect")

# -- §4 RelayState / SAML ----------------------------------------------------------------------------------
test_t_r1_relaystate_url_violation if denies(req({"kind": "saml_post", "violations": ["relaystate_not_opaque"]}, no_pin, no_token, {}), "relaystate_not_opaque")

test_t_r4_unexpected_param_violation if denies(req({"violations": ["unexpected_param"]}, pin_new, no_token, {}), "unexpected_param")

unsolicited := object.union(saml_cb(new_iss), {"relay_state_present": false, "relay_state_hash": null, "saml": {"in_response_to": null}})

test_t_r5_unsolicited_saml_denied if denies(req(unsolicited, no_pin, no_token, {}), "unsolicited_saml")

test_t_r5_unsolicited_saml_allow_listed_goes_to_stage_target if {
	mig := {"stage": "cutover", "idp_initiated_saml": [{"issuer": new_iss, "acs": "/saml/acs"}]}
	routes(req(unsolicited, no_pin, no_token, mig), "rewrite", "new", "stage_new")
}

test_t_r5_saml_without_relaystate_but_in_response_to if {
	cb := object.union(saml_cb(new_iss), {"relay_state_present": false, "relay_state_hash": null})
	denies(req(cb, no_pin, no_token, {}), "state_missing")
}

# -- §5 headers ------------------------------------------------------------------------------------------------
test_t_h3_forwarding_header_ignored if {
	inp := object.union(new_cb(at("canary")), {"ignored_headers": ["x-forwarded-host"]})
	routes(inp, "allow", "new", "pinned_new")
	has_reason(inp, "ignored_forwarding_header")
}

test_t_h4_routing_header_ignored if {
	inp := object.union(legacy_cb(at("canary")), {"ignored_headers": ["x-callback-backend"]})
	routes(inp, "allow", "legacy", "pinned_legacy")
	has_reason(inp, "ignored_routing_header")
}

# -- §9 tokens ---------------------------------------------------------------------------------------------------
test_t_j_token_error_denies if {
	tk := object.union(no_token, {"present": true, "verified": false, "error": "alg_not_allowed"})
	denies(req({"kind": "agent", "state_present": false, "code_present": false}, no_pin, tk, {}), "alg_not_allowed")
}

test_t_j_unverified_token_without_code_denies if {
	tk := object.union(no_token, {"present": true, "verified": false})
	denies(req({"kind": "agent", "state_present": false, "code_present": false}, no_pin, tk, {}), "token_invalid")
}

test_t_j_agent_without_token if denies(req({"kind": "agent", "state_present": false}, no_pin, no_token, {}), "token_missing")

test_t_j8_token_of_other_trusted_issuer_on_pinned_flow if {
	cb := {"kind": "oidc_form_post", "response_mode": "form_post", "token_location": "id_token"}
	p := object.union(pin_new, {"response_mode": "form_post"})
	denies(req(cb, p, token_from(legacy_iss, "legacy", "id_token"), {}), "issuer_mismatch")
}

test_t_j9_legacy_issuer_after_grace if denies(agent_call(legacy_iss, "legacy", at("retired")), "legacy_issuer_retired")

# -- §11 webhooks / logout ---------------------------------------------------------------------------------------
logout_call(mig) := req(
	{"kind": "logout", "route": "/backchannel-logout", "state_present": false, "code_present": false, "response_mode": null},
	no_pin, token_from(legacy_iss, "legacy", "logout_token"), mig,
)

test_t_w8_legacy_logout_at_retired_is_fail_safe if routes(logout_call(at("retired")), "allow", "legacy", "logout_fail_safe")

test_t_w1_webhook_replay_violation if denies(req({"kind": "webhook", "violations": ["webhook_replay"]}, no_pin, no_token, {}), "webhook_replay")

test_webhook_follows_stage if routes(req({"kind": "webhook", "route": "/hooks", "state_present": false}, no_pin, no_token, at("cutover")), "rewrite", "new", "stage_new")

# -- §12 tenants -----------------------------------------------------------------------------------------------
test_t_t1_state_pinned_on_other_connection if {
	p := object.union(pin_new, {"connection": "other-tenant"})
	denies(req({"iss": new_iss}, p, no_token, {}), "tenant_mismatch")
}

test_pin_to_backend_outside_connection if {
	p := object.union(pin_new, {"backend": "elsewhere"})
	denies(req({"iss": new_iss}, p, no_token, {}), "backend_not_allowed")
}

# -- §13 downgrade ------------------------------------------------------------------------------------------------
test_t_d1_client_forced_legacy_ignored if {
	inp := object.union(login(at("cutover")), {"parsed_query": {"idp": ["legacy"]}})
	routes(inp, "rewrite", "new", "stage_new")
	has_reason(inp, "downgrade_blocked")
}

test_t_d2_legacy_pin_created_after_drain if {
	p := object.union(pin_legacy, {"created_at_ms": 1777593600000}) # 2026-05-01, after the 2026-03-01 drain
	denies(req({"iss": legacy_iss}, p, no_token, drained_at("cutover")), "downgrade_blocked")
}

test_t_d4_rollback_keeps_new_pins_on_new if routes(new_cb(at("rollback")), "allow", "new", "pinned_new")

# -- §14 stale proxy ---------------------------------------------------------------------------------------------
test_t_x1_sunset_denies_legacy if denies(legacy_cb({"stage": "cutover", "sunset_exceeded": true}), "proxy_sunset_exceeded")

# -- structure -----------------------------------------------------------------------------------------------------
test_not_callback_kind if denies(req({"kind": "other", "route": null}, no_pin, no_token, {}), "not_callback_route")

test_violations_keep_their_order if {
	d := decide(req({"violations": ["encoded_slash", "duplicate_param"]}, pin_new, no_token, {}))
	d.reasons == ["encoded_slash", "duplicate_param"]
}

test_allow_decisions_are_complete if {
	d := decide(new_cb(at("canary")))
	d.http_status == 200
	d.headers == {}
	d.pin == null
	d.dynamic_metadata.connection == "demo"
}
