// `callback-proxy serve`: the service. With no flags it runs the embedded demo setup (issue #3
// "Embedded default") and says so loudly.
import { Option } from 'commander';
import type { Command } from 'commander';
import type { AppOptions } from '../app';
import { CliError, describeError, exitCodesHelp } from './cli-errors';
import { addRuntimeOptions } from './runtime-options';
import type { RuntimeFlags } from './runtime-options';

/** pino's levels, most to least severe, and `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The level to run at: `--log-level`, else $LOG_LEVEL, else info; anything else is a usage error naming the valid ones. */
export function resolveLogLevel(flag: string | undefined, env: string | undefined): string {
  const [value, from] = flag !== undefined ? [flag, '--log-level'] : env !== undefined && env !== '' ? [env, 'LOG_LEVEL'] : ['info', 'default'];
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new CliError('cli_usage', `${from}: unknown log level ${JSON.stringify(value)}; expected one of ${LOG_LEVELS.join(', ')}`);
  }
  return value;
}

interface ServeFlags extends RuntimeFlags {
  grpcAddr: string;
  httpAddr: string;
  redis?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  httpTlsCert?: string;
  httpTlsKey?: string;
  httpTlsCa?: string;
  decisionLog?: string;
  logLevel?: string;
  graceMs: string;
  auditLog?: string;
}

function demoWarning(grpcPort: number, httpPort: number, DEMO_HOST: string, DEMO_PIN_API_TOKEN: string, DEMO_ADMIN_TOKEN: string): string {
  const bar = '!'.repeat(78);
  return [
    bar,
    '!! WARNING: callback-proxy is running the EMBEDDED DEMO SETUP (no --config given).',
    '!!   - connection "demo" on host ' + DEMO_HOST + ', backends "legacy" and "new", stage canary 50 %',
    '!!   - keys were generated at start and vanish on exit; pins live in memory only',
    '!!   - the Pin API token is the published demo token "' + DEMO_PIN_API_TOKEN + '"',
    '!!   - the admin token (role approver: stage changes) is the published demo token "' + DEMO_ADMIN_TOKEN + '"',
    '!! Never expose this to real traffic. Use --config registry.yaml for anything else.',
    `!! gRPC ext_authz on 127.0.0.1:${grpcPort}   HTTP forward-auth / Pin API on 127.0.0.1:${httpPort}`,
    '!! try: callback-proxy pins mint --connection demo --backend new',
    '!!      CALLBACK_PROXY_ADMIN_TOKEN=' + DEMO_ADMIN_TOKEN + ' callback-proxy stage show',
    bar,
  ].join('\n');
}

