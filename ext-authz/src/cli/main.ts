// CLI entry (`callback-proxy …`, `npm start` = `serve`): commander 14, every command with --help,
// errors as one line on stderr, exit codes from cli-errors.ts.
import { Command, CommanderError } from 'commander';
import { VERSION } from '../telemetry/version';
import { registerRegoCommands } from './rego-commands';
import { registerEnvoyCommands } from './envoy-commands';
import { registerServeCommand } from './serve-command';
import { registerCheckCommand } from './check-command';
import { registerConfigCommands } from './config-command';
import { registerPinsCommands } from './pins-command';
import { CliError, describeError, EXIT_USAGE } from './cli-errors';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('callback-proxy')
    .description('Policy-driven callback proxy for identity migrations: Envoy ext_authz + HTTP forward-auth + Rego')
    .version(VERSION)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  registerServeCommand(program);
  registerCheckCommand(program);
  registerConfigCommands(program);
  registerPinsCommands(program);
  registerRegoCommands(program);
  registerEnvoyCommands(program);
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

if (require.main === module) {
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
