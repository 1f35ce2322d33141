// `callback-proxy serve`: the service. With no flags it runs the embedded demo setup (issue #3
// "Embedded default") and says so loudly.
import type { Command } from 'commander';
import type { AppOptions } from '../app';
import { CliError, describeError } from './cli-errors';

interface ServeFlags {
  config?: string;
  policy: string;
  data?: string;
  decision: string;
  grpcAddr: string;
  httpAddr: string;
  redis?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  decisionLog?: string;
  logLevel: string;
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
  program
    .command('serve')
    .description('run the ext-authz service (gRPC ext_authz + HTTP forward-auth + Pin API); no flags = embedded demo')
    .option('--config <file>', 'migration registry YAML (default: the embedded demo setup)')
    .option('--policy <dir>', 'policy directory (Rego + data files)', 'policies/callback')
    .option('--data <file>', 'extra data document (JSON/YAML) merged at the root of data')
    .option('--decision <path>', 'decision path, e.g. callback/decision or envoy/authz/allow', 'callback/decision')
    .option('--grpc-addr <host:port>', 'gRPC listen address', '127.0.0.1:9191')
    .option('--http-addr <host:port>', 'HTTP listen address (forward-auth, Pin API, health, metrics)', '127.0.0.1:9192')
    .option('--redis <url>', 'Redis URL for pins and replay markers (default: in memory)')
    .option('--tls-cert <file>', 'PEM certificate chain for the gRPC listener')
    .option('--tls-key <file>', 'PEM private key for the gRPC listener')
    .option('--tls-ca <file>', 'PEM CA bundle: require and verify client certificates (mTLS)')
    .option('--decision-log <file|stdout>', 'write OPA-style decision log events (masked) as JSON lines')
    .option('--log-level <level>', 'pino log level', process.env.LOG_LEVEL ?? 'info')
    .option('--grace-ms <ms>', 'after SIGTERM keep serving this long with health NOT_SERVING', '2000')
    .option('--audit-log <file>', 'append the stage audit chain to this JSON-lines file (callback-proxy audit verify)')
    .addHelpText('after', '\nExit codes: 0 after a clean shutdown, 2 when start-up fails (the message names the file or field).')
    .action(async (f: ServeFlags) => {
      if ((f.tlsCert && !f.tlsKey) || (!f.tlsCert && f.tlsKey)) throw new CliError('cli_usage', '--tls-cert and --tls-key must be given together');
      if (f.tlsCa && !f.tlsCert) throw new CliError('cli_usage', '--tls-ca needs --tls-cert and --tls-key');
      const grace = Number(f.graceMs);
      if (!Number.isInteger(grace) || grace < 0 || grace > 25_000) throw new CliError('cli_usage', '--grace-ms must be an integer between 0 and 25000');
      const opts: AppOptions = {
        configFile: f.config,
        policyDir: f.policy,
        dataFile: f.data,
        decisionPath: f.decision,
        grpcAddr: f.grpcAddr,
        httpAddr: f.httpAddr,
        redisUrl: f.redis,
        decisionLog: f.decisionLog ?? null,
        logLevel: f.logLevel,
        graceMs: grace,
        watch: true,
        env: { ...process.env },
        auditLog: f.auditLog ?? null,
      };
      if (f.tlsCert && f.tlsKey) opts.tls = { cert: f.tlsCert, key: f.tlsKey, ca: f.tlsCa };
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
        await app.stop().catch(() => undefined);
        throw new CliError('cli_startup', `start-up failed: ${describeError(e)}`);
      }
      if (!f.config) process.stderr.write(`${demoWarning(listening.grpcPort, listening.httpPort, DEMO_HOST, DEMO_PIN_API_TOKEN, DEMO_ADMIN_TOKEN)}\n`);
      process.stderr.write(`callback-proxy ready: grpc=${f.grpcAddr.replace(/:\d+$/, `:${listening.grpcPort}`)} http=${f.httpAddr.replace(/:\d+$/, `:${listening.httpPort}`)}\n`);
      // Runs until a signal: installShutdown exits the process.
      await new Promise<never>(() => undefined);
    });
}
