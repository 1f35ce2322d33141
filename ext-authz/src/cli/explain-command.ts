// `callback-proxy explain <decision_id>`: why did this callback go there? Finds the event in the decision
// log (serve --decision-log, OPA's event shape, already masked) and prints the facts the policy saw —
// stage, pin, callback, token — the policy revision, and the rule that produced the decision. The rule
// comes from the decision's `dynamic_metadata.rule` when a policy sets one, else from the primary reason
// mapped onto the shipped policy (policies/callback), else from where a local deny is made.
import fs from 'node:fs';
import readline from 'node:readline';
import type { Command } from 'commander';
import { CliError, EXIT_DENY_OR_INVALID } from './cli-errors';

const DECISION_LOG_ENV = 'CALLBACK_PROXY_DECISION_LOG';

/** Primary reason → the rule of policies/callback that produces it (threats.rego, stages.rego, decision.rego). */
const POLICY_RULES: Record<string, string> = {
  issuer_mismatch: 'threats.rego threat / flow_threat (RFC 9207 iss, id_token or SAML issuer differs from the pin)',
  issuer_unknown: 'threats.rego threat (iss names no registered issuer)',
  state_missing: 'threats.rego flow_threat (no state / RelayState)',
  state_unknown: 'threats.rego flow_threat (strict connection: no pin that can route on its own)',
  state_replayed: 'threats.rego flow_threat (the pin was consumed before)',
  state_expired: 'threats.rego flow_threat (the pin expired)',
  state_bad_mac: 'threats.rego flow_threat (the signed envelope failed verification)',
  tenant_mismatch: 'threats.rego flow_threat (pinned on another connection)',
  iss_required: 'threats.rego flow_threat (RFC 9207: the issuer sends iss, this callback has none)',
  response_mode_mismatch: 'threats.rego flow_threat (form_post flow answered by a query callback)',
  unsolicited_saml: 'threats.rego flow_threat (IdP-initiated SAML not allow-listed)',
  token_missing: 'threats.rego threat (a token route without a token)',
  token_invalid: 'threats.rego token_threat',
  pinned_legacy: 'stages.rego legacy_pin_route (a flow pinned to legacy)',
  pinned_new: 'stages.rego new_pin_route (a flow pinned to new)',
  drain_expired: 'stages.rego legacy_pin_route / new_pin_route (past drain_until)',
  backend_retired: 'stages.rego legacy_pin_route (legacy is retired at this stage)',
  backend_not_live: 'stages.rego new_pin_route / new_token_route (new takes no traffic in observe)',
  downgrade_blocked: 'stages.rego legacy_pin_route (a legacy pin made after the drain deadline)',
  proxy_sunset_exceeded: 'stages.rego legacy_pin_route / new_flow_route / legacy_token_route (past sunset_at)',
  canary_cohort: 'stages.rego new_flow_route (canary: keyed cohort bucket vs percent)',
  stage_new: 'stages.rego new_flow_route (the stage sends new flows to new)',
  stage_legacy: 'stages.rego new_flow_route (the stage sends new flows to legacy)',
  token_issuer: "stages.rego legacy_token_route / new_token_route (a verified token to its issuer's backend)",
  logout_fail_safe: 'stages.rego token_route (verified logout reaches the session owner at any stage)',
  legacy_issuer_retired: 'stages.rego legacy_token_route (legacy-issued tokens retired)',
  error_response: 'decision.rego lead_reasons (an OAuth error callback to the flow initiator)',
  policy_undefined: 'decision.rego default decision (no rule applied)',
};

/** Denies made outside the policy. */
const LOCAL_RULES: Record<string, string> = {
  host_not_allowed: 'pipeline.ts: no connection for this host, the policy is not asked (T-H1)',
  stage_unknown: 'lifecycle/stage-gate.ts: the stage overrides could not be read; denied before the pipeline',
  authz_unavailable: 'check-core.ts: the service was still loading',
  internal_error: 'check-core.ts: an unexpected failure below the check core',
  malformed_request: 'check adapter: the request could not be read',
  policy_error: 'policy engine: evaluation failed',
  policy_timeout: 'policy engine: evaluation exceeded its deadline',
  invalid_decision: 'policy/decision.ts: the policy returned a malformed decision',
  backend_not_allowed: "policy/decision.ts: the decision named a backend outside the connection's allow-list",
  policy_ignored_violation: 'pipeline.ts enforcePinAndViolations: defense in depth overrode the policy',
};

type Json = Record<string, any>;

