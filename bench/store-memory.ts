// Bytes per pin and per replay marker in the in-memory stores (docs/operations.md, "Store budgets"):
// 100,000 entries each, measured with process.memoryUsage() around a forced GC. Entries are shaped like
// the real ones: keyed hashes (43-character base64url) made as a request would make them, pins made by
// createPin (the Pin API's path) with the registry's own names, expiries spread over ten minutes.
// With `redis` as second argument it also starts a redis-server (no persistence) and reports Redis's own
// used_memory per marker and per pin, written through the stores' scripts.
// Run:  node --expose-gc -r ./scripts/ts-register.cjs bench/store-memory.ts [count] [redis]
import { createDemoSetup } from '../ext-authz/src/config/default';
import { createFactsDeps } from '../ext-authz/src/pipeline/facts/gather';
import { keyedHash } from '../ext-authz/src/pipeline/facts/keyed-hash';
import { createPin } from '../ext-authz/src/pipeline/pins/mint';
import { MemoryPinStore, MemoryReplayStore } from '../ext-authz/src/store/memory-store';
import { createRedisStores } from '../ext-authz/src/store/redis-store';
import { spawn } from 'node:child_process';
import { freePort } from '../demo/ports';

const N = Number(process.argv[2] ?? 100_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('run with node --expose-gc');
  process.exit(2);
}

function settle(): NodeJS.MemoryUsage {
  for (let i = 0; i < 4; i++) gc?.();
  return process.memoryUsage();
}

const mb = (b: number): string => `${(b / 1048576).toFixed(1)} MB`;

async function main(): Promise<void> {
  const setup = createDemoSetup();
  const budgets = { state: N + 1, code: N + 1, jti: N + 1, webhook: N + 1, pin: N + 1 };
  const key = Buffer.alloc(32, 7);

  // Markers: the keyed hash is made per request and kept by the store, so it is made inside the
  // measured window: the figure is what one more held marker costs, hash string included.
  const m0 = settle();
  const replay = new MemoryReplayStore({ budgets });
  for (let i = 0; i < N; i++) await replay.commit([{ namespace: 'code', hash: keyedHash(key, 'code', `value-${i}`), ttlMs: 600_000 + (i % 600) * 1000 }]);
  const m1 = settle();

  // Pins through createPin (the Pin API's path), on a store holding nothing else.
  const pinStore = new MemoryPinStore({ budgets });
  const deps = createFactsDeps(setup.registry, { pinStore, replayStore: new MemoryReplayStore() });
  const states = Array.from({ length: N }, (_, i) => `state-${i}-${'x'.repeat(24)}`);
  const p0 = settle();
  const now = Date.now();
  for (let i = 0; i < N; i++) await createPin('demo', i % 2 ? 'legacy' : 'new', states[i], 'query', deps, now);
  const p1 = settle();

  const perMarker = (m1.heapUsed - m0.heapUsed) / N;
  const perPin = (p1.heapUsed - p0.heapUsed) / N;
  const out = {
    entries: N,
    node: process.version,
    marker: {
      heap_bytes_per_entry: Math.round(perMarker),
      rss_delta: mb(m1.rss - m0.rss),
      held: replay.counts().code,
    },
    pin: {
      heap_bytes_per_entry: Math.round(perPin),
      rss_delta: mb(p1.rss - p0.rss),
      held: pinStore.size,
    },
    at_default_budgets: {
      markers_250k_MB: +((perMarker * 250_000) / 1048576).toFixed(1),
      pins_250k_MB: +((perPin * 250_000) / 1048576).toFixed(1),
      all_classes_full_MB: +((perMarker * (250_000 + 250_000 + 100_000 + 100_000) + perPin * 250_000) / 1048576).toFixed(1),
    },
  };
  const redis = process.argv[3] === 'redis' ? await redisBytes(key) : undefined;
  console.log(JSON.stringify({ ...out, redis }, null, 2));
  void states.length;
}

void main();

/** Redis used_memory per marker and per pin, through the stores' scripts (budget counters included). */
async function redisBytes(key: Buffer): Promise<{ marker_bytes: number; pin_bytes: number }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  try {
    const stores = createRedisStores({ url: `redis://127.0.0.1:${port}`, checkSettings: false, commandTimeoutMs: 5000, budgets: { state: N + 1, code: N + 1, jti: N + 1, webhook: N + 1, pin: N + 1 } });
    for (let i = 0; i < 200 && !(await stores.link.waitUsable(50)); i++);
    const used = async (): Promise<number> => Number(/used_memory:(\d+)/.exec(await stores.client.info('memory'))?.[1]);
    const batch = async (f: (i: number) => Promise<unknown>): Promise<void> => {
      for (let i = 0; i < N; i += 500) await Promise.all(Array.from({ length: Math.min(500, N - i) }, (_, j) => f(i + j)));
    };
    const a = await used();
    await batch((i) => stores.replayStore.commit([{ namespace: 'code', hash: keyedHash(key, 'code', `r-${i}`), ttlMs: 600_000 + (i % 600) * 1000 }]));
    const b = await used();
    const now = Date.now();
    await batch((i) => stores.pinStore.put({ flow_key_hash: keyedHash(key, 'state', `p-${i}`), backend: 'legacy', issuer: 'https://legacy-idp.example.com', connection: 'demo', response_mode: 'query', created_at: now, expires_at: now + 600_000 }, 1_200_000));
    const c = await used();
    await stores.close();
    return { marker_bytes: Math.round((b - a) / N), pin_bytes: Math.round((c - b) / N) };
  } finally {
    child.kill('SIGKILL');
  }
}
