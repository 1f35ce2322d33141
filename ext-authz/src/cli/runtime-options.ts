// The options `serve` and `check` share — which registry, which policy, which decision — so both commands
// load the same runtime the same way (docs/operations.md, "Running it").
import type { Command } from 'commander';

export interface RuntimeFlags {
  mode: string;
  config?: string;
  policy: string;
  data?: string;
  decision?: string;
  v0Compatible?: boolean;
}

export function addRuntimeOptions(cmd: Command, registryDefault: string): Command {
  return cmd
    .option('--mode <mode>', 'callback, or opa-envoy (opa-envoy-plugin\'s input and decision rules only; no registry)', 'callback')
    .option('--config <file>', `migration registry YAML (default: ${registryDefault})`)
    .option('--policy <dir|bundle>', 'policy: a Rego directory or an OPA bundle (.tar.gz or directory; wasm bundles run on OPA\'s wasm)', 'policies/callback')
    .option('--data <file>', 'extra data document (JSON/YAML) merged at the root of data')
    .option('--decision <path>', 'decision path, e.g. callback/decision or envoy/authz/allow (default: callback/decision; envoy/authz/allow with --mode opa-envoy)')
    .option('--v0-compatible', 'accept Rego v0 policy modules (as OPA 1.x --v0-compatible); default: Rego v1, as in OPA 1.x');
}
