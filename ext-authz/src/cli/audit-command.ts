// `callback-proxy audit verify|report` (docs/stages.md): check an audit file's hash chain offline (and,
// with --server, that its tail matches the service's chain), and fetch the removal report — exit 0
// when removable, 1 when not, so a pipeline can gate on it.
import fs from 'node:fs';
import type { Command } from 'commander';
import { adminRequest, DEFAULT_ADMIN_SERVER } from './admin-client';
import type { AdminFlags } from './admin-client';
import { CliError, EXIT_DENY_OR_INVALID } from './cli-errors';

interface VerifyFlags {
  server?: string;
  token?: string;
}

interface ReportFlags extends AdminFlags {
  connection?: string;
  format: string;
}

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the stage audit trail and the removal report');

  audit
    .command('verify')
    .argument('<file>', 'the audit JSON-lines file (serve --audit-log)')
    .description('check the hash chain: an edited, removed or reordered line is reported with its line number')
    .option('--server <url>', `also compare the last record with the running service's chain (e.g. ${DEFAULT_ADMIN_SERVER}): finds a truncated tail`)
    .option('--token <token>', 'admin token for --server (default: $CALLBACK_PROXY_ADMIN_TOKEN)')
    .addHelpText('after', '\nExit codes: 0 the chain verifies, 1 it does not, 2 the file cannot be read or the service not reached.')
    .action(async (file: string, f: VerifyFlags) => {
      const { verifyChain } = await import('../lifecycle/audit-chain');
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (e) {
        throw new CliError('cli_input', `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      const v = verifyChain(text);
      if (!v.ok) {
        process.stdout.write(`${file}: BROKEN at line ${v.line}: ${v.problem} (${v.records} records verified before it)\n`);
        process.exitCode = EXIT_DENY_OR_INVALID;
        return;
      }
      if (f.server) {
        const r = await adminRequest({ server: f.server, token: f.token }, 'GET', '/v1/audit?limit=1');
        const head = r.body.head as { seq: number; hash: string };
        if (head.seq !== v.head.seq || head.hash !== v.head.hash) {
          process.stdout.write(`${file}: the chain verifies but ends at #${v.head.seq}; the service's chain ends at #${head.seq} (${head.hash.slice(0, 16)}…): the file is truncated or behind\n`);
          process.exitCode = EXIT_DENY_OR_INVALID;
          return;
        }
      }
      process.stdout.write(`${file}: ok, ${v.records} records, head #${v.head.seq} ${v.head.hash}${f.server ? ' (matches the service)' : ''}\n`);
    });

  audit
    .command('report')
    .description('the removal report: can the proxy go? (traffic, outstanding pins, tokens, revocable credentials, sunset)')
    .option('--connection <name>', 'one connection (default: all)')
    .option('--format <format>', 'json or text', 'text')
    .option('--server <url>', 'the admin listener', DEFAULT_ADMIN_SERVER)
    .option('--token <token>', 'admin token (default: $CALLBACK_PROXY_ADMIN_TOKEN)')
    .addHelpText('after', '\nExit codes: 0 removable, 1 not removable (the reasons are listed), 2 usage, authentication or connection errors.')
    .action(async (f: ReportFlags) => {
      if (f.format !== 'json' && f.format !== 'text') throw new CliError('cli_usage', '--format must be json or text');
      const q = f.connection ? `?connection=${encodeURIComponent(f.connection)}` : '';
      const r = await adminRequest(f, 'GET', `/v1/report${q}`);
      const { reportText } = await import('../lifecycle/removal-report');
      const report = r.body as unknown as Parameters<typeof reportText>[0];
      process.stdout.write(f.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : reportText(report));
      if (!report.removable) process.exitCode = EXIT_DENY_OR_INVALID;
    });
}
