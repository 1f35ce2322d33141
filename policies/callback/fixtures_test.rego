# Test fixtures for the callback policy: the demo connection's facts, in the exact shape the facts
# phase produces (ext-authz/src/pipeline/types.ts), with helpers to vary one part at a time.
package callback_test

import data.callback
import rego.v1

legacy_iss := "https://legacy-idp.example.com"

new_iss := "https://new-idp.example.com"

base_migration := {
	"connection": "demo",
	"stage": "canary",
	"percent": 50,
	"cohort_bucket": 10,
	"backends": [
		{"id": "legacy", "role": "legacy", "issuer": legacy_iss, "cluster": "legacy_backend"},
		{"id": "new", "role": "new", "issuer": new_iss, "cluster": "new_backend"},
	],
	"legacy": "legacy",
	"new": "new",
	"issuers": {
		legacy_iss: {"backend": "legacy", "iss_parameter_supported": false},
		new_iss: {"backend": "new", "iss_parameter_supported": true},
	},
	"drain_until": null,
	"drained": false,
	"sunset_at": null,
	"sunset_exceeded": false,
	"require_pin": true,
	"idp_initiated_saml": [],
}

base_callback := {
	"kind": "oauth_query",
	"route": "/oauth2/callback",
	"response_mode": "query",
	"state_present": true,
	"state_hash": "c3RhdGUtaGFzaA",
	"relay_state_present": false,
	"relay_state_hash": null,
	"code_present": true,
	"code_hash": "Y29kZS1oYXNo",
	"iss": null,
	"client_id": null,
	"error": null,
	"duplicate_params": [],
	"ambiguous_params": [],
	"unexpected_params": [],
	"param_names": ["code", "state"],
	"saml": null,
	"token_location": null,
	"violations": [],
}

no_pin := {
	"found": false, "backend": null, "issuer": null, "connection": null, "response_mode": null,
	"age_s": null, "expired": false, "consumed_before": false, "source": null, "error": null,
	"created_at_ms": null,
}

# Created 2026-01-01T00:00:00Z (before any drain deadline the tests use).
pin_legacy := {
	"found": true, "backend": "legacy", "issuer": legacy_iss, "connection": "demo",
	"response_mode": "query", "age_s": 5, "expired": false, "consumed_before": false,
	"source": "store", "error": null, "created_at_ms": 1767225600000,
}

pin_new := object.union(pin_legacy, {"backend": "new", "issuer": new_iss, "source": "envelope"})

no_token := {
	"present": false, "verified": false, "use": null, "issuer": null, "backend": null, "alg": null,
	"typ": null, "claims": null, "error": null,
}

token_from(iss, backend, use) := object.union(no_token, {
	"present": true, "verified": true, "use": use, "issuer": iss, "backend": backend, "alg": "ES256",
})

# A full input: callback/migration are patched onto the base, pin and token are given whole.
req(cb, p, tk, mig) := {
	"attributes": {"request": {"http": {"method": "GET", "host": "auth.example.com", "headers": {}}}},
	"parsed_path": ["oauth2", "callback"],
	"parsed_query": {},
	"parsed_body": null,
	"truncated_body": false,
	"version": {"ext_authz": "v3", "encoding": "protojson"},
	"callback": object.union(base_callback, cb),
	"pin": p,
	"token": tk,
	"migration": object.union(base_migration, mig),
	"ignored_headers": [],
	"now": {"rfc3339": "2026-06-01T00:00:00Z", "ns": "1780272000000000000"},
}

# Stage patch, with a drain deadline in the past when `drained`.
at(stage) := {"stage": stage}

drained_at(stage) := {"stage": stage, "drain_until": "2026-03-01T00:00:00Z", "drained": true}

decide(inp) := d if {
	d := callback.decision with input as inp
}

routes(inp, action, backend, reason) if {
	d := decide(inp)
	d.action == action
	d.backend == backend
	d.reasons[0] == reason
}

denies(inp, reason) if {
	d := decide(inp)
	d.action == "deny"
	d.backend == null
	d.reasons[0] == reason
}

has_reason(inp, reason) if {
	d := decide(inp)
	reason in d.reasons
}

# Shorthands: an OAuth callback pinned to legacy / new (with the matching iss), at a stage patch.
legacy_cb(mig) := req({"iss": legacy_iss}, pin_legacy, no_token, mig)

new_cb(mig) := req({"iss": new_iss}, pin_new, no_token, mig)

login(mig) := req({"kind": "login_start", "route": "/login", "state_present": false, "code_present": false, "response_mode": null}, no_pin, no_token, mig)

agent_call(iss, backend, mig) := req(
	{"kind": "agent", "route": "/agent/callback", "state_present": false, "code_present": false, "response_mode": null},
	no_pin, token_from(iss, backend, "access_token"), mig,
)
