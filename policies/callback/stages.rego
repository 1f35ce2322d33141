# DESIGN §3, the stage table: where a clean request goes, by column — pinned legacy, pinned new,
# legacy/new-issued tokens, new flows — and `sunset_at`, which closes legacy routes whatever the stage.
# `route` is {action, backend, reasons}; a deny here is a stage deny (drain, retirement, sunset).
package callback

import rego.v1

route := legacy_pin_route if {
	routes_by_pin
	flow_role == "legacy"
} else := new_pin_route if {
	routes_by_pin
	flow_role == "new"
} else := token_route if {
	cb.kind in token_kinds
} else := new_flow_route if {
	cb.kind in new_flow_kinds
} else := new_flow_route if {
	# T-R5: an allow-listed IdP-initiated SAML response starts a new flow: the stage decides.
	saml_unsolicited_allowed
	not pin.found == true
}

# Flow callbacks route by their pin — an unpinned one on a non-strict connection belongs to a flow
# that started before the proxy learned pins, which only legacy can have started.
routes_by_pin if {
	is_flow_callback
	not saml_unsolicited_allowed
}

routes_by_pin if {
	is_flow_callback
	pin.found == true
}

flow_role := role_of(pin.backend) if pin.found == true

flow_role := "legacy" if not pin.found == true

# -- pinned legacy ----------------------------------------------------------------------------------
legacy_pin_route := deny_route(["proxy_sunset_exceeded"]) if {
	# T-X1: past sunset, legacy routes close even if nobody advanced the stage.
	mig.sunset_exceeded == true
} else := allow_route(mig.legacy, "pinned_legacy") if {
	stage in {"observe", "shadow", "canary", "rollback"}
} else := allow_route(mig.legacy, "pinned_legacy") if {
	stage == "cutover"
	not drained
} else := deny_route(["downgrade_blocked"]) if {
	# T-D2: a legacy pin made after the drain deadline was forged or replayed.
	drained
	pin_after_drain
} else := deny_route(["drain_expired"]) if {
	stage == "cutover"
} else := deny_route(["backend_retired"]) if {
	stage == "retired"
} else := deny_route(["backend_retired", "proxy_decommissioned"]) if {
	stage == "decommissioned"
}

# -- pinned new -------------------------------------------------------------------------------------
new_pin_route := deny_route(["backend_not_live"]) if {
	# observe: the new backend takes no traffic, so no flow can legitimately be pinned to it.
	stage == "observe"
} else := deny_route(["drain_expired"]) if {
	# T-D4: in rollback, new-pinned flows finish on new until drained — never on legacy, which could
	# not redeem a code the new AS issued (DESIGN §2).
	stage == "rollback"
	drained
} else := allow_route(mig.new, "pinned_new")

# -- tokens (logout, agent calls) --------------------------------------------------------------------
token_route := allow_route(tok.backend, "logout_fail_safe") if {
	# T-W8: revocation is fail-safe — a verified logout reaches the session owner at any stage.
	cb.kind == "logout"
	tok.use == "logout_token"
	role_of(tok.backend)
} else := legacy_token_route if {
	role_of(tok.backend) == "legacy"
} else := new_token_route if {
	role_of(tok.backend) == "new"
} else := deny_route(["backend_not_allowed"])

legacy_token_route := deny_route(["proxy_sunset_exceeded"]) if {
	mig.sunset_exceeded == true
} else := deny_route(["legacy_issuer_retired"]) if {
	# T-J9: legacy-issued tokens are accepted in S0..S4 only (the cutover grace ends with the
	# issuer's retire_tokens_at, which the verifier enforces).
	stage in {"retired", "decommissioned"}
} else := allow_route(mig.legacy, "token_issuer")

new_token_route := deny_route(["backend_not_live"]) if {
	stage == "observe"
} else := allow_route(mig.new, "token_issuer")

# -- new flows (login start, webhooks, allow-listed IdP-initiated SAML) ------------------------------
new_flow_target := mig.new if {
	stage in {"cutover", "retired", "decommissioned"}
} else := mig.new if {
	# Canary: a keyed-hash bucket of the cohort key, decided once at flow start and pinned.
	stage == "canary"
	in_canary_cohort
} else := mig.legacy

in_canary_cohort if {
	is_number(mig.cohort_bucket)
	mig.cohort_bucket < mig.percent
}

new_flow_reason := "canary_cohort" if {
	stage == "canary"
} else := "stage_new" if {
	new_flow_target == mig.new
} else := "stage_legacy"

new_flow_route := deny_route(["proxy_sunset_exceeded"]) if {
	new_flow_target == mig.legacy
	mig.sunset_exceeded == true
} else := {"action": "rewrite", "backend": mig.new, "reasons": [new_flow_reason]} if {
	new_flow_target == mig.new
} else := allow_route(mig.legacy, new_flow_reason)

# -- builders ------------------------------------------------------------------------------------------
allow_route(backend, reason) := {"action": "allow", "backend": backend, "reasons": [reason]}

deny_route(reasons) := {"action": "deny", "backend": null, "reasons": reasons}