export function registerServeCommand(program: Command): void {
  const serve = program
    .command('serve')
    .description('run the ext-authz service (gRPC ext_authz + HTTP forward-auth + Pin API); no flags = embedded demo');
  addRuntimeOptions(serve, 'the embedded demo setup')
    .option('--grpc-addr <host:port>', 'gRPC listen address', '127.0.0.1:9191')
    .option('--http-addr <host:port>', 'HTTP listen address (forward-auth, Pin API, health, metrics)', '127.0.0.1:9192')
    .option('--redis <url>', 'Redis URL for pins and replay markers (default: in memory)')
    .option('--tls-cert <file>', 'PEM certificate chain for the gRPC listener')
    .option('--tls-key <file>', 'PEM private key for the gRPC listener')
    .option('--tls-ca <file>', 'PEM CA bundle: require and verify client certificates (mTLS)')
    .option('--http-tls-cert <file>', 'PEM certificate chain for the HTTP listener (Pin API, forward-auth, health, metrics)')
    .option('--http-tls-key <file>', 'PEM private key for the HTTP listener')
    .option('--http-tls-ca <file>', 'PEM CA bundle: the HTTP listener requires and verifies client certificates (mTLS)')
    .option('--decision-log <file|stdout>', 'write OPA-style decision log events (masked) as JSON lines')
    .addOption(new Option('--log-level <level>', 'log level (default: $LOG_LEVEL, else info)').choices(LOG_LEVELS))
    .option('--grace-ms <ms>', 'after SIGTERM keep serving this long with health NOT_SERVING', '2000')
    .option('--audit-log <file>', 'append the stage audit chain to this JSON-lines file (callback-proxy audit verify)')
    .addHelpText(
      'after',
      exitCodesHelp({ ok: 'after a clean shutdown (SIGTERM or SIGINT)', usage: 'bad usage or a failed start-up (the message names the file or field)' }) +
        '\nA second signal exits at once with 130; a drain that outlasts 30 s exits 1.',
    )
    .action(async (f: ServeFlags) => {
      if ((f.tlsCert && !f.tlsKey) || (!f.tlsCert && f.tlsKey)) throw new CliError('cli_usage', '--tls-cert and --tls-key must be given together');
      if (f.tlsCa && !f.tlsCert) throw new CliError('cli_usage', '--tls-ca needs --tls-cert and --tls-key');
      if ((f.httpTlsCert && !f.httpTlsKey) || (!f.httpTlsCert && f.httpTlsKey)) throw new CliError('cli_usage', '--http-tls-cert and --http-tls-key must be given together');
      if (f.httpTlsCa && !f.httpTlsCert) throw new CliError('cli_usage', '--http-tls-ca needs --http-tls-cert and --http-tls-key');
      const grace = Number(f.graceMs);
      if (!Number.isInteger(grace) || grace < 0 || grace > 25_000) throw new CliError('cli_usage', '--grace-ms must be an integer between 0 and 25000');
      const logLevel = resolveLogLevel(f.logLevel, process.env.LOG_LEVEL);
      const opts: AppOptions = {
        configFile: f.config,
        policyDir: f.policy,
        dataFile: f.data,
        decisionPath: f.decision,
        grpcAddr: f.grpcAddr,
        httpAddr: f.httpAddr,
        redisUrl: f.redis,
        decisionLog: f.decisionLog ?? null,
        logLevel,
        graceMs: grace,
        watch: true,
        env: { ...process.env },
        auditLog: f.auditLog ?? null,
      };
      if (f.tlsCert && f.tlsKey) opts.tls = { cert: f.tlsCert, key: f.tlsKey, ca: f.tlsCa };
      if (f.httpTlsCert && f.httpTlsKey) opts.httpTls = { cert: f.httpTlsCert, key: f.httpTlsKey, ca: f.httpTlsCa };
      // Loaded here, not at the top: `--help` and the other commands should not pay for the service.
      const { App } = await import('../app');
      const { installShutdown } = await import('./shutdown');
      const { DEMO_ADMIN_TOKEN, DEMO_HOST, DEMO_PIN_API_TOKEN } = await import('../config/default');
      const app = new App(opts);
      installShutdown(app);
      let listening;
      try {
        listening = await app.listen();
        await app.load();
      } catch (e) {
        // The start-up error is the one to report; a failure to stop after it is said too, not dropped.
        await app.stop().catch((stopErr: unknown) => process.stderr.write(`callback-proxy: stopping after the failed start-up also failed: ${describeError(stopErr)}\n`));
        throw new CliError('cli_startup', `start-up failed: ${describeError(e)}`);
      }
      if (!f.config) process.stderr.write(`${demoWarning(listening.grpcPort, listening.httpPort, DEMO_HOST, DEMO_PIN_API_TOKEN, DEMO_ADMIN_TOKEN)}\n`);
      process.stderr.write(`callback-proxy ready: grpc=${f.grpcAddr.replace(/:\d+$/, `:${listening.grpcPort}`)} http=${f.httpAddr.replace(/:\d+$/, `:${listening.httpPort}`)}${opts.httpTls ? ' (https)' : ''}\n`);
      // Runs until a signal: installShutdown exits the process.
      await new Promise<never>(() => undefined);
    });
}
