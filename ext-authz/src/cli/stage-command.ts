// `callback-proxy stage show|set|reset|history`: the stage API from a terminal (docs/stages.md). Every
// change goes through the running service, which checks the rules and writes the audit record.
import type { Command } from 'commander';
import { adminRequest, instantFlag, withAdminFlags } from './admin-client';
import type { AdminFlags } from './admin-client';
import { CliError } from './cli-errors';

const EXIT_HELP = '\nExit codes: 0 done, 1 refused by the stage rules (the message has the code), 2 usage, authentication or connection errors.';

interface StageValues {
  stage: string;
  canary_percent: number;
  drain_until: string | number | null;
}

/** The admin API answers RFC 3339 in reads but epoch milliseconds in a change's `from`/`to`: show both as RFC 3339. */
const when = (t: string | number): string => (typeof t === 'number' ? new Date(t).toISOString() : t);

const show = (v: StageValues | null | undefined): string => (!v ? '-' : v.stage === 'canary' ? `canary ${v.canary_percent} %` : v.drain_until && (v.stage === 'cutover' || v.stage === 'rollback') ? `${v.stage} (drain until ${when(v.drain_until)})` : v.stage);

function connectionLine(c: Record<string, any>): string {
  const o = c.override ? `override ${show(c.override)} by ${c.override.set_by} at ${c.override.set_at}: ${c.override.reason}` : 'no override';
  const s = c.scheduled ? `; scheduled ${c.scheduled.stage} at ${c.scheduled.at} by ${c.scheduled.actor}` : '';
  const known = c.stage_known === false ? '  [STAGE UNKNOWN: failing closed]' : '';
  return `${c.name}: ${show(c.effective)}  (file: ${show(c.file)}; ${o}${s})${known}`;
}

function recordLine(r: Record<string, any>): string {
  const to = r.to ? show(r.to) : '-';
  const extra = [r.ticket ? `ticket ${r.ticket}` : '', r.error ? `error ${r.error}` : '', r.at ? `at ${r.at}` : ''].filter(Boolean).join(', ');
  return `#${r.seq} ${r.time} ${r.actor} (${r.role}) ${r.action} ${r.outcome}: ${show(r.from)} → ${to} — ${r.reason}${extra ? ` [${extra}]` : ''}`;
}

interface SetFlags extends AdminFlags {
  reason: string;
  percent?: string;
  drainUntil?: string;
  ticket?: string;
  at?: string;
  dryRun?: boolean;
  json?: boolean;
}

export function registerStageCommands(program: Command): void {
  const stage = program.command('stage').description('show and change migration stages through the admin API (audited)');

  withAdminFlags(stage.command('show').argument('[connection]', 'one connection (default: all)'))
    .description('the effective stage of each connection, beside the file value and any override')
    .option('--json', 'print the API response as JSON')
    .addHelpText('after', EXIT_HELP)
    .action(async (connection: string | undefined, f: AdminFlags & { json?: boolean }) => {
      const r = await adminRequest(f, 'GET', connection ? `/v1/connections/${encodeURIComponent(connection)}` : '/v1/connections');
      const list = (connection ? [r.body] : (r.body.connections as Record<string, any>[])) as Record<string, any>[];
      process.stdout.write(f.json ? `${JSON.stringify(connection ? r.body : list, null, 2)}\n` : `${list.map(connectionLine).join('\n')}\n`);
    });

  withAdminFlags(stage.command('set').argument('<connection>', 'connection name').argument('<stage>', 'observe|shadow|canary|cutover|rollback|retired|decommissioned'))
    .description('change a stage now (or --at later); the service checks the transition rules and audits it')
    .requiredOption('--reason <text>', 'why (recorded in the audit trail)')
    .option('--percent <n>', 'canary percentage 1..100')
    .option('--drain-until <time>', 'cutover/rollback drain deadline (RFC 3339 or now+10m)')
    .option('--ticket <id>', 'change or incident ticket (required for rollback)')
    .option('--at <time>', 'schedule the change (RFC 3339 or now+10m)')
    .option('--dry-run', 'only print the effect')
    .option('--json', 'print the API response as JSON')
    .addHelpText('after', EXIT_HELP)
    .action(async (connection: string, to: string, f: SetFlags) => {
      const body: Record<string, unknown> = { stage: to, reason: f.reason };
      if (f.percent !== undefined) {
        const n = Number(f.percent);
        if (!Number.isInteger(n) || n < 1 || n > 100) throw new CliError('cli_usage', '--percent must be an integer 1..100');
        body.canary_percent = n;
      }
      const drain = instantFlag('--drain-until', f.drainUntil);
      if (drain) body.drain_until = drain;
      const at = instantFlag('--at', f.at);
      if (at) body.at = at;
      if (f.ticket) body.ticket = f.ticket;
      if (f.dryRun) body.dry_run = true;
      const r = await adminRequest(f, 'POST', `/v1/connections/${encodeURIComponent(connection)}/stage`, body);
      if (f.json) return void process.stdout.write(`${JSON.stringify(r.body, null, 2)}\n`);
      const effect = r.body.effect as { from: StageValues; to: StageValues; message: string };
      const audit = r.body.audit as { seq: number } | null;
      const head = r.body.dry_run ? 'dry run' : r.body.scheduled ? `scheduled for ${at} (audit #${audit?.seq})` : `done (audit #${audit?.seq})`;
      process.stdout.write(`${connection}: ${show(effect.from)} → ${show(effect.to)}: ${head}\n${effect.message}\n`);
    });

  withAdminFlags(stage.command('reset').argument('<connection>', 'connection name'))
    .description("drop the runtime override (and a scheduled change): the registry file's value is in effect again")
    .requiredOption('--reason <text>', 'why (recorded in the audit trail)')
    .option('--ticket <id>', 'change ticket')
    .addHelpText('after', EXIT_HELP)
    .action(async (connection: string, f: AdminFlags & { reason: string; ticket?: string }) => {
      const r = await adminRequest(f, 'POST', `/v1/connections/${encodeURIComponent(connection)}/stage:reset`, { reason: f.reason, ...(f.ticket ? { ticket: f.ticket } : {}) });
      const effect = r.body.effect as { from: StageValues; to: StageValues; message: string };
      process.stdout.write(`${connection}: ${show(effect.from)} → ${show(effect.to)} (file value): done (audit #${(r.body.audit as { seq: number }).seq})\n`);
    });

  withAdminFlags(stage.command('history').argument('<connection>', 'connection name'))
    .description("the connection's audit records: changes, refusals and automatic actions")
    .option('--json', 'print the records as JSON')
    .addHelpText('after', EXIT_HELP)
    .action(async (connection: string, f: AdminFlags & { json?: boolean }) => {
      const r = await adminRequest(f, 'GET', `/v1/connections/${encodeURIComponent(connection)}/history`);
      const records = r.body.records as Record<string, any>[];
      process.stdout.write(f.json ? `${JSON.stringify(records, null, 2)}\n` : records.length === 0 ? 'no records\n' : `${records.map(recordLine).join('\n')}\n`);
    });
}
