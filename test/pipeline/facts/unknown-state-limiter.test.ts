// The unknown-state limiter (docs/threat-model.md T-C6): token buckets per source and per connection,
// charged only for lookups that found nothing, read without creating entries, bounded in size, and on
// the request's clock.
import { DEFAULT_LIMITS } from '../../../ext-authz/src/config/registry-schema';
import { sourceKey, UnknownStateLimiter } from '../../../ext-authz/src/pipeline/facts/unknown-state-limiter';
import type { Limits } from '../../../ext-authz/src/model/registry';

const limits = (over: Partial<Limits> = {}): Limits => ({ ...DEFAULT_LIMITS, unknown_states_per_source_per_min: 3, unknown_states_per_connection_per_min: 10, max_limited_sources: 100, ...over });
const T0 = 1_800_000_000_000;

describe('sourceKey', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['[2001:DB8:0001:0002::]', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    [undefined, '-'],
    ['', '-'],
    ['not-an-ip', '-'],
  ])('%s → %s', (ip, key) => {
    expect(sourceKey(ip)).toBe(key);
  });
});

describe('UnknownStateLimiter', () => {
  it('a source is let through until it has spent its allowance on unknown states, then refused; it refills over the minute', () => {
    const l = new UnknownStateLimiter();
    const lim = limits();
    for (let i = 0; i < 3; i++) {
      expect(l.blocked('192.0.2.1', 'demo', lim, T0)).toBeNull();
      l.charge('192.0.2.1', 'demo', lim, T0);
    }
    expect(l.blocked('192.0.2.1', 'demo', lim, T0)).toBe('source');
    // Another source is unaffected; so is the same source on the other side of a /64 boundary.
    expect(l.blocked('192.0.2.2', 'demo', lim, T0)).toBeNull();
    // 3 per minute: one token back after 20 s.
    expect(l.blocked('192.0.2.1', 'demo', lim, T0 + 19_000)).toBe('source');
    expect(l.blocked('192.0.2.1', 'demo', lim, T0 + 20_000)).toBeNull();
  });

  it('all addresses of one IPv6 /64 share a bucket', () => {
    const l = new UnknownStateLimiter();
    const lim = limits();
    for (let i = 1; i <= 3; i++) l.charge(`2001:db8:1:2::${i}`, 'demo', lim, T0);
    expect(l.blocked('2001:db8:1:2::99', 'demo', lim, T0)).toBe('source');
    expect(l.blocked('2001:db8:1:3::1', 'demo', lim, T0)).toBeNull();
  });

  it('the connection bucket closes only when many sources spent it; refused requests are not charged', () => {
    const limited: string[] = [];
    const l = new UnknownStateLimiter((scope, conn) => limited.push(`${scope}:${conn}`));
    const lim = limits();
    // One source alone spends at most its own 3 of the connection's 10, however hard it tries.
    for (let i = 0; i < 50; i++) if (l.blocked('198.51.100.1', 'demo', lim, T0) === null) l.charge('198.51.100.1', 'demo', lim, T0);
    expect(l.blocked('198.51.100.2', 'demo', lim, T0)).toBeNull();
    expect(limited).toHaveLength(47);
    // Spread over many sources, the connection's 10 run out; then fresh sources are refused too.
    for (let i = 2; i < 6; i++) for (let j = 0; j < 3; j++) if (l.blocked(`198.51.100.${i}`, 'demo', lim, T0) === null) l.charge(`198.51.100.${i}`, 'demo', lim, T0);
    expect(l.blocked('203.0.113.9', 'demo', lim, T0)).toBe('connection');
    expect(l.blocked('203.0.113.9', 'other', lim, T0)).toBeNull();
    expect(limited.at(-1)).toBe('connection:demo');
  });

  it('reading creates nothing; the table holds at most max_limited_sources, forgetting the least recently charged', () => {
    const l = new UnknownStateLimiter();
    const lim = limits({ max_limited_sources: 5, unknown_states_per_connection_per_min: 1_000_000 });
    for (let i = 0; i < 100; i++) l.blocked(`10.0.0.${i}`, 'demo', lim, T0);
    expect(l.trackedSources).toBe(0);
    for (let i = 0; i < 3; i++) l.charge('10.0.1.1', 'demo', lim, T0);
    for (let i = 0; i < 20; i++) l.charge(`10.0.2.${i}`, 'demo', lim, T0);
    expect(l.trackedSources).toBe(5);
    // 10.0.1.1 was charged longest ago: forgotten (its rate starts over; no replay marker is involved).
    expect(l.blocked('10.0.1.1', 'demo', lim, T0)).toBeNull();
  });

  it('a hook that throws never changes the answer', () => {
    const l = new UnknownStateLimiter(() => {
      throw new Error('metrics down');
    });
    const lim = limits();
    for (let i = 0; i < 3; i++) l.charge('192.0.2.1', 'demo', lim, T0);
    expect(l.blocked('192.0.2.1', 'demo', lim, T0)).toBe('source');
  });
});
