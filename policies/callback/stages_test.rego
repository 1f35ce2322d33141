# The stage table (docs/stages.md, "The stages"), one test per cell: pinned legacy, pinned new, new flows, legacy-issued tokens,
# plus drain deadlines and sunset.
package callback_test

import rego.v1

# -- pinned legacy ---------------------------------------------------------------------------------
test_observe_pinned_legacy if routes(legacy_cb(at("observe")), "allow", "legacy", "pinned_legacy")

test_shadow_pinned_legacy if routes(legacy_cb(at("shadow")), "allow", "legacy", "pinned_legacy")

test_canary_pinned_legacy if routes(legacy_cb(at("canary")), "allow", "legacy", "pinned_legacy")

test_cutover_pinned_legacy_within_drain if {
	routes(legacy_cb({"stage": "cutover", "drain_until": "2027-01-01T00:00:00Z", "drained": false}), "allow", "legacy", "pinned_legacy")
}

test_cutover_pinned_legacy_after_drain if {
	inp := legacy_cb(drained_at("cutover"))
	denies(inp, "drain_expired")
	decide(inp).response_headers["x-callback-hint"] == "restart-login"
}

test_rollback_pinned_legacy if routes(legacy_cb(at("rollback")), "allow", "legacy", "pinned_legacy")

test_retired_pinned_legacy if denies(legacy_cb(at("retired")), "backend_retired")

test_decommissioned_pinned_legacy if {
	denies(legacy_cb(at("decommissioned")), "backend_retired")
	has_reason(legacy_cb(at("decommissioned")), "proxy_decommissioned")
}

# -- pinned new ------------------------------------------------------------------------------------
test_observe_pinned_new if denies(new_cb(at("observe")), "backend_not_live")

test_shadow_pinned_new if routes(new_cb(at("shadow")), "allow", "new", "pinned_new")

test_canary_pinned_new if routes(new_cb(at("canary")), "allow", "new", "pinned_new")

test_cutover_pinned_new if routes(new_cb(drained_at("cutover")), "allow", "new", "pinned_new")

test_rollback_pinned_new_until_drained if routes(new_cb(at("rollback")), "allow", "new", "pinned_new")

test_rollback_pinned_new_after_drain_never_legacy if denies(new_cb(drained_at("rollback")), "drain_expired")

test_retired_pinned_new if routes(new_cb(at("retired")), "allow", "new", "pinned_new")

test_decommissioned_pinned_new if {
	routes(new_cb(at("decommissioned")), "allow", "new", "pinned_new")
	has_reason(new_cb(at("decommissioned")), "proxy_decommissioned")
}

# -- new flows (login start) ------------------------------------------------------------------------
test_observe_new_flow if routes(login(at("observe")), "allow", "legacy", "stage_legacy")

test_shadow_new_flow if {
	routes(login(at("shadow")), "allow", "legacy", "stage_legacy")
	d := decide(login(at("shadow")))
	d.dynamic_metadata.shadow_candidate == "new"
}

test_canary_new_flow_in_cohort if {
	inp := login({"stage": "canary", "percent": 50, "cohort_bucket": 49})
	routes(inp, "rewrite", "new", "canary_cohort")
	decide(inp).pin == {"backend": "new"}
}

test_canary_new_flow_outside_cohort if {
	inp := login({"stage": "canary", "percent": 50, "cohort_bucket": 50})
	routes(inp, "allow", "legacy", "canary_cohort")
	decide(inp).pin == {"backend": "legacy"}
}

test_canary_new_flow_without_cohort_key if routes(login({"stage": "canary", "cohort_bucket": null}), "allow", "legacy", "canary_cohort")

test_canary_zero_percent if routes(login({"stage": "canary", "percent": 0, "cohort_bucket": 0}), "allow", "legacy", "canary_cohort")

test_canary_hundred_percent if routes(login({"stage": "canary", "percent": 100, "cohort_bucket": 99}), "rewrite", "new", "canary_cohort")

test_cutover_new_flow if routes(login(at("cutover")), "rewrite", "new", "stage_new")

test_rollback_new_flow if routes(login(at("rollback")), "allow", "legacy", "stage_legacy")

test_retired_new_flow if routes(login(at("retired")), "rewrite", "new", "stage_new")

test_decommissioned_new_flow_alarms if {
	routes(login(at("decommissioned")), "rewrite", "new", "stage_new")
	has_reason(login(at("decommissioned")), "proxy_decommissioned")
}

# -- legacy-issued tokens ----------------------------------------------------------------------------
test_observe_legacy_token if routes(agent_call(legacy_iss, "legacy", at("observe")), "allow", "legacy", "token_issuer")

test_shadow_legacy_token if routes(agent_call(legacy_iss, "legacy", at("shadow")), "allow", "legacy", "token_issuer")

test_canary_legacy_token if routes(agent_call(legacy_iss, "legacy", at("canary")), "allow", "legacy", "token_issuer")

test_cutover_legacy_token_in_grace if routes(agent_call(legacy_iss, "legacy", at("cutover")), "allow", "legacy", "token_issuer")

test_cutover_legacy_token_after_grace if denies(agent_call(legacy_iss, "legacy", {"stage": "cutover", "legacy_tokens_retired": true}), "legacy_issuer_retired")

test_logout_after_token_grace_still_fail_safe if {
	inp := req(
		{"kind": "logout", "route": "/backchannel-logout", "state_present": false, "code_present": false, "response_mode": null},
		no_pin, token_from(legacy_iss, "legacy", "logout_token"), {"stage": "cutover", "legacy_tokens_retired": true},
	)
	routes(inp, "allow", "legacy", "logout_fail_safe")
}

test_rollback_legacy_token if routes(agent_call(legacy_iss, "legacy", at("rollback")), "allow", "legacy", "token_issuer")

test_retired_legacy_token if denies(agent_call(legacy_iss, "legacy", at("retired")), "legacy_issuer_retired")

test_decommissioned_legacy_token if denies(agent_call(legacy_iss, "legacy", at("decommissioned")), "legacy_issuer_retired")

test_new_token_in_observe_not_live if denies(agent_call(new_iss, "new", at("observe")), "backend_not_live")

test_new_token_in_cutover if routes(agent_call(new_iss, "new", at("cutover")), "allow", "new", "token_issuer")

# -- sunset -------------------------------------------------------------------------------------------
test_sunset_closes_legacy_pins if denies(legacy_cb({"stage": "canary", "sunset_exceeded": true}), "proxy_sunset_exceeded")

test_sunset_closes_legacy_new_flows if denies(login({"stage": "observe", "sunset_exceeded": true}), "proxy_sunset_exceeded")

test_sunset_closes_legacy_tokens if denies(agent_call(legacy_iss, "legacy", {"stage": "canary", "sunset_exceeded": true}), "proxy_sunset_exceeded")

test_sunset_keeps_new_pins_with_alarm if {
	inp := new_cb({"stage": "canary", "sunset_exceeded": true})
	routes(inp, "allow", "new", "pinned_new")
	has_reason(inp, "proxy_sunset_exceeded")
}

# -- always a decision ------------------------------------------------------------------------------------
test_no_migration_denies_host if {
	inp := object.union(new_cb(at("canary")), {"migration": null})
	denies(inp, "host_not_allowed")
}

test_unknown_stage_falls_to_default_deny if denies(legacy_cb(at("paused")), "policy_undefined")
