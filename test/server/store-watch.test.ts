// What the service does with the stores' reports: readiness names the store while it is unusable, one
// log line per change of state, budget warnings at most once per class per interval (with how many were
// not logged), loss lines and counters. A real logger writing JSON lines, real readiness and metrics.
import { PassThrough } from 'node:stream';
import { Readiness } from '../../ext-authz/src/server/health';
import { watchStore } from '../../ext-authz/src/server/store-watch';
import { createLogger } from '../../ext-authz/src/telemetry/logger';
import { Telemetry } from '../../ext-authz/src/telemetry/telemetry';

function rig(kind: 'redis' | 'memory' = 'redis') {
  const lines: Record<string, unknown>[] = [];
  const stream = new PassThrough();
  stream.on('data', (c) => {
    for (const l of String(c).split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
  });
  const readiness = new Readiness();
  readiness.markLoaded();
  const telemetry = new Telemetry({ env: {}, version: '0.0.0', nodeVersion: process.version });
  const metrics = telemetry.metrics;
  const clock = { now: 1_800_000_000_000 };
  const observer = watchStore({ kind, logger: createLogger({ stream }), metrics, readiness, clock: () => clock.now, budgetLogIntervalMs: 60_000 });
  const flush = () => new Promise((r) => setImmediate(r));
  return { lines, readiness, metrics, metricsText: () => telemetry.metricsText(), clock, observer, flush };
}

test('redis: not ready until up; down and back follow the state, one line each', async () => {
  const r = rig();
  expect(r.readiness.ready).toBe(false);
  expect(r.readiness.reasons()).toEqual(['store: redis connecting']);
  r.observer.stateChanged?.('up', '');
  expect(r.readiness.ready).toBe(true);
  r.observer.stateChanged?.('down', 'redis connection lost');
  expect(r.readiness.ready).toBe(false);
  expect(r.readiness.reasons()).toEqual(['store: redis down']);
  expect(await r.metricsText()).toContain('callback_proxy_store_up{store="redis"} 0');
  r.observer.stateChanged?.('reconnecting', 'reconnecting to redis');
  expect(r.readiness.reasons()).toEqual(['store: redis reconnecting']);
  r.observer.stateChanged?.('up', '');
  expect(r.readiness.ready).toBe(true);
  expect(await r.metricsText()).toContain('callback_proxy_store_up{store="redis"} 1');
  await r.flush();
  expect(r.lines.map((l) => [l.event, l.level, l.back ?? null])).toEqual([
    ['store_up', 'info', null],
    ['store_down', 'error', null],
    ['store_reconnecting', 'warn', null],
    ['store_up', 'info', true],
  ]);
});

test('a memory store is ready from the start and reports up', async () => {
  const r = rig('memory');
  expect(r.readiness.ready).toBe(true);
  expect(await r.metricsText()).toContain('callback_proxy_store_up{store="memory"} 1');
});

test('full budgets: every refusal counted, one warning per class per minute saying how many it left out', async () => {
  const r = rig();
  for (let i = 0; i < 5; i++) r.observer.budgetFull?.('state');
  r.observer.budgetFull?.('code');
  r.clock.now += 59_000;
  r.observer.budgetFull?.('state');
  r.clock.now += 2_000;
  r.observer.budgetFull?.('state');
  r.observer.budgetFull?.(null);
  await r.flush();
  expect(r.metrics.storeBudgetExhausted.get(['state'])).toBe(7);
  expect(r.metrics.storeBudgetExhausted.get(['memory'])).toBe(1);
  expect(r.lines.map((l) => [l.event, l.class, l.suppressed])).toEqual([
    ['replay_budget_exhausted', 'state', 0],
    ['replay_budget_exhausted', 'code', 0],
    ['replay_budget_exhausted', 'state', 5],
    ['replay_budget_exhausted', 'memory', 0],
  ]);
});

test('epochs: joining is info, a first epoch a warning, a loss an error with its cause and a counter', async () => {
  const r = rig();
  r.observer.epochStarted?.(r.clock.now, 'joined');
  r.observer.epochStarted?.(r.clock.now, 'started');
  r.observer.epochStarted?.(r.clock.now, 'empty');
  r.observer.epochStarted?.(r.clock.now, 'rollback');
  r.observer.settingsWarning?.('redis_eviction_policy', 'set maxmemory-policy noeviction');
  await r.flush();
  expect(r.lines.map((l) => [l.event, l.level, l.cause ?? null])).toEqual([
    ['store_epoch_joined', 'info', null],
    ['store_epoch_started', 'warn', null],
    ['store_data_lost', 'error', 'empty'],
    ['store_data_lost', 'error', 'rollback'],
    ['redis_eviction_policy', 'warn', null],
  ]);
  expect(r.metrics.storeDataLost.get(['empty'])).toBe(1);
  expect(r.metrics.storeDataLost.get(['rollback'])).toBe(1);
});