export function producingRule(ev: Json): string {
  const d = ev.result ?? {};
  const meta = d.dynamic_metadata ?? {};
  if (typeof meta.rule === 'string') return `${meta.rule} (named by the policy)`;
  const reasons: string[] = Array.isArray(d.reasons) ? d.reasons : [];
  if (reasons.includes('policy_ignored_violation')) return LOCAL_RULES.policy_ignored_violation;
  const first = reasons[0] ?? 'none';
  const violations: string[] = ev.input?.callback?.violations ?? [];
  if (d.action === 'deny' && violations.includes(first)) return `threats.rego threat (the strict parser's violation ${first})`;
  if (ev.input?.migration == null && LOCAL_RULES[first]) return LOCAL_RULES[first];
  return POLICY_RULES[first] ?? LOCAL_RULES[first] ?? `unknown: no rule of the shipped policy produces ${first}`;
}

async function findEvent(file: string, id: string): Promise<Json | null> {
  let stream: fs.ReadStream;
  try {
    fs.accessSync(file, fs.constants.R_OK);
    stream = fs.createReadStream(file, { encoding: 'utf8' });
  } catch (e) {
    throw new CliError('cli_input', `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const needle = `"decision_id":${JSON.stringify(id)}`;
  const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (!line.includes(needle)) continue;
      try {
        const ev = JSON.parse(line) as Json;
        if (ev.decision_id === id) return ev;
      } catch {
        // a torn last line; keep looking
      }
    }
  } finally {
    lines.close();
    stream.destroy();
  }
  return null;
}

function explain(ev: Json): string {
  const d = ev.result ?? {};
  const inp = ev.input ?? {};
  const m = inp.migration;
  const pin = inp.pin ?? {};
  const cb = inp.callback ?? {};
  const tok = inp.token ?? {};
  const revisions = Object.entries((ev.bundles ?? {}) as Record<string, { revision: string }>).map(([k, v]) => `${k} ${v.revision}`);
  const out = [
    `decision ${ev.decision_id} at ${ev.timestamp}: ${d.action}${d.backend ? ` → ${d.backend}` : ''} (${(d.reasons ?? []).join(', ')})${ev.req_id ? ` request ${ev.req_id}` : ''}`,
    `  policy:   ${ev.path}${revisions.length ? `, revision ${revisions.join(', ')}` : ', revision not recorded'}`,
    `  rule:     ${producingRule(ev)}`,
    m
      ? `  stage:    connection ${m.connection}, ${m.stage}${m.stage === 'canary' ? ` ${m.percent} % (cohort bucket ${m.cohort_bucket ?? 'none'})` : ''}; drain_until ${m.drain_until ?? '-'} (drained ${m.drained}); sunset_at ${m.sunset_at ?? '-'} (exceeded ${m.sunset_exceeded})`
      : '  stage:    no connection matched',
    `  pin:      ${pin.found ? `found, backend ${pin.backend}, issuer ${pin.issuer}, source ${pin.source}, age ${pin.age_s} s${pin.consumed_before ? ', consumed before' : ''}${pin.expired ? ', expired' : ''}` : 'none'}${pin.error ? `, error ${pin.error}` : ''}${pin.hint_backend ? `, cookie hint ${pin.hint_backend}` : ''}`,
    `  callback: ${cb.kind ?? '-'} ${cb.route ?? ''}${cb.iss ? ` iss ${cb.iss}` : ''}${(cb.violations ?? []).length ? `, violations ${cb.violations.join(', ')}` : ''}`,
    `  token:    ${tok.present ? `${tok.use ?? 'token'} verified=${tok.verified} issuer ${tok.issuer ?? '-'}${tok.error ? ` error ${tok.error}` : ''}` : 'none'}`,
    `  masked input (as logged; erased: ${(ev.erased ?? []).join(', ') || 'none'}):`,
    JSON.stringify(inp, null, 2).replace(/^/gm, '    '),
  ];
  return `${out.join('\n')}\n`;
}

export function registerExplainCommand(program: Command): void {
  program
    .command('explain')
    .argument('<decision_id>', 'the decision id (x-request-id in logs, decision_id in the decision log)')
    .description('why did this callback go there? the facts, stage, pin, policy revision and rule of one logged decision')
    .option('--log <file>', `the decision log (serve --decision-log; default $${DECISION_LOG_ENV})`)
    .option('--json', 'print the logged event as JSON with the rule added')
    .addHelpText('after', '\nExit codes: 0 found, 1 no such decision in the log, 2 the log cannot be read.')
    .action(async (id: string, f: { log?: string; json?: boolean }) => {
      const file = f.log ?? process.env[DECISION_LOG_ENV];
      if (!file) throw new CliError('cli_usage', `no decision log: pass --log or set ${DECISION_LOG_ENV}`);
      const ev = await findEvent(file, id);
      if (!ev) {
        process.stderr.write(`callback-proxy: no decision ${id} in ${file}\n`);
        process.exitCode = EXIT_DENY_OR_INVALID;
        return;
      }
      process.stdout.write(f.json ? `${JSON.stringify({ ...ev, rule: producingRule(ev) }, null, 2)}\n` : explain(ev));
    });
}
