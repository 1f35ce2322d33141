# Missing or mistyped facts fail closed under OPA's rules for undefined (policies/README.md, "Writing
# policy: undefined, not and else"): a negated check over a missing fact is written as `not helper`
# (a negated call would fail, not succeed, when its operand is missing), and every else-chain head is
# defined whenever its body holds (a clause whose head is undefined gives way to the next clause).
package callback_test

import data.callback
import rego.v1

drop_fact(inp, key) := object.remove(inp, {key})

set_fact(inp, key, value) := object.union(object.remove(inp, {key}), {key: value})

# `inp` with one field of one fact document removed.
drop_field(inp, doc, field) := set_fact(inp, doc, object.remove(inp[doc], {field}))

# -- not: the helpers are true exactly when the fact is missing or wrong -----------------------------
test_missing_migration_is_host_not_allowed if denies(drop_fact(legacy_cb(at("canary")), "migration"), "host_not_allowed")

test_mistyped_migration_is_host_not_allowed if denies(set_fact(legacy_cb(at("canary")), "migration", "demo"), "host_not_allowed")

test_migration_without_connection_is_host_not_allowed if {
	denies(drop_field(legacy_cb(at("canary")), "migration", "connection"), "host_not_allowed")
}

test_migration_without_a_backend_is_host_not_allowed if {
	denies(drop_field(new_cb(at("canary")), "migration", "new"), "host_not_allowed")
}

test_callback_without_kind_is_not_callback_route if {
	denies(drop_field(legacy_cb(at("canary")), "callback", "kind"), "not_callback_route")
}

test_callback_with_numeric_kind_is_not_callback_route if {
	inp := legacy_cb(at("canary"))
	denies(set_fact(inp, "callback", object.union(inp.callback, {"kind": 7})), "not_callback_route")
}

test_pin_without_backend_is_backend_not_allowed if {
	denies(drop_field(new_cb(at("canary")), "pin", "backend"), "backend_not_allowed")
}

test_pin_without_connection_is_tenant_mismatch if {
	denies(drop_field(new_cb(at("canary")), "pin", "connection"), "tenant_mismatch")
}

test_pin_without_issuer_is_issuer_mismatch if {
	denies(drop_field(new_cb(at("canary")), "pin", "issuer"), "issuer_mismatch")
}

test_missing_iss_is_iss_required_where_supported if {
	denies(drop_field(new_cb(at("canary")), "callback", "iss"), "iss_required")
}

test_numeric_iss_is_iss_required_where_supported if {
	inp := new_cb(at("canary"))
	denies(set_fact(inp, "callback", object.union(inp.callback, {"iss": 1})), "iss_required")
}

test_iss_required_when_the_token_verification_fact_is_missing if {
	inp := req({"iss": null}, pin_new, drop_fact_obj(token_from(new_iss, "new", "id_token"), "verified"), {})
	denies(inp, "iss_required")
}

test_verified_id_token_without_issuer_is_issuer_mismatch if {
	tk := drop_fact_obj(token_from(new_iss, "new", "id_token"), "issuer")
	denies(req({"iss": new_iss}, pin_new, tk, {}), "issuer_mismatch")
}

test_token_call_without_present_fact_is_token_missing if {
	inp := agent_call(new_iss, "new", at("canary"))
	denies(drop_field(inp, "token", "present"), "token_missing")
}

test_token_without_verified_fact_is_token_invalid if {
	inp := agent_call(new_iss, "new", at("canary"))
	denies(drop_field(inp, "token", "verified"), "token_invalid")
}

test_missing_require_pin_means_strict if {
	inp := drop_field(req({"iss": legacy_iss}, no_pin, no_token, {}), "migration", "require_pin")
	denies(inp, "state_unknown")
}

# -- else: a head that could be undefined never falls through to a later clause ---------------------
test_non_strict_hint_naming_an_unknown_backend_is_denied if {
	p := object.union(no_pin, {"hint_backend": "elsewhere"})
	denies(req({"iss": legacy_iss}, p, no_token, {"require_pin": false}), "backend_not_allowed")
}

test_non_strict_hint_naming_a_known_backend_still_routes if {
	p := object.union(no_pin, {"hint_backend": "legacy"})
	routes(req({"iss": legacy_iss}, p, no_token, {"require_pin": false}), "allow", "legacy", "pinned_legacy")
}

test_missing_stage_falls_to_default_deny if denies(drop_field(new_cb(at("canary")), "migration", "stage"), "policy_undefined")

test_deny_for_a_missing_kind_keeps_its_metadata if {
	d := decide(drop_field(legacy_cb(at("canary")), "callback", "kind"))
	d.dynamic_metadata == {"connection": "demo", "stage": "canary", "kind": null, "shadow_candidate": null}
}

test_allow_metadata_is_complete if {
	d := decide(legacy_cb(at("canary")))
	d.dynamic_metadata == {"connection": "demo", "stage": "canary", "kind": "oauth_query", "shadow_candidate": null}
}

test_deny_without_migration_has_empty_metadata if {
	d := decide(drop_fact(legacy_cb(at("canary")), "migration"))
	d.dynamic_metadata == {}
}

drop_fact_obj(o, key) := object.remove(o, {key})
