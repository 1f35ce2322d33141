// Benchmark server child (`npm run bench` forks it): either a null grpc-js Authorization server that
// decodes the CheckRequest and answers a fixed OK without work, or the real App (embedded default, the
// callback policy) — `app` with no OTEL_* settings, `app-traced` exporting a span per check over
// OTLP/HTTP to BENCH_OTLP_URL (metrics push off, so the difference is tracing; batches leave every
// 200 ms so their cost lands inside the measured window). Both servers are the compiled dist/
// (bench/dist.ts), the runtime the service ships; the require hook in this process only transforms this
// bench glue (.ts), never a module of the server.
//
// Server-side latency is timed in this process, around the Check method of whichever server runs here:
// from the start of grpc-js's request decoding to the return of the response callback (which encodes
// the CheckResponse and hands it to HTTP/2) — the same instrument for the null server and ours, and
// independent of the client sharing the machine. Talks to the parent over IPC: {ready, port}, then
// answers {cmd:'stats'} with CPU time, RSS and the handler times since the last stats.
import * as fs from 'node:fs';
import * as inspector from 'node:inspector';
import * as grpc from '@grpc/grpc-js';
import { distApp, distLogger, distProtos } from './dist';
import { profilePhases } from './phase-profile';

type Msg = { cmd: 'stats' } | { cmd: 'profile'; n: number } | { cmd: 'exit' } | { cmd: 'cpu-prof'; on: boolean; file?: string };

/**
 * A V8 CPU profile of the timed window only (BENCH_CPU_PROF): the same profiler as `node --cpu-prof`,
 * started and stopped through node:inspector around the level, so minting and start-up stay out of it.
 */
const session = new inspector.Session();
let profiling = false;
function cpuProf(on: boolean, file: string | undefined, done: () => void): void {
  if (on) {
    if (!profiling) session.connect();
    profiling = true;
    session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 200 }, () => session.post('Profiler.start', () => done())));
    return;
  }
  session.post('Profiler.stop', (err, r) => {
    if (!err && file) fs.writeFileSync(file, JSON.stringify(r.profile));
    done();
  });
}

function send(m: unknown): void {
  if (process.send) process.send(m);
}

/** Handler times (ns) since the last `stats`; bounded so a long run cannot grow it without limit. */
const times = new Float64Array(1 << 20);
let timed = 0;
const CHECK = '/envoy.service.auth.v3.Authorization/Check';

/**
 * Wraps the Check method of every service added to a grpc-js Server in this process: `requestDeserialize`
 * notes when decoding began (kept on the decoded object), the handler's callback notes the end. Patched
 * on the prototype before any server exists, so the null server and the App's get the same instrument.
 */
function instrumentCheck(): void {
  const started = new WeakMap<object, bigint>();
  const add = grpc.Server.prototype.addService;
  grpc.Server.prototype.addService = function (this: grpc.Server, service: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation): void {
    const def = service.Check as grpc.MethodDefinition<object, unknown> | undefined;
    if (!def || def.path !== CHECK || typeof impl.Check !== 'function') return add.call(this, service, impl);
    const decode = def.requestDeserialize;
    const timedDef = {
      ...def,
      requestDeserialize: (b: Buffer): object => {
        const t = process.hrtime.bigint();
        const v = decode(b);
        started.set(v, t);
        return v;
      },
    };
    const handler = impl.Check as grpc.handleUnaryCall<object, unknown>;
    const timedHandler: grpc.handleUnaryCall<object, unknown> = (call, cb) => {
      const t0 = started.get(call.request);
      handler(call, (err, value, trailer, flags) => {
        cb(err, value, trailer, flags);
        if (t0 !== undefined && timed < times.length) times[timed++] = Number(process.hrtime.bigint() - t0);
      });
    };
    return add.call(this, { ...service, Check: timedDef }, { ...impl, Check: timedHandler as grpc.UntypedHandleCall });
  };
}

function handlerStats(): { n: number; p50_us: number; p99_us: number; p999_us: number; max_us: number } {
  const v = Array.from(times.subarray(0, timed)).sort((a, b) => a - b);
  timed = 0;
  const at = (p: number): number => (v.length === 0 ? 0 : Math.round(v[Math.min(v.length - 1, Math.ceil(p * v.length) - 1)] / 100) / 10);
  return { n: v.length, p50_us: at(0.5), p99_us: at(0.99), p999_us: at(0.999), max_us: v.length ? Math.round(v[v.length - 1] / 100) / 10 : 0 };
}

async function startNull(): Promise<number> {
  const protos = distProtos().loadProtos();
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
  instrumentCheck();
  const kind = process.argv[2];
  let app: InstanceType<ReturnType<typeof distApp>['App']> | null = null;
  let port: number;
  let httpPort = 0;
  if (kind === 'null') port = await startNull();
  else {
    // As `npm start` runs it: one info line per deny (stdout goes to /dev/null, see check-grpc.ts).
    const env: Record<string, string> = kind === 'app-traced' ? { OTEL_EXPORTER_OTLP_ENDPOINT: process.env.BENCH_OTLP_URL ?? '', OTEL_METRICS_EXPORTER: 'none', OTEL_BSP_SCHEDULE_DELAY: '200' } : {};
    const { App } = distApp();
    app = new App({ grpcAddr: '127.0.0.1:0', httpAddr: '127.0.0.1:0', graceMs: 0, watch: false, env, logger: distLogger().createLogger({ level: process.env.BENCH_LOG_LEVEL ?? 'info' }) });
    if (kind === 'app-traced' && !app.telemetry.tracing.enabled) throw new Error('app-traced: tracing is not on (BENCH_OTLP_URL unset?)');
    const l = await app.start();
    port = l.grpcPort;
    httpPort = l.httpPort;
  }
  process.on('message', (m: Msg) => {
    if (m.cmd === 'stats') send({ cpu: process.cpuUsage(), rss: process.memoryUsage().rss, handler: handlerStats() });
    else if (m.cmd === 'profile' && app) void profilePhases(app, m.n).then((p) => send({ profile: p }));
    else if (m.cmd === 'cpu-prof') cpuProf(m.on, m.file, () => send({ profiled: m.on }));
    else if (m.cmd === 'exit') void (app ? app.stop() : Promise.resolve()).then(() => process.exit(0));
  });
  send({ ready: true, port, httpPort });
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
