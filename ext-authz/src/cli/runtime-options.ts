// The options `serve` and `check` share — which registry, which policy, which decision — so both commands
// load the same runtime the same way (docs/operations.md, "Running it").
import type { Command } from 'commander';

export interface RuntimeFlags {
  config?: string;
  policy: string;
  data?: string;
  decision: string;
}

export function addRuntimeOptions(cmd: Command, registryDefault: string): Command {
  return cmd
    .option('--config <file>', `migration registry YAML (default: ${registryDefault})`)
    .option('--policy <dir|bundle>', 'policy: a Rego directory or an OPA bundle (.tar.gz or directory; wasm bundles run on OPA\'s wasm)', 'policies/callback')
    .option('--data <file>', 'extra data document (JSON/YAML) merged at the root of data')
    .option('--decision <path>', 'decision path, e.g. callback/decision or envoy/authz/allow', 'callback/decision');
}
