# Request-level threats (THREATS.md §1 mix-up, §2 flow binding, §4 SAML, §9 tokens, §12 tenants): the
# first that applies, as a list of reason codes (the first is the primary). Undefined when the request
# is clean — stages.rego then routes it. The order is the order a reviewer reads the table in.
package callback

import rego.v1

threat := ["host_not_allowed"] if {
	# No connection matched: the pipeline denies before asking us, but never rely on it.
	not is_object(mig)
} else := cb.violations if {
	# The strict parser found something (duplicates, encodings, sizes, replayed code, ...): deny on
	# any of them, in the order found.
	count(cb.violations) > 0
} else := ["not_callback_route"] if {
	not cb.kind in known_kinds
} else := ["issuer_mismatch"] if {
	iss_lookalike
} else := ["issuer_unknown"] if {
	# T-M5: an attacker-operated AS is rejected whatever state it comes with.
	iss_unregistered
} else := reasons if {
	is_flow_callback
	reasons := flow_threat
} else := reasons if {
	tok.present == true
	reasons := token_threat
} else := ["token_missing"] if {
	cb.kind in token_kinds
	tok.present != true
}

# Flow binding for OAuth / OIDC / SAML callbacks (DESIGN §2: a callback belongs to the backend that
# started its flow). Undefined when the flow checks pass.
flow_threat := ["unsolicited_saml"] if {
	# T-R5: IdP-initiated SAML only for an allow-listed (Issuer, ACS) pair.
	saml_unsolicited
	not saml_unsolicited_allowed
} else := ["state_missing"] if {
	# T-S1, T-S7: no state (also on error callbacks: they must reach the initiator, which we
	# cannot know without the state).
	not flow_key_present
	not saml_unsolicited
} else := [pin.error] if {
	# T-S5: a tampered signed envelope (or cookie hint) reported by the pin facts.
	is_string(pin.error)
} else := ["state_unknown"] if {
	# T-S2, T-C6, T-Q4: strict connections need a pin that can route on its own.
	flow_key_present
	mig.require_pin == true
	not strong_pin
} else := ["state_replayed"] if {
	# T-S4: pins are one-time.
	pin.found == true
	pin.consumed_before == true
} else := ["state_expired"] if {
	# T-S3: restart the login.
	pin.found == true
	pin.expired == true
} else := ["tenant_mismatch"] if {
	# T-T1: the state was pinned on another connection.
	pin.found == true
	pin.connection != mig.connection
} else := ["backend_not_allowed"] if {
	pin.found == true
	not role_of(pin.backend)
} else := ["issuer_mismatch"] if {
	# T-M1, T-M3: RFC 9207 §2.4 — compare iss with the issuer the flow was sent to, exactly.
	pin.found == true
	is_string(cb.iss)
	cb.iss != pin.issuer
} else := ["iss_required"] if {
	# T-M2: the AS advertises authorization_response_iss_parameter_supported, so a missing iss means
	# someone stripped it (RFC 9207 §2.4).
	pin.found == true
	cb.kind in oauth_kinds
	cb.iss == null
	mig.issuers[pin.issuer].iss_parameter_supported == true
} else := ["issuer_mismatch"] if {
	# T-M4, T-J8: a verified id_token from another (trusted) issuer.
	pin.found == true
	tok.verified == true
	tok.issuer != pin.issuer
} else := ["issuer_mismatch"] if {
	# T-M7: the SAML <Issuer> must be the pinned backend's entity.
	pin.found == true
	cb.kind == "saml_post"
	cb.saml.issuer != expected_saml_issuer
} else := ["issuer_mismatch"] if {
	pin.found == true
	cb.kind == "saml_post"
	not is_string(cb.saml.issuer)
} else := ["response_mode_mismatch"] if {
	# T-S8: a form_post flow answered by a query callback (a leaked URL replayed).
	pin.found == true
	is_string(pin.response_mode)
	is_string(cb.response_mode)
	pin.response_mode != cb.response_mode
}

# Token failures reported by the verifier (T-J1..T-J12, T-T2, T-W9), for calls that carry one.
token_threat := [tok.error] if {
	is_string(tok.error)
} else := ["token_invalid"] if {
	tok.verified != true
}
