// CLI: `callback-proxy envoy lint <file>` (schema check against Envoy's protos + our rules, exit 1 on
// any finding) and `callback-proxy envoy render --config <registry.yaml>` (envoy.yaml from the registry).
import fs from 'node:fs';
import type { Command } from 'commander';
import { DEFAULT_ROUTING_HEADER } from '../model/registry';
import { CliError, exitCodesHelp } from './cli-errors';

// Envoy's protos, the registry loader and the renderer load when a command runs (`--help` stays fast).

export function registerEnvoyCommands(program: Command): void {
  const envoy = program.command('envoy').description('check and generate Envoy configuration');

  envoy
    .command('lint')
    .description('decode an envoy.yaml against envoy.config.bootstrap.v3.Bootstrap and apply the callback-proxy rules')
    .argument('<file...>', 'Envoy bootstrap YAML/JSON files')
    .option('--routing-header <name>', 'routing header the routes must match on', DEFAULT_ROUTING_HEADER)
    .option('--json', 'print the findings as JSON')
    .addHelpText('after', exitCodesHelp({ ok: 'no findings', failed: 'findings (schema or lint), each printed with its path', usage: 'bad usage or a file that does not exist' }))
    .action(async (files: string[], opts: { routingHeader: string; json?: boolean }) => {
      const missing = files.filter((f) => !fs.existsSync(f));
      if (missing.length > 0) throw new CliError('cli_input', `envoy lint: no such file: ${missing.join(', ')}`);
      const { checkEnvoyFile, formatReport, reportOk } = await import('../envoy/check-file');
      let failed = false;
      const reports = files.map((f) => checkEnvoyFile(f, { routingHeader: opts.routingHeader }));
      for (const r of reports) {
        if (!reportOk(r)) failed = true;
        if (opts.json) continue;
        const lines = formatReport(r);
        if (lines.length === 0) process.stdout.write(`${r.file}: ok (schema: Bootstrap v3, lint: ${0} findings)\n`);
        else process.stdout.write(lines.join('\n') + `\n${r.file}: ${lines.length} finding(s)\n`);
      }
      if (opts.json) process.stdout.write(JSON.stringify(reports, null, 2) + '\n');
      process.exitCode = failed ? 1 : 0;
    });

  envoy
    .command('render')
    .description('generate an envoy.yaml whose virtual hosts, routes and clusters come from the migration registry')
    .option('-c, --config <file>', 'migration registry YAML (default: the embedded demo registry)')
    .option('--ext-authz <host:port>', 'ext-authz gRPC address as Envoy reaches it', 'ext-authz:9191')
    .option('--port <n>', 'listener port', '8080')
    .option('--timeout <seconds>', 'ext_authz timeout in seconds', '0.2')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .addHelpText('after', exitCodesHelp({ ok: 'rendered', usage: 'bad usage, or a registry that cannot be read or is invalid' }))
    .action(async (opts: { config?: string; extAuthz: string; port: string; timeout: string; out?: string }) => {
      const { renderEnvoyYaml } = await import('../envoy/render');
      const port = Number(opts.port);
      const timeoutS = Number(opts.timeout);
      if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new CliError('cli_usage', `--port: expected a port number, got "${opts.port}"`);
      if (!(timeoutS > 0)) throw new CliError('cli_usage', `--timeout: expected seconds > 0, got "${opts.timeout}"`);
      const reg = opts.config ? (await import('../config/registry')).loadRegistryFile(opts.config, { env: process.env }) : (await import('../config/default')).createDemoRegistry();
      const text = renderEnvoyYaml(reg, { extAuthzAddress: opts.extAuthz, listenPort: port, timeoutS });
      if (opts.out) {
        fs.writeFileSync(opts.out, text);
        process.stderr.write(`wrote ${opts.out}\n`);
      } else process.stdout.write(text);
    });
}
