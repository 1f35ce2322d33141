# Derived facts for the callback policy (DESIGN §2, §4): short names for the input documents and the
# small predicates every other module reads. Lookups only — no iteration over request-sized data.
package callback

import rego.v1

cb := input.callback

pin := input.pin

tok := input.token

mig := input.migration

stage := mig.stage

# Callbacks that end a browser flow: the flow's pin decides (DESIGN §2).
flow_kinds := {"oauth_query", "oidc_form_post", "saml_post"}

# Callbacks and starts the stage decides: they belong to no earlier flow.
new_flow_kinds := {"login_start", "webhook"}

# Calls carrying a bearer/logout token: the issuer registry decides.
token_kinds := {"logout", "agent"}

known_kinds := (flow_kinds | new_flow_kinds) | token_kinds

is_flow_callback if cb.kind in flow_kinds

oauth_kinds := {"oauth_query", "oidc_form_post"}

# Role ("legacy" / "new") of a backend id of this connection; undefined for anything else.
role_of(id) := "legacy" if id == mig.legacy

role_of(id) := "new" if id == mig.new

# The flow key the callback carries: `state` for OAuth/OIDC, `RelayState` for SAML.
flow_key_present if {
	cb.kind in oauth_kinds
	cb.state_present == true
}

flow_key_present if {
	cb.kind == "saml_post"
	cb.relay_state_present == true
}

# A pin that can route on its own. A cookie hint never can (DESIGN §2 "Pins" 4: SameSite cookies are
# not sent on form_post / SAML POST, and a cookie is client-held).
strong_pin if {
	pin.found == true
	pin.source != "cookie"
}

# IdP-initiated SAML: no RelayState and no InResponseTo (SAML 2.0 profiles §4.1.5).
saml_unsolicited if {
	cb.kind == "saml_post"
	cb.relay_state_present != true
	not saml_solicited
}

saml_solicited if is_string(cb.saml.in_response_to)

saml_unsolicited_allowed if {
	saml_unsolicited
	some entry in mig.idp_initiated_saml
	entry.issuer == cb.saml.issuer
	entry.acs == cb.route
}

# An `iss` naming no registered issuer. Exact match only (RFC 9207 §2.4: simple string comparison).
iss_unregistered if {
	is_string(cb.iss)
	not mig.issuers[cb.iss]
}

# A registered issuer spelled differently (case, trailing slash): a mix-up attempt, not an unknown AS
# (THREATS T-M3). Only evaluated when `iss` is unregistered, over the connection's two issuers.
iss_lookalike if {
	iss_unregistered
	loose := lower(trim_right(cb.iss, "/"))
	some known, _ in mig.issuers
	lower(trim_right(known, "/")) == loose
}

# The issuer a SAML Response for the pinned backend must carry: its entityID when configured, else
# the pin's issuer. Compared exactly (SAML core §8.3.6: entity identifiers are URIs, no normalisation).
expected_saml_issuer := entity if {
	some b in mig.backends
	b.id == pin.backend
	entity := object.get(b, "saml_entity_id", pin.issuer)
	is_string(entity)
} else := pin.issuer

# Cutover and later: the drain deadline has passed (facts compute `drained` from `now`).
drained if mig.drained == true

# A legacy pin created after the drain deadline cannot come from a real flow (THREATS T-D2).
pin_after_drain if {
	is_number(pin.created_at_ms)
	is_string(mig.drain_until)
	pin.created_at_ms * 1000000 > time.parse_rfc3339_ns(mig.drain_until)
}

# Headers the client sent that we stripped (names only): forwarding vs routing (THREATS T-H3/T-H4).
forwarding_header_names := {"x-forwarded-host", "forwarded", "x-original-url", "x-rewrite-url", "x-original-host"}

ignored_forwarding if {
	some name in input.ignored_headers
	name in forwarding_header_names
}

ignored_routing if {
	some name in input.ignored_headers
	not name in forwarding_header_names
}

# Client attempts to pick the legacy backend at flow start (THREATS T-D1): ignored, but recorded.
downgrade_params := {"idp", "domain_hint", "kc_idp_hint"}

downgrade_attempt if {
	some name in downgrade_params
	input.parsed_query[name]
}

downgrade_attempt if "x-idp" in input.ignored_headers

downgrade_attempt if input.attributes.request.http.headers["x-idp"]
