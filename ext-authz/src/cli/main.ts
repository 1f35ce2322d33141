// CLI entry (`callback-proxy …`, `npm start` = `serve`): commander 14, every command with --help,
// errors as one line on stderr, exit codes from cli-errors.ts. The published bin and the image run the
// compiled dist/src/cli/main.js in this same process (bin/callback-proxy.cjs calls run()).
//
// Start-up cost: registering the commands loads only commander and the command modules; each command
// loads what it needs (gRPC, pino, the Rego engine, Envoy's protos, the registry schema) in its action,
// so `--version` and `--help` stay near bare Node start-up (test/deploy/build.test.ts checks which modules load).
import { Command, CommanderError } from 'commander';
import { VERSION } from '../model/version';
import { registerRegoCommands } from './rego-commands';
import { registerEnvoyCommands } from './envoy-commands';
import { registerServeCommand } from './serve-command';
import { registerCheckCommand } from './check-command';
import { registerConfigCommands } from './config-command';
import { registerPinsCommands } from './pins-command';
import { registerKeysCommands } from './keys-command';
import { registerStageCommands } from './stage-command';
import { registerAuditCommands } from './audit-command';
import { registerExplainCommand } from './explain-command';
import { CliError, describeError, EXIT_USAGE } from './cli-errors';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('callback-proxy')
    .description('Policy-driven callback proxy for identity migrations: Envoy ext_authz + HTTP forward-auth + Rego')
    .version(VERSION)
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', '\nExit codes, every command: 0 ok; 1 the check ran and the answer is no (deny, invalid, findings, failing tests); 2 bad usage, an unreadable input or a failed start-up.')
    .exitOverride();
  registerServeCommand(program);
  registerCheckCommand(program);
  registerConfigCommands(program);
  registerPinsCommands(program);
  registerKeysCommands(program);
  registerRegoCommands(program);
  registerEnvoyCommands(program);
  registerStageCommands(program);
  registerAuditCommands(program);
  registerExplainCommand(program);
  // exitOverride applies to the subcommands created above too.
  for (const c of program.commands) {
    c.exitOverride();
    for (const s of c.commands) s.exitOverride();
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are "errors" under exitOverride; usage errors were already printed.
      return e.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (e instanceof CliError) {
      process.stderr.write(`callback-proxy: ${e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(`callback-proxy: ${describeError(e)}\n`);
    return EXIT_USAGE;
  }
}

/** Runs the CLI on process.argv and exits with its code: the entry of the bin and of `node main.js`. */
export function run(): void {
  // `callback-proxy … | head`: the reader went away; stop quietly instead of crashing on EPIPE.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  // Exit explicitly once stdout is flushed: an idle keep-alive socket (fetch in `pins mint`) or a
  // timer must not keep a finished command alive. `serve` never resolves; it exits on a signal.
  const finish = (code: number): void => {
    process.stdout.write('', () => process.exit(code));
  };
  main(process.argv).then(finish, () => finish(EXIT_USAGE));
}

if (require.main === module) run();
