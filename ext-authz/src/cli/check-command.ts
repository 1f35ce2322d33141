// `callback-proxy check <checkrequest.json>`: one decision offline, the same pipeline as `serve`
// (registry, facts, policy), printed as JSON. Exit 0 allow/rewrite, 1 deny, 2 on bad input.
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { CliError, describeError, EXIT_DENY_OR_INVALID, EXIT_OK } from './cli-errors';

interface CheckFlags {
  config?: string;
  policy: string;
  data?: string;
  decision: string;
}

export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description('decide one CheckRequest (protojson file, "-" for stdin) offline and print the decision JSON')
    .argument('<checkrequest.json>', 'envoy.service.auth.v3.CheckRequest as protojson ({"attributes": {...}})')
    .option('--config <file>', 'migration registry YAML (default: the embedded demo setup with fresh keys)')
    .option('--policy <dir>', 'policy directory', 'policies/callback')
    .option('--data <file>', 'extra data document merged at the root of data')
    .option('--decision <path>', 'decision path', 'callback/decision')
    .addHelpText(
      'after',
      '\nOutput: {"decision_id", "action", "backend", "reasons", "http_status", "headers_to_remove", "check_response"}.\n' +
        'Exit codes: 0 allow or rewrite, 1 deny, 2 unreadable input or start-up failure.\n' +
        'Pins live in memory for this one run, so a state is only "known" if it is a signed envelope.',
    )
    .action(async (file: string, f: CheckFlags) => {
      let text: string;
      try {
        text = file === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(file, 'utf8');
      } catch (e) {
        throw new CliError('cli_input', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new CliError('cli_input', `${file}: not valid JSON`);
      }
      // The decision path loads only when this command runs (`--help` and other commands stay fast).
      const { fromProtojson } = await import('../check/protojson-request');
      const { checkRequestToView } = await import('../check/request-view');
      const { isForwardable, toCheckResponse } = await import('../check/check-response');
      const { localDeny } = await import('../check/local-deny');
      let parsed;
      try {
        parsed = fromProtojson(json);
      } catch (e) {
        throw new CliError('cli_input', `${file}: ${describeError(e)}`);
      }
      const { loadRuntime } = await import('../app');
      const { silentLogger } = await import('../telemetry/logger');
      let rt;
      try {
        rt = await loadRuntime({ configFile: f.config, policyDir: f.policy, dataFile: f.data, decisionPath: f.decision, watch: false, env: { ...process.env } }, silentLogger());
      } catch (e) {
        throw new CliError('cli_startup', describeError(e));
      }
      try {
        const v = checkRequestToView(parsed.decoded);
        const result = v.ok ? await rt.pipeline.decide(v.view, parsed.attributes) : localDeny(v.reason);
        const routingHeader = rt.registry().routing_header;
        const d = result.decision;
        const out = {
          decision_id: result.decisionId,
          action: isForwardable(result) ? d.action : 'deny',
          backend: isForwardable(result) ? d.backend : null,
          reasons: d.reasons,
          http_status: d.http_status,
          headers_to_remove: result.headersToRemove,
          check_response: toCheckResponse(result, { routingHeader }),
        };
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        process.exitCode = isForwardable(result) ? EXIT_OK : EXIT_DENY_OR_INVALID;
      } finally {
        await rt.close();
      }
    });
}
