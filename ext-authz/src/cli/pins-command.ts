// `callback-proxy pins mint`: asks a running service's Pin API (POST /v1/pins:mint, the HTTP/JSON form
// of callbackproxy.v1.Pins/MintState) for a state pinned to a backend; the state is the LAST line.
import type { Command } from 'commander';
import { CliError, EXIT_DENY_OR_INVALID, exitCodesHelp } from './cli-errors';

interface MintFlags {
  connection: string;
  backend: string;
  server: string;
  token?: string;
  responseMode?: string;
  json?: boolean;
}

export function registerPinsCommands(program: Command): void {
  const pins = program.command('pins').description('Pin API client');
  pins
    .command('mint')
    .description('mint a state pinned to a backend through the running service (prints the state last)')
    .requiredOption('--connection <name>', 'connection name, e.g. demo')
    .requiredOption('--backend <id>', 'backend id, e.g. legacy or new')
    .option('--server <url>', 'the service HTTP address', 'http://127.0.0.1:9192')
    .option('--token <token>', 'Pin API bearer token of the backend (default: $CALLBACK_PROXY_PIN_TOKEN, else the demo token)')
    .option('--response-mode <mode>', 'query or form_post (pins the response mode too)')
    .option('--json', 'print the whole response as JSON before the state line')
    .addHelpText(
      'after',
      exitCodesHelp({ ok: 'minted (the state is the last line)', failed: 'the Pin API refused (the message says why)', usage: 'bad usage, or the service could not be reached' }),
    )
    .action(async (f: MintFlags) => {
      const token = f.token ?? process.env.CALLBACK_PROXY_PIN_TOKEN ?? (await import('../config/default')).DEMO_PIN_API_TOKEN;
      let url: URL;
      try {
        url = new URL('/v1/pins:mint', f.server);
      } catch {
        throw new CliError('cli_usage', `--server must be a URL, got ${JSON.stringify(f.server)}`);
      }
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', connection: 'close' },
          body: JSON.stringify({ connection: f.connection, backend: f.backend, responseMode: f.responseMode ?? '' }),
          signal: AbortSignal.timeout(10_000),
        });
      } catch {
        throw new CliError('cli_remote', `cannot reach ${url.origin} (is \`callback-proxy serve\` running?)`);
      }
      const text = await res.text();
      let body: Record<string, unknown> = {};
      let notJson = '';
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch (e) {
        notJson = e instanceof SyntaxError ? ' (the reply is not JSON)' : ` (${String(e)})`;
      }
      if (res.status !== 200 || typeof body.state !== 'string') {
        const why = typeof body.error === 'string' ? `${body.error}: ${String(body.message ?? '')}` : `HTTP ${res.status}${notJson}`;
        throw new CliError('cli_remote', `the Pin API refused: ${why}`, EXIT_DENY_OR_INVALID);
      }
      if (f.json) process.stdout.write(`${JSON.stringify({ stateHash: body.stateHash, expiresAtMs: body.expiresAtMs })}\n`);
      process.stdout.write(`${body.state}\n`);
    });
}
