// Two service replicas sharing one real Redis (`serve --redis`): a pin registered through replica A is
// honoured by replica B, and a replay on A after B consumed it is denied. Skips loudly without
// redis-server, except in CI.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { createDemoSetup } from '../../ext-authz/src/config/default';
import { startHarness, cb, ISS_LEGACY } from '../e2e-grpc/harness';
import type { Harness } from '../e2e-grpc/harness';

jest.setTimeout(60_000);

const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedis) {
  if (process.env.CI === 'true') throw new Error('redis-server is required in CI (apt-get install redis-server)');
  console.warn('SKIPPING redis replica tests: redis-server not found on PATH');
}
const maybe = hasRedis ? describe : describe.skip;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitReady(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.end();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('redis-server did not start');
}

maybe('replicas over Redis', () => {
  let redis: ChildProcess;
  let a: Harness;
  let b: Harness;
  beforeAll(async () => {
    const port = await freePort();
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitReady(port);
    const demo = createDemoSetup();
    const url = `redis://127.0.0.1:${port}/0`;
    a = await startHarness({ demo, redisUrl: url });
    b = await startHarness({ demo, redisUrl: url });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    redis?.kill('SIGKILL');
  });

  test('a pin minted on A routes on B; the replay on A is state_replayed', async () => {
    const state = await a.mint('legacy');
    expect(await b.ask('grpc', { path: cb({ code: 'redis-c1', state, iss: ISS_LEGACY }) })).toMatchObject({ allowed: true, backend: 'legacy' });
    expect(await a.ask('grpc', { path: cb({ code: 'redis-c2', state, iss: ISS_LEGACY }) })).toMatchObject({ allowed: false, reason: 'state_replayed' });
  });

  test('a signed envelope consumed on B is a replay on A (shared replay markers)', async () => {
    const state = await a.mint('new');
    expect(await b.ask('http-envoy', { path: cb({ code: 'redis-c3', state, iss: 'https://new-idp.example.com' }) })).toMatchObject({ allowed: true, backend: 'new' });
    expect(await a.ask('http-envoy', { path: cb({ code: 'redis-c4', state, iss: 'https://new-idp.example.com' }) })).toMatchObject({ allowed: false, reason: 'state_replayed' });
  });
});
