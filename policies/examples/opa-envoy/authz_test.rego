# Tests for the OPA-Envoy example, in the plugin's input shape.
package envoy.authz_test

import data.envoy.authz
import rego.v1

req(method, path, query) := {
	"attributes": {"request": {"http": {"method": method, "path": "/x", "host": "auth.example.com", "headers": {}}}},
	"parsed_path": path,
	"parsed_query": query,
}

test_callback_allowed if {
	authz.allow with input as req("GET", ["oauth2", "callback"], {"code": ["c"], "state": ["s"]})
}

test_error_callback_allowed if {
	authz.allow with input as req("GET", ["oauth2", "callback"], {"error": ["access_denied"], "state": ["s"]})
}

test_duplicate_state_denied if {
	not authz.allow with input as req("GET", ["oauth2", "callback"], {"code": ["c"], "state": ["a", "b"]})
}

test_missing_state_denied if {
	not authz.allow with input as req("GET", ["oauth2", "callback"], {"code": ["c"]})
}

test_other_path_denied if {
	not authz.allow with input as req("GET", ["admin"], {})
}

test_post_denied if {
	not authz.allow with input as req("POST", ["oauth2", "callback"], {"code": ["c"], "state": ["s"]})
}

test_result_object if {
	r := authz.result with input as req("GET", ["oauth2", "callback"], {"code": ["c"], "state": ["s"]})
	r.allowed == true
	r.http_status == 200
}
