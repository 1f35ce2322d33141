// Migration facts (docs/stages.md, "The stages"): keyed cohort buckets, drain and sunset flags at `now`.
import { randomBytes } from 'node:crypto';
import { cohortBucket } from '../../../ext-authz/src/pipeline/facts/migration';
import { keyedHash } from '../../../ext-authz/src/pipeline/facts/keyed-hash';
import { gatherFacts } from '../../../ext-authz/src/pipeline/facts/gather';
import { hintSetCookie } from '../../../ext-authz/src/pipeline/pins/cookie-hint';
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

  it('cohort_key random: drawn server-side at login start, and a valid cookie hint keeps the side', async () => {
    let draw = 7;
    const { deps } = fixture((r) => {
      r.connections[0].cohort_key = 'random';
    }, { cohortDraw: () => draw });
    // Whatever the caller sends (login_hint, client_id, source address), the bucket is the draw.
    const a = await gatherFacts(get('/login?login_hint=alice', { sourceIp: '192.0.2.1' }), deps, NOW);
    expect(a.input.migration?.cohort_bucket).toBe(7);
    draw = 93;
    expect((await gatherFacts(get('/login?login_hint=alice'), deps, NOW)).input.migration?.cohort_bucket).toBe(93);
    // A hint from an earlier draw pins the side: new → 0 (in the canary), legacy → 99 (outside it).
    const hintNew = hintSetCookie(deps.keys.cookie, 'demo', 'new', NOW, 600).split(';')[0];
    const hintLegacy = hintSetCookie(deps.keys.cookie, 'demo', 'legacy', NOW, 600).split(';')[0];
    expect((await gatherFacts(get('/login', { headers: { cookie: hintNew } }), deps, NOW)).input.migration?.cohort_bucket).toBe(0);
    expect((await gatherFacts(get('/login', { headers: { cookie: hintLegacy } }), deps, NOW)).input.migration?.cohort_bucket).toBe(99);
    // Callbacks belong to their flow: no draw.
    expect((await gatherFacts(get('/oauth2/callback?code=c&state=s'), deps, NOW)).input.migration?.cohort_bucket).toBeNull();
  });

  it('cohort_key client_id: only a registered client_id has a bucket; login_hint never does', async () => {
    const { deps } = fixture();
    const a = await gatherFacts(get('/login?client_id=demo-client&login_hint=x'), deps, NOW);
    expect(a.input.migration?.cohort_bucket).toBe(cohortBucket(deps.keys.hash, 'demo', 'demo-client'));
    const b = await gatherFacts(get('/login?client_id=demo-client&login_hint=y'), deps, NOW);
    expect(b.input.migration?.cohort_bucket).toBe(a.input.migration?.cohort_bucket);
    const u = await gatherFacts(get('/login?client_id=someone-else'), deps, NOW);
    expect(u.input.migration?.cohort_bucket).toBeNull();
    expect(u.input.callback.violations).toEqual(['client_id_unknown']);
  });
});

describe('legacy token retirement (threat model T-J9 facts)', () => {
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
