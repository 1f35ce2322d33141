// Readiness tells the truth (docs/operations.md, "Health and readiness"): with a Redis store the service
// is ready only while Redis is reachable — /readyz names the failing condition, grpc.health.v1 turns
// NOT_SERVING, callback_proxy_redis_up follows — and it recovers when Redis comes back. A Redis that is
// down at start does not stop start-up: the service comes up "not ready: store".
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { freePort } from '../../demo/ports';
import { httpRequest, startHarness } from '../support/app-harness';
import { redisAvailability, startRedis } from '../support/redis-server';

jest.setTimeout(90_000);

const HAVE_REDIS = redisAvailability('readiness with a Redis store');
const maybe = HAVE_REDIS ? test : test.skip;
const HealthClient = grpc.makeClientConstructor(healthService, 'grpc.health.v1.Health');

function health(client: any): Promise<string> {
  return new Promise((resolve, reject) => client.Check({ service: '' }, (e: Error | null, v: { status: string }) => (e ? reject(e) : resolve(v.status))));
}

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const metric = async (port: number, series: string): Promise<number | undefined> => {
  const line = (await httpRequest(port, 'GET', '/metrics', {})).body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

maybe('Redis down → not ready, naming the store; Redis back → ready again', async () => {
  let redis = await startRedis();
  const h = await startHarness({ redisUrl: redis.url });
  const hc = new HealthClient(`127.0.0.1:${h.grpcPort}`, grpc.credentials.createInsecure()) as any;
  try {
    expect(await httpRequest(h.adminPort, 'GET', '/readyz', {})).toMatchObject({ status: 200, body: 'ready\n' });
    expect(await metric(h.adminPort, 'callback_proxy_redis_up')).toBe(1);
    expect(await metric(h.adminPort, 'callback_proxy_readiness_condition{condition="store"}')).toBe(1);
    expect(await health(hc)).toBe('SERVING');
    expect(h.logs.join('')).not.toContain('pins_per_process');

    redis.stop();
    const down = await until(() => httpRequest(h.adminPort, 'GET', '/readyz', {}), (r) => r.status === 503);
    expect(down.status).toBe(503);
    expect(down.body).toMatch(/^not ready: store: redis (connection closed|reconnecting|unreachable)\n$/);
    expect(await metric(h.adminPort, 'callback_proxy_redis_up')).toBe(0);
    expect(await metric(h.adminPort, 'callback_proxy_ready')).toBe(0);
    expect(await health(hc)).toBe('NOT_SERVING');

    redis = await startRedis(5000, { port: redis.port });
    const back = await until(() => httpRequest(h.adminPort, 'GET', '/readyz', {}), (r) => r.status === 200);
    expect(back.body).toBe('ready\n');
    expect(await metric(h.adminPort, 'callback_proxy_redis_up')).toBe(1);
    expect(await health(hc)).toBe('SERVING');
  } finally {
    hc.close();
    await h.close();
    redis.stop();
  }
});

test('a Redis that is unreachable at start: the service starts, not ready, naming the store', async () => {
  const closed = await freePort();
  const h = await startHarness({ redisUrl: `redis://127.0.0.1:${closed}` });
  try {
    const r = await httpRequest(h.adminPort, 'GET', '/readyz', {});
    expect(r.status).toBe(503);
    expect(r.body).toMatch(/^not ready: store: redis /);
    expect(h.logs.join('')).toContain('"event":"loaded_not_ready"');
    // Checks still get an answer: a deny with a reason, never an error.
    expect(await h.ask('grpc', { path: '/oauth2/callback?code=a&state=b' })).toMatchObject({ allowed: false });
  } finally {
    await h.close();
  }
});
