// CPU per check with tracing off and on, in-process (not a test; `npx tsx bench/tracing-cost.ts`):
// the same App runtime behind two check cores — one without spans, one exporting a span per check
// (plus its facts, policy and store child spans) over OTLP/HTTP to a local sink that discards — fed
// the same kind of pre-decoded CheckRequests (allowed callbacks with a traceparent), in interleaved
// batches with alternating order. No gRPC, so the difference is not buried in transport noise;
// `BENCH_TRACING=both npm run bench` measures the same over real gRPC. The machine is shared: compare
// the two columns of one run, not runs. BENCH_SAMPLER=always_off keeps tracing on but records nothing:
// what is left is the context propagation (AsyncLocalStorage) and the span plumbing.
import * as http from 'node:http';
import * as os from 'node:os';
import { App } from '../ext-authz/src/app';
import { CheckCore } from '../ext-authz/src/check/check-core';
import { adaptCheckRequest } from '../ext-authz/src/check/adapter';
import type { DecodedCheckRequest } from '../ext-authz/src/check/check-request-types';
import { loadProtos } from '../ext-authz/src/check/protos';
import { mintState } from '../ext-authz/src/pipeline/pins/mint';
import { silentLogger } from '../ext-authz/src/telemetry/logger';
import { callbackRequest } from './requests';

const N = Number(process.env.BENCH_COUNT ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);

async function main(): Promise<void> {
  let exported = 0;
  const sink = http.createServer((req, res) => {
    req.on('data', (c: Buffer) => (exported += c.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(sink.address() as { port: number }).port}`;
  const app = new App({ grpcAddr: '127.0.0.1:0', httpAddr: '127.0.0.1:0', watch: false, logger: silentLogger(), env: { OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_METRICS_EXPORTER: 'none', OTEL_BSP_SCHEDULE_DELAY: '200', OTEL_TRACES_SAMPLER: process.env.BENCH_SAMPLER ?? 'parentbased_always_on' } });
  await app.start();
  const rt = app.current!;
  const check = loadProtos().authorizationService.Check;
  const core = (traced: boolean): CheckCore =>
    new CheckCore({ decider: () => rt.pipeline, logger: silentLogger(), metrics: app.metrics, decisionLog: null, tracing: traced ? app.telemetry.tracing : undefined });
  const cores = { off: core(false), on: core(true) };
  // Every batch gets its own freshly minted states (each allowed callback consumes its pin).
  const batches: DecodedCheckRequest[][] = [];
  for (let b = 0; b < 2 * ROUNDS + 2; b++) {
    const reqs: DecodedCheckRequest[] = [];
    for (let i = 0; i < N; i++) {
      const backend = i % 2 === 0 ? 'legacy' : 'new';
      const { state } = await mintState('demo', backend, rt.factsDeps(), Date.now());
      reqs.push(check.requestDeserialize(check.requestSerialize(callbackRequest(state, backend))) as DecodedCheckRequest);
    }
    batches.push(reqs);
  }
  const run = async (c: CheckCore): Promise<number> => {
    const reqs = batches.pop()!;
    const cpu0 = process.cpuUsage();
    for (const r of reqs) await c.run(adaptCheckRequest(r), 'grpc', process.hrtime.bigint(), c.traced ? { headers: r.attributes?.request?.http?.headers } : undefined);
    await app.telemetry.flush(); // the export work of this batch counts for it
    const u = process.cpuUsage(cpu0);
    return (u.user + u.system) / N;
  };
  await run(cores.off); // warm-up, not counted
  await run(cores.on);
  const us: Record<'off' | 'on', number[]> = { off: [], on: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const k of r % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) us[k].push(Math.round(await run(cores[k])));
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`tracing-cost: ${ROUNDS} rounds × ${N} allowed checks per mode; load average ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} cores`);
  console.log(`CPU µs per check — off: median ${med(us.off)} (${us.off.join(', ')}); on: median ${med(us.on)} (${us.on.join(', ')}); tracing adds ${med(us.on) - med(us.off)} µs`);
  console.log(`exported ${Math.round(exported / 1024)} KiB of spans`);
  await app.stop();
  sink.close();
}

void main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
