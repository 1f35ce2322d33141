// `callback-proxy config validate <file>`: the registry loader's own validation; problems name the
// file and the field path (registry-errors.ts) and exit 1; a registry file that cannot be read exits 2.
import type { Command } from 'commander';
import { CliError, EXIT_DENY_OR_INVALID, EXIT_USAGE, exitCodesHelp } from './cli-errors';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('migration registry tools');
  config
    .command('validate')
    .description('validate a migration registry YAML file')
    .argument('<file>', 'registry YAML')
    .addHelpText(
      'after',
      '\nA registry whose keys are in a key file (keys: file:<path>) needs that file: `callback-proxy keys generate <file>` makes it.' +
        exitCodesHelp({ ok: 'valid', failed: 'invalid (each problem printed as "<file>: <field>: <message>")', usage: 'bad usage or the registry file cannot be read' }),
    )
    .action(async (file: string) => {
      const { loadRegistryFile, ConfigError } = await import('../config/registry');
      try {
        const reg = loadRegistryFile(file, { env: process.env });
        const stages = reg.connections.map((c) => `${c.name}=${c.stage}`).join(', ');
        process.stdout.write(`${file}: ok (${reg.connections.length} connection(s): ${stages}; ${reg.issuers.length} issuer(s))\n`);
      } catch (e) {
        if (e instanceof ConfigError) throw new CliError('cli_input', e.message, e.code === 'config_unreadable' && e.file === file ? EXIT_USAGE : EXIT_DENY_OR_INVALID);
        throw e;
      }
    });
}
