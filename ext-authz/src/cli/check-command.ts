// `callback-proxy check <checkrequest.json>`: one decision offline, the same pipeline as `serve`
// (registry, facts, policy), printed as JSON. Exit 0 allow/rewrite, 1 deny, 2 on bad input.
import { errnoCode } from '../model/errors';
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { CliError, describeError, EXIT_DENY_OR_INVALID, EXIT_OK, exitCodesHelp } from './cli-errors';
import { addRuntimeOptions } from './runtime-options';
import type { RuntimeFlags } from './runtime-options';
import type { DecodedCheckRequest } from '../check/check-request-types';

export function registerCheckCommand(program: Command): void {
  const check = program
    .command('check')
    .description('decide one CheckRequest (protojson file, "-" for stdin) offline and print the decision JSON')
    .argument('<checkrequest.json>', 'envoy.service.auth.v3.CheckRequest as protojson ({"attributes": {...}})');
  addRuntimeOptions(check, 'the embedded demo setup with fresh keys')
    .addHelpText(
      'after',
      '\nOutput: {"decision_id", "action", "backend", "reasons", "http_status", "headers_to_remove", "check_response"}.\n' +
        'With --mode opa-envoy: {"decision_id", "allowed", "reason", "check_response"}, the answer opa-envoy-plugin\'s rules give.\n' +
        'Pins live in memory for this one run, so a state is only "known" if it is a signed envelope.' +
        exitCodesHelp({ ok: 'allow or rewrite', failed: 'deny', usage: 'bad usage, an unreadable or malformed CheckRequest, or a failed start-up' }),
    )
    .action(async (file: string, f: RuntimeFlags) => {
      let text: string;
      try {
        text = file === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(file, 'utf8');
      } catch (e) {
        throw new CliError('cli_input', `cannot read ${file}: ${errnoCode(e)}`);
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
      if (f.mode !== 'callback' && f.mode !== 'opa-envoy') throw new CliError('cli_usage', `--mode: unknown mode ${JSON.stringify(f.mode)}; expected one of callback, opa-envoy`);
      if (f.mode === 'opa-envoy') {
        if (f.config !== undefined) throw new CliError('cli_usage', '--config: not used with --mode opa-envoy (it has no registry)');
        return checkOpaEnvoy(parsed.decoded, f);
      }
      const { loadRuntime } = await import('../app');
      const { silentLogger } = await import('../telemetry/logger');
      let rt;
      try {
        rt = await loadRuntime({ configFile: f.config, policyDir: f.policy, dataFile: f.data, decisionPath: f.decision ?? 'callback/decision', v0Compatible: f.v0Compatible === true, watch: false, env: { ...process.env } }, silentLogger());
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

/** `check --mode opa-envoy`: the plugin's input, the policy, the plugin's decision rules, one answer. */
async function checkOpaEnvoy(req: DecodedCheckRequest, f: RuntimeFlags): Promise<void> {
  const { loadEngine } = await import('../app');
  const { silentLogger } = await import('../telemetry/logger');
  const { OpaEnvoyCore } = await import('../check/opa-envoy/core');
  const { toOpaEnvoyCheckResponse } = await import('../check/opa-envoy/response');
  const decisionPath = f.decision ?? 'envoy/authz/allow';
  const logger = silentLogger();
  let engine;
  try {
    ({ engine } = await loadEngine({ mode: 'opa-envoy', policyDir: f.policy, dataFile: f.data, decisionPath, v0Compatible: f.v0Compatible === true, watch: false }, logger));
  } catch (e) {
    throw new CliError('cli_startup', describeError(e));
  }
  try {
    const core = new OpaEnvoyCore({ engine: () => engine, settings: {}, logger, decisionLog: null, decisionPath });
    const check = await core.run(req, 'grpc', process.hrtime.bigint());
    const allowed = check.ok && check.result.allowed;
    const out = {
      decision_id: check.decisionId,
      allowed,
      reason: check.ok ? (check.result.policyAllowed ? 'opa_envoy_allowed' : 'opa_envoy_denied') : check.reason,
      check_response: toOpaEnvoyCheckResponse(check),
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    process.exitCode = allowed ? EXIT_OK : EXIT_DENY_OR_INVALID;
  } finally {
    await engine.close();
  }
}
