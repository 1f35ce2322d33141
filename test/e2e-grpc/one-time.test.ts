// One-time things are consumed last, atomically, and only by a forwarded callback (docs/threat-model.md
// T-S4, T-C1): a refused callback never burns the victim's state, and concurrent twins are
// exactly-once — over gRPC and HTTP, with the in-memory store and with a real Redis (skipped loudly
// without redis-server, required in CI).
// Threat rows (docs/threat-model.md): T-S9, T-S10, T-S11, T-S12, T-C7.
import { startHarness, cb, ISS_LEGACY, ISS_NEW } from '../support/app-harness';
import type { Harness, Transport } from '../support/app-harness';
import { OTHER_HOST, storePin, mintedState, storeReady, twoConnectionSetup } from './two-connections';
import { redisAvailability, startRedis, type RunningRedis } from '../support/redis-server';
import { createDemoSetup } from '../../ext-authz/src/config/default';

jest.setTimeout(120_000);

const withRedis = redisAvailability('one-time consumption over Redis');
const STORES = withRedis ? (['memory', 'redis'] as const) : (['memory'] as const);
const TRANSPORTS: Transport[] = ['grpc', 'http-envoy'];
let seq = 0;
const code = (tag: string): string => `${tag}-${process.pid}-${++seq}`;

describe.each(STORES)('with the %s store', (store) => {
  let redis: RunningRedis | null = null;
  let h: Harness;
  let two: Harness;

  beforeAll(async () => {
    let redisUrl: string | undefined;
    if (store === 'redis') {
      redis = await startRedis();
      redisUrl = `${redis.url}/0`;
    }
    h = await startHarness({ demo: createDemoSetup(), redisUrl });
    two = await startHarness({ demo: twoConnectionSetup(), redisUrl: redisUrl ? `${redis?.url}/1` : undefined });
    await storeReady(h);
    await storeReady(two);
  });
  afterAll(async () => {
    await h?.close();
    await two?.close();
    redis?.stop();
  });

  describe.each(TRANSPORTS)('over %s', (t) => {
    test('a callback refused for a bad or mixed-up iss does not burn the state (store pin and envelope)', async () => {
      for (const [state, iss] of [[await storePin(h, 'demo', 'legacy'), ISS_LEGACY], [await h.mint('new'), ISS_NEW]] as const) {
        const forged = await h.ask(t, { path: cb({ code: code('forged'), state, iss: 'https://attacker.example' }) });
        expect(forged).toMatchObject({ allowed: false, reason: 'issuer_unknown' });
        const mixup = await h.ask(t, { path: cb({ code: code('mixup'), state, iss: iss === ISS_LEGACY ? ISS_NEW : ISS_LEGACY }) });
        expect(mixup).toMatchObject({ allowed: false, reason: 'issuer_mismatch' });
        // The user's real callback still goes through, exactly once.
        const real = await h.ask(t, { path: cb({ code: code('real'), state, iss }) });
        expect(real).toMatchObject({ allowed: true, backend: iss === ISS_LEGACY ? 'legacy' : 'new' });
        expect(await h.ask(t, { path: cb({ code: code('again'), state, iss }) })).toMatchObject({ allowed: false, reason: 'state_replayed' });
      }
    });

    test('a state sent to another connection\'s host (tenant_mismatch) does not burn it', async () => {
      const state = await storePin(two, 'demo', 'legacy');
      const wrong = await two.ask(t, { host: OTHER_HOST, path: cb({ code: code('tenant'), state, iss: ISS_LEGACY }) });
      expect(wrong).toMatchObject({ allowed: false, reason: 'tenant_mismatch' });
      expect(await two.ask(t, { path: cb({ code: code('real'), state, iss: ISS_LEGACY }) })).toMatchObject({ allowed: true, backend: 'legacy' });
    });

    test('a code seen only on refused callbacks is not recorded; a forwarded one is (T-C1)', async () => {
      const c = code('shared');
      // Unknown states (an unauthenticated flood) write nothing, so the same code is not "replayed" …
      for (let i = 0; i < 3; i++) expect(await h.ask(t, { path: cb({ code: c, state: `junk-${i}-${seq}` }) })).toMatchObject({ allowed: false, reason: 'state_unknown' });
      const state = await storePin(h, 'demo', 'legacy');
      expect(await h.ask(t, { path: cb({ code: c, state, iss: ISS_LEGACY }) })).toMatchObject({ allowed: true, backend: 'legacy' });
      // … and once a verified flow forwarded it, the code is spent for any state.
      const other = await storePin(h, 'demo', 'legacy');
      expect(await h.ask(t, { path: cb({ code: c, state: other, iss: ISS_LEGACY }) })).toMatchObject({ allowed: false, reason: 'code_replayed' });
      // The refused request consumed nothing: `other` still works with a fresh code.
      expect(await h.ask(t, { path: cb({ code: code('fresh'), state: other, iss: ISS_LEGACY }) })).toMatchObject({ allowed: true });
    });
  });

  test('50 concurrent identical callbacks (store pin and envelope): exactly one allowed', async () => {
    for (const [state, iss, backend] of [[await storePin(h, 'demo', 'legacy'), ISS_LEGACY, 'legacy'], [await h.mint('new'), ISS_NEW, 'new']] as const) {
      const c = code('race');
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) => h.ask(TRANSPORTS[i % 2], { path: cb({ code: c, state, iss }) })),
      );
      const allowed = answers.filter((a) => a.allowed);
      expect(allowed).toHaveLength(1);
      expect(allowed[0].backend).toBe(backend);
      for (const a of answers.filter((x) => !x.allowed)) expect(['state_replayed', 'code_replayed']).toContain(a.reason);
    }
  });

  test('one state sent concurrently with 50 different codes: exactly one allowed, and the losers\' codes stay unspent', async () => {
    const state = await storePin(h, 'demo', 'legacy');
    const codes = Array.from({ length: 50 }, () => code('twin'));
    const answers = await Promise.all(codes.map((c, i) => h.ask(TRANSPORTS[i % 2], { path: cb({ code: c, state, iss: ISS_LEGACY }) })));
    expect(answers.filter((a) => a.allowed)).toHaveLength(1);
    for (const a of answers.filter((x) => !x.allowed)) expect(a.reason).toBe('state_replayed');
    // All or nothing: a losing request wrote no code marker.
    const loser = codes[answers.findIndex((a) => !a.allowed)];
    expect(await h.ask('grpc', { path: cb({ code: loser, state: await storePin(h, 'demo', 'legacy'), iss: ISS_LEGACY }) })).toMatchObject({ allowed: true });
  });

  test('two different codes on one envelope state at once: exactly one allowed', async () => {
    const state = await mintedState(h, 'demo', 'new');
    const [a, b] = await Promise.all([
      h.ask('grpc', { path: cb({ code: code('pair-a'), state, iss: ISS_NEW }) }),
      h.ask('http-envoy', { path: cb({ code: code('pair-b'), state, iss: ISS_NEW }) }),
    ]);
    expect([a.allowed, b.allowed].filter(Boolean)).toHaveLength(1);
    expect([a, b].find((x) => !x.allowed)?.reason).toBe('state_replayed');
  });
});
