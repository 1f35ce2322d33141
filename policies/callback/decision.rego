# The callback decision (DESIGN §4, `data.callback.decision`): request threats first (threats.rego),
# then the stage table (stages.rego). Always defined: anything unforeseen falls to the default deny.
# Deny statuses come from the reason table in TypeScript (reasons.ts) when `http_status` is absent.
package callback

import rego.v1

default decision := {
	"action": "deny",
	"backend": null,
	"reasons": ["policy_undefined"],
	"headers": {},
	"response_headers": {},
	"pin": null,
	"dynamic_metadata": {},
}

decision := denial(reasons) if {
	reasons := threat
} else := denial(route.reasons) if {
	route.action == "deny"
} else := {
	"action": route.action,
	"backend": route.backend,
	"reasons": array.concat(array.concat(lead_reasons, route.reasons), extra_reasons),
	"http_status": 200,
	"headers": {},
	"response_headers": {},
	"pin": pin_to_write,
	"dynamic_metadata": metadata,
} if {
	route.action in {"allow", "rewrite"}
}

denial(reasons) := {
	"action": "deny",
	"backend": null,
	"reasons": reasons,
	"headers": {},
	"response_headers": deny_headers(reasons),
	"pin": null,
	"dynamic_metadata": metadata,
}

# Denies the user can recover from by starting over carry a static hint (never a request value).
restart_reasons := {"state_expired", "drain_expired"}

deny_headers(reasons) := {"x-callback-hint": "restart-login"} if {
	reasons[0] in restart_reasons
} else := {}

# T-S6: an error callback still goes to the flow's initiator so it can clean up; say why first.
lead_reasons := ["error_response"] if {
	is_flow_callback
	is_string(cb.error)
} else := []

# Secondary reasons on allow/rewrite, in a fixed order.
extra_reasons := [code |
	some code in [
		"no_mirror_nonidempotent", "downgrade_blocked", "ignored_forwarding_header",
		"ignored_routing_header", "proxy_decommissioned", "proxy_sunset_exceeded",
	]
	extra[code]
]

# T-C4: shadow computes a candidate but forwards a callback exactly once (codes are one-time).
extra contains "no_mirror_nonidempotent" if {
	stage == "shadow"
	is_flow_callback
}

# T-D1: a client asked for legacy at flow start; the stage sent it to new anyway.
extra contains "downgrade_blocked" if {
	cb.kind == "login_start"
	downgrade_attempt
	route.backend == mig.new
}

# T-H3 / T-H4: client forwarding / routing headers were stripped and did not influence the decision.
extra contains "ignored_forwarding_header" if ignored_forwarding

extra contains "ignored_routing_header" if ignored_routing

# Alarms: the proxy outlived its migration (DESIGN §3 decommissioned, T-X1).
extra contains "proxy_decommissioned" if stage == "decommissioned"

extra contains "proxy_sunset_exceeded" if mig.sunset_exceeded == true

# Login start: the chosen backend is pinned to the new flow (canary is decided once, at flow start).
pin_to_write := {"backend": route.backend} if {
	cb.kind == "login_start"
} else := null

metadata := {
	"connection": mig.connection,
	"stage": stage,
	"kind": cb.kind,
	"shadow_candidate": shadow_candidate,
} if {
	is_object(mig)
} else := {}

# Shadow: the decision the next stage would make for a new flow, logged and never enforced.
shadow_candidate := mig.new if {
	stage == "shadow"
	cb.kind in new_flow_kinds
} else := null
