// CLI: `callback-proxy rego ...` commands (registered on the root program by main.ts).
import type { Command } from 'commander';

export function registerRegoCommands(_program: Command): void {
  // filled in by the rego work
}
