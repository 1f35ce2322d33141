// Two service replicas sharing one real Redis (`serve --redis`): a pin registered through replica A is
// honoured by replica B, and a replay on A after B consumed it is denied. Skips loudly without
// redis-server, except in CI.
import { createDemoSetup } from '../../ext-authz/src/config/default';
import { startHarness, cb, ISS_LEGACY } from '../support/app-harness';
import type { Harness } from '../support/app-harness';
import { redisAvailability, startRedis, type RunningRedis } from '../support/redis-server';

jest.setTimeout(60_000);

const maybe = redisAvailability('redis replica tests') ? describe : describe.skip;

maybe('replicas over Redis', () => {
  let redis: RunningRedis;
  let a: Harness;
  let b: Harness;
  beforeAll(async () => {
    redis = await startRedis();
    const demo = createDemoSetup();
    const url = `${redis.url}/0`;
    a = await startHarness({ demo, redisUrl: url });
    b = await startHarness({ demo, redisUrl: url });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    redis?.stop();
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
