// Benchmark server child (`npm run bench` forks it): either a null grpc-js Authorization server that
// answers a fixed OK without work, or the real App (embedded default, the callback policy) — `app` with
// no OTEL_* settings, `app-traced` exporting a span per check over OTLP/HTTP to BENCH_OTLP_URL (metrics
// push off, so the difference is tracing; batches leave every 200 ms so their cost lands inside the
// measured window). Talks to the parent over IPC: {ready, port}, then answers
// {cmd:'stats'} with CPU time and RSS.
import * as grpc from '@grpc/grpc-js';
import { loadProtos } from '../ext-authz/src/check/protos';
import { App } from '../ext-authz/src/app';
import { createLogger } from '../ext-authz/src/telemetry/logger';
import { profilePhases } from './phase-profile';

type Msg = { cmd: 'stats' } | { cmd: 'profile'; n: number } | { cmd: 'exit' };

function send(m: unknown): void {
  if (process.send) process.send(m);
}

async function startNull(): Promise<number> {
  const protos = loadProtos();
  // Same server options as ours (server/grpc-server.ts) so the ratio compares the work, not the tuning.
  const server = new grpc.Server({ 'grpc.enable_channelz': 0 });
  const ok = { status: { code: 0 }, okResponse: { headers: [{ header: { key: 'x-callback-backend', value: 'legacy' }, appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }] } };
  server.addService(protos.authorizationService, {
    Check: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, ok),
  });
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, port) => (e ? reject(e) : resolve(port))),
  );
}

async function main(): Promise<void> {
  const kind = process.argv[2];
  let app: App | null = null;
  let port: number;
  let httpPort = 0;
  if (kind === 'null') port = await startNull();
  else {
    // As `npm start` runs it: one info line per decision (stdout goes to /dev/null, see check-grpc.ts).
    const env: Record<string, string> = kind === 'app-traced' ? { OTEL_EXPORTER_OTLP_ENDPOINT: process.env.BENCH_OTLP_URL ?? '', OTEL_METRICS_EXPORTER: 'none', OTEL_BSP_SCHEDULE_DELAY: '200' } : {};
    app = new App({ grpcAddr: '127.0.0.1:0', httpAddr: '127.0.0.1:0', graceMs: 0, watch: false, env, logger: createLogger({ level: process.env.BENCH_LOG_LEVEL ?? 'info' }) });
    if (kind === 'app-traced' && !app.telemetry.tracing.enabled) throw new Error('app-traced: tracing is not on (BENCH_OTLP_URL unset?)');
    const l = await app.start();
    port = l.grpcPort;
    httpPort = l.httpPort;
  }
  process.on('message', (m: Msg) => {
    if (m.cmd === 'stats') send({ cpu: process.cpuUsage(), rss: process.memoryUsage().rss });
    else if (m.cmd === 'profile' && app) void profilePhases(app, m.n).then((p) => send({ profile: p }));
    else if (m.cmd === 'exit') void (app ? app.stop() : Promise.resolve()).then(() => process.exit(0));
  });
  send({ ready: true, port, httpPort });
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
