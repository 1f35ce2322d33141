# The "pins off" baseline for `npm run bench:cutover`: what a weight-based canary does (Envoy
# weighted_clusters, an Istio VirtualService weight, an nginx split_clients). Every request — login
# start or callback — goes to a backend picked from the stage alone, per request: new with probability
# percent/100 in canary, new from cutover on, legacy otherwise. Pins, issuers and flows are ignored on
# purpose; the strict parser's violations still deny, as in the real policy. NOT for production.
package callback

import rego.v1

default decision := {
	"action": "deny",
	"backend": null,
	"reasons": ["not_callback_route"],
	"headers": {},
	"response_headers": {},
	"pin": null,
	"dynamic_metadata": {},
}

decision := {
	"action": "deny",
	"backend": null,
	"reasons": input.callback.violations,
	"headers": {},
	"response_headers": {},
	"pin": null,
	"dynamic_metadata": {},
} if {
	count(input.callback.violations) > 0
}

decision := {
	"action": "allow",
	"backend": target,
	"reasons": [reason],
	"http_status": 200,
	"headers": {},
	"response_headers": {},
	"pin": null,
	"dynamic_metadata": {"split": "weighted"},
} if {
	count(input.callback.violations) == 0
	is_object(input.migration)
	input.callback.kind != "other"
}

mig := input.migration

target := mig.new if {
	mig.stage in {"cutover", "retired", "decommissioned"}
} else := mig.new if {
	mig.stage == "canary"
	rand.intn("weighted-split", 100) < mig.percent
} else := mig.legacy

reason := "canary_cohort" if {
	mig.stage == "canary"
} else := "stage_new" if {
	target == mig.new
} else := "stage_legacy"
