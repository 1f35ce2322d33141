// `callback-proxy keys generate`: a fresh key set for a registry (config/key-file.ts): the hash and
// cookie keys, and a state key and a Pin API token per connection and backend. With a registry whose
// `keys:` is `file:<path>`, that is where it writes, so the registry validates right after.
import { errnoCode } from '../model/errors';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { CredentialOwner } from '../config/key-file';
import { CliError, EXIT_USAGE, exitCodesHelp } from './cli-errors';

interface GenerateFlags {
  out?: string;
  connection: string[];
  force?: boolean;
}

/** `name=backend,backend` → a credential owner. */
function parseConnectionFlag(v: string): CredentialOwner {
  const m = /^([A-Za-z0-9_-]{1,64})=([A-Za-z0-9_-]{1,64}(?:,[A-Za-z0-9_-]{1,64})*)$/.exec(v);
  if (!m) throw new CliError('cli_usage', `--connection: expected <name>=<backend>,<backend> (ids of [A-Za-z0-9_-]), got ${JSON.stringify(v)}`);
  return { connection: m[1], backends: m[2].split(',') };
}

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('key sets for a migration registry');
  keys
    .command('generate')
    .description('write a fresh key set (hash, cookie and state keys, Pin API tokens per connection and backend)')
    .argument('[registry.yaml]', 'the registry to make keys for (its connections and backends; its `keys: file:` names the output)')
    .option('-o, --out <file>', 'where to write (default: the file the registry\'s `keys: file:` names, else stdout)')
    .option('--connection <name=backend,...>', 'a connection and its backend ids, when there is no registry (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--force', 'replace an existing key file (flows in flight that depend on the old keys will fail)')
    .addHelpText(
      'after',
      '\nExample: callback-proxy keys generate ext-authz/config/registry.example.yaml' +
        '\nThe file is written with mode 0600. Keys are 32 random bytes, base64url.' +
        exitCodesHelp({ ok: 'written', usage: 'bad usage, an unreadable registry, or the output exists (use --force)' }),
    )
    .action(async (registry: string | undefined, f: GenerateFlags) => {
      const { credentialOwners, generateKeyFile, renderKeyFile } = await import('../config/key-file');
      const { ConfigError } = await import('../config/registry-errors');
      const owners: CredentialOwner[] = [];
      let out = f.out;
      if (registry !== undefined) {
        let text: string;
        try {
          text = fs.readFileSync(registry, 'utf8');
        } catch (e) {
          throw new CliError('cli_input', `cannot read ${registry} (${errnoCode(e)})`);
        }
        try {
          const r = credentialOwners(text, registry);
          owners.push(...r.owners);
          if (out === undefined && r.keysRef !== null) out = path.join(path.dirname(registry), r.keysRef);
        } catch (e) {
          if (e instanceof ConfigError) throw new CliError('cli_input', e.message);
          throw e;
        }
      }
      for (const c of f.connection.map(parseConnectionFlag)) {
        if (owners.some((o) => o.connection === c.connection)) throw new CliError('cli_usage', `--connection ${c.connection}: the connection is given twice`);
        owners.push(c);
      }
      if (owners.length === 0) throw new CliError('cli_usage', 'name a registry or at least one --connection <name>=<backend>,<backend>');
      const text = renderKeyFile(generateKeyFile(owners), new Date());
      if (out === undefined) {
        process.stdout.write(text);
        return;
      }
      try {
        fs.writeFileSync(out, text, { mode: 0o600, flag: f.force ? 'w' : 'wx' });
        if (f.force) fs.chmodSync(out, 0o600); // an existing file keeps its mode on overwrite
      } catch (e) {
        const code = errnoCode(e);
        if (code === 'EEXIST') throw new CliError('cli_usage', `${out} exists; --force replaces it (flows in flight that depend on its keys will fail)`, EXIT_USAGE);
        throw new CliError('cli_input', `cannot write ${out} (${code})`);
      }
      const n = owners.reduce((s, o) => s + o.backends.length, 0);
      process.stderr.write(`wrote ${out}: hash and cookie keys, state keys and Pin API tokens for ${n} backend(s) in ${owners.length} connection(s)\n`);
    });
}
