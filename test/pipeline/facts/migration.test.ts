// Migration facts (DESIGN §3): keyed cohort buckets, drain and sunset flags at `now`.
import { randomBytes } from 'node:crypto';
import { cohortBucket } from '../../../ext-authz/src/pipeline/facts/migration';
import { keyedHash } from '../../../ext-authz/src/pipeline/facts/keyed-hash';
import { gatherFacts } from '../../../ext-authz/src/pipeline/facts/gather';
import { fixture, get, NOW } from './fixtures';

describe('cohortBucket', () => {
  it('is keyed: another key gives other buckets (clients cannot pick their cohort)', () => {
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    const ids = Array.from({ length: 200 }, (_, i) => `client-${i}`);
    const same = ids.filter((id) => cohortBucket(k1, 'demo', id) === cohortBucket(k2, 'demo', id)).length;
    expect(same).toBeLessThan(20);
  });

  it('is roughly uniform over 0..99', () => {
    const k = randomBytes(32);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 10000; i++) counts[Math.floor(cohortBucket(k, 'demo', `c${i}`) / 10)]++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(200);
  });

  it('depends on the connection', () => {
    const k = randomBytes(32);
    const diff = Array.from({ length: 100 }, (_, i) => `c${i}`).filter((id) => cohortBucket(k, 'a', id) !== cohortBucket(k, 'b', id)).length;
    expect(diff).toBeGreaterThan(80);
  });
});

describe('keyedHash', () => {
  it('is domain-separated by purpose', () => {
    const k = randomBytes(32);
    expect(keyedHash(k, 'state', 'x')).not.toBe(keyedHash(k, 'code', 'x'));
    expect(keyedHash(k, 'state', 'x')).toBe(keyedHash(k, 'state', 'x'));
    expect(keyedHash(k, 'state', 'x')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('migration facts in gather', () => {
  it('drained / sunset_exceeded follow now', async () => {
    const { deps } = fixture((r) => {
      r.connections[0].stage = 'cutover';
      r.connections[0].drain_until = NOW - 1;
      r.connections[0].sunset_at = NOW + 1000;
    });
    const f = await gatherFacts(get('/login'), deps, NOW);
    expect(f.input.migration).toMatchObject({
      stage: 'cutover',
      drained: true,
      drain_until: new Date(NOW - 1).toISOString(),
      sunset_exceeded: false,
      require_pin: true,
    });
    const later = await gatherFacts(get('/login'), deps, NOW + 2000);
    expect(later.input.migration?.sunset_exceeded).toBe(true);
  });

  it('cohort from source_ip when configured (never X-Forwarded-For)', async () => {
    const { deps } = fixture((r) => {
      r.connections[0].cohort_key = 'source_ip';
    });
    const a = await gatherFacts(get('/login', { sourceIp: '192.0.2.1', headers: { 'x-forwarded-for': '198.51.100.1' } }), deps, NOW);
    expect(a.input.migration?.cohort_bucket).toBe(cohortBucket(deps.keys.hash, 'demo', '192.0.2.1'));
  });
});

describe('legacy token retirement (THREATS T-J9 facts)', () => {
  it('legacy_tokens_retired follows the legacy retire_tokens_at', async () => {
    const { deps } = fixture((r) => {
      r.connections[0].backends[0].retire_tokens_at = NOW;
    });
    expect((await gatherFacts(get('/login'), deps, NOW - 1)).input.migration?.legacy_tokens_retired).toBe(false);
    expect((await gatherFacts(get('/login'), deps, NOW)).input.migration?.legacy_tokens_retired).toBe(true);
    const plain = fixture();
    expect((await gatherFacts(get('/login'), plain.deps, NOW)).input.migration?.legacy_tokens_retired).toBe(false);
  });
});
