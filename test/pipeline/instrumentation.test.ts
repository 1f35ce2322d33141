// The telemetry decorators around the pipeline's dependencies (pipeline/instrumentation.ts) change no
// result and swallow no failure: a store error is counted and re-thrown, a JWKS fetch is counted by
// result (against a real local HTTP server), a policy evaluation is timed by outcome — all visible in
// the service's Prometheus text.
import * as http from 'node:http';
import { freePort } from '../../demo/ports';
import { instrumentEngine, instrumentJwksFetch, instrumentPinStore, instrumentReplayStore } from '../../ext-authz/src/pipeline/instrumentation';
import type { PolicyEngine } from '../../ext-authz/src/policy/engine';
import { MemoryPinStore, MemoryReplayStore } from '../../ext-authz/src/store/memory-store';
import { createRedisStores } from '../../ext-authz/src/store/redis-store';
import { StoreError } from '../../ext-authz/src/store/types';
import { Telemetry } from '../../ext-authz/src/telemetry/telemetry';

jest.setTimeout(30_000);

const telemetry = (): Telemetry => new Telemetry({ env: {}, version: 'test', nodeVersion: process.version });
const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

test('stores: results pass through; a failing Redis is counted as an error and the StoreError re-thrown', async () => {
  const t = telemetry();
  const pins = instrumentPinStore(new MemoryPinStore(), 'memory', t.metrics);
  const replay = instrumentReplayStore(new MemoryReplayStore(), 'memory', t.metrics);
  const pin = { flow_key_hash: 'h1', backend: 'legacy', issuer: 'i', connection: 'demo', response_mode: null, created_at: 1, expires_at: Date.now() + 60_000 };
  expect(await pins.put(pin, 60_000)).toEqual({ status: 'created', pin });
  expect(await pins.get('h1')).toEqual(pin);
  expect(await pins.get('h1')).toEqual(pin);
  const marker = { namespace: 'code' as const, hash: 'c1', ttlMs: 1000 };
  expect(await replay.commit([marker])).toEqual({ ok: true });
  expect(await replay.commit([marker])).toEqual({ ok: false, taken: 0 });
  expect(await replay.peek([marker])).toEqual([true]);

  const closed = await freePort();
  const redis = createRedisStores({ url: `redis://127.0.0.1:${closed}`, commandTimeoutMs: 100 });
  const down = instrumentPinStore(redis.pinStore, 'redis', t.metrics);
  await expect(down.get('h2')).rejects.toBeInstanceOf(StoreError);
  await down.close();

  const text = await t.metricsText();
  expect(sample(text, 'callback_proxy_store_operations_total{store="memory",operation="pin_get"}')).toBe(2);
  expect(sample(text, 'callback_proxy_store_operations_total{store="memory",operation="replay_commit"}')).toBe(2);
  expect(sample(text, 'callback_proxy_store_operations_total{store="memory",operation="replay_peek"}')).toBe(1);
  expect(sample(text, 'callback_proxy_store_errors_total{store="memory",operation="pin_get"}')).toBe(0);
  expect(sample(text, 'callback_proxy_store_errors_total{store="redis",operation="pin_get"}')).toBe(1);
  expect(sample(text, 'callback_proxy_store_operation_duration_seconds_count{store="memory",operation="pin_put"}')).toBe(1);
  await t.shutdown();
});

test('JWKS fetches are counted by result against a real server; the response is passed through', async () => {
  const server = http.createServer((req, res) => {
    if (req.url === '/ok') res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}');
    else res.writeHead(503).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const t = telemetry();
  const f = instrumentJwksFetch(t.metrics);
  try {
    expect(await (await f(`http://127.0.0.1:${port}/ok`, {})).json()).toEqual({ keys: [] });
    expect((await f(`http://127.0.0.1:${port}/down`, {})).status).toBe(503);
    await expect(f(`http://127.0.0.1:${await freePort()}/`, {})).rejects.toThrow();
    const text = await t.metricsText();
    expect(sample(text, 'callback_proxy_jwks_fetches_total{result="ok"}')).toBe(1);
    expect(sample(text, 'callback_proxy_jwks_fetches_total{result="http_error"}')).toBe(1);
    expect(sample(text, 'callback_proxy_jwks_fetches_total{result="network_error"}')).toBe(1);
  } finally {
    server.close();
    await t.shutdown();
  }
});

test('policy evaluations are timed by outcome; sync and async engines keep their results', async () => {
  const t = telemetry();
  let n = 0;
  const sync: PolicyEngine = {
    kind: 'rego',
    decisionPath: 'data.x',
    revision: 'r1',
    evaluate: () => (++n % 2 === 1 ? { ok: true, value: { action: 'allow' } } : { ok: false, code: 'policy_timeout', detail: 'budget' }),
    close: async () => undefined,
  };
  const e = instrumentEngine(sync, t.metrics);
  expect(e.evaluate({})).toEqual({ ok: true, value: { action: 'allow' } });
  expect(e.evaluate({})).toEqual({ ok: false, code: 'policy_timeout', detail: 'budget' });
  expect([e.kind, e.decisionPath, e.revision]).toEqual(['rego', 'data.x', 'r1']);
  const asyncEngine = instrumentEngine({ ...sync, kind: 'wasm', evaluate: async () => ({ ok: false, code: 'policy_undefined', detail: 'd' }) }, t.metrics);
  expect(await asyncEngine.evaluate({})).toEqual({ ok: false, code: 'policy_undefined', detail: 'd' });
  const text = await t.metricsText();
  for (const outcome of ['ok', 'policy_timeout', 'policy_undefined']) {
    expect(sample(text, `callback_proxy_policy_evaluation_duration_seconds_count{outcome="${outcome}"}`)).toBe(1);
  }
  await t.shutdown();
});
