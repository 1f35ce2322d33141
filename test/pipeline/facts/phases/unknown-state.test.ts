// Fact providers `unknown-state-gate` / `unknown-state-charge` (docs/threat-model.md T-C6) and the
// store-epoch rule of the one-time provider, through the real facts phase with memory stores.
import { gatherFacts } from '../../../../ext-authz/src/pipeline/facts/gather';
import { createFactsDeps } from '../../../../ext-authz/src/pipeline/facts/gather';
import { createPin, mintState } from '../../../../ext-authz/src/pipeline/pins/mint';
import { UnknownStateLimiter } from '../../../../ext-authz/src/pipeline/facts/unknown-state-limiter';
import { MemoryPinStore, MemoryReplayStore } from '../../../../ext-authz/src/store/memory-store';
import type { RegistryConfig } from '../../../../ext-authz/src/model/registry';
import { demoSetup, fixture, get, ISS_L, NOW, post, signToken } from '../fixtures';

const small = (r: RegistryConfig): void => {
  r.limits.unknown_states_per_source_per_min = 3;
  r.limits.unknown_states_per_connection_per_min = 1000;
};
const cb = (state: string, code: string, sourceIp: string) => get(`/oauth2/callback?code=${code}&state=${encodeURIComponent(state)}`, { sourceIp });

describe('unknown-state limiter in the facts phase', () => {
  it('a source that spent its unknown states is refused rate_limited before the lookup, even for a state that exists', async () => {
    const { deps } = fixture(small);
    for (let i = 0; i < 3; i++) {
      const f = await gatherFacts(cb(`junk-${i}`, `c${i}`, '203.0.113.66'), deps, NOW);
      expect(f.input.callback.violations).toEqual([]);
      expect(f.input.pin.found).toBe(false);
    }
    await createPin('demo', 'legacy', 'real-state', null, deps, NOW);
    const refused = await gatherFacts(cb('real-state', 'c9', '203.0.113.66'), deps, NOW);
    expect(refused.input.callback.violations).toEqual(['rate_limited']);
    expect(refused.input.pin.found).toBe(false); // never looked up
    expect(refused.markers).toEqual([]); // nothing peeked, nothing to commit
    // The same state from another source is found as usual.
    const other = await gatherFacts(cb('real-state', 'c9', '198.51.100.7'), deps, NOW);
    expect(other.input.callback.violations).toEqual([]);
    expect(other.input.pin).toMatchObject({ found: true, backend: 'legacy' });
  });

  it('known states are never charged; a signed envelope is never gated', async () => {
    const { deps } = fixture(small);
    await createPin('demo', 'legacy', 'known', null, deps, NOW);
    for (let i = 0; i < 10; i++) expect((await gatherFacts(cb('known', `k${i}`, '203.0.113.1'), deps, NOW)).input.callback.violations).toEqual([]);
    for (let i = 0; i < 3; i++) await gatherFacts(cb(`junk-${i}`, `j${i}`, '203.0.113.1'), deps, NOW);
    expect((await gatherFacts(cb('known', 'x', '203.0.113.1'), deps, NOW)).input.callback.violations).toEqual(['rate_limited']);
    const { state } = await mintState('demo', 'new', deps, NOW);
    const env = await gatherFacts(cb(state, 'e1', '203.0.113.1'), deps, NOW);
    expect(env.input.callback.violations).toEqual([]);
    expect(env.input.pin).toMatchObject({ found: true, source: 'envelope' });
  });

  it('a flood over many sources closes store-backed lookups on the connection for everyone; signed flows still pass', async () => {
    const { deps } = fixture((r) => {
      r.limits.unknown_states_per_source_per_min = 3;
      r.limits.unknown_states_per_connection_per_min = 10;
    });
    await createPin('demo', 'legacy', 'legit', null, deps, NOW);
    for (let s = 0; s < 5; s++) for (let i = 0; i < 3; i++) await gatherFacts(cb(`junk-${s}-${i}`, `c${s}-${i}`, `203.0.113.${s}`), deps, NOW);
    expect((await gatherFacts(cb('legit', 'l1', '198.51.100.1'), deps, NOW)).input.callback.violations).toEqual(['rate_limited']);
    const { state } = await mintState('demo', 'new', deps, NOW);
    expect((await gatherFacts(cb(state, 'l2', '198.51.100.1'), deps, NOW)).input.callback.violations).toEqual([]);
    // The bucket refills: 10 a minute, one every 6 s.
    expect((await gatherFacts(cb('legit', 'l3', '198.51.100.1'), deps, NOW + 6_000)).input.pin).toMatchObject({ found: true, backend: 'legacy' });
  });

  it('envelopes that fail their MAC are charged like unknown states', async () => {
    const { deps } = fixture(small);
    for (let i = 0; i < 3; i++) expect((await gatherFacts(cb(`v1.new.9999999999.${'n'.repeat(24)}.${'A'.repeat(43)}`, `b${i}`, '192.0.2.9'), deps, NOW)).input.callback.violations).toContain('state_bad_mac');
    expect((await gatherFacts(cb('store-backed', 'b9', '192.0.2.9'), deps, NOW)).input.callback.violations).toEqual(['rate_limited']);
  });

  it('SAML RelayStates are gated and charged like states', async () => {
    const { deps } = fixture(small);
    const saml = encodeURIComponent(Buffer.from(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r"><saml:Issuer>${ISS_L}</saml:Issuer></samlp:Response>`).toString('base64'));
    const acs = (rs: string) => post('/saml/acs', `SAMLResponse=${saml}&RelayState=${rs}`, 'application/x-www-form-urlencoded', { sourceIp: '192.0.2.50' });
    expect((await gatherFacts(acs('rs-first'), deps, NOW)).input.callback.violations).toEqual([]);
    for (let i = 1; i < 3; i++) await gatherFacts(acs(`rs${i}`), deps, NOW);
    expect((await gatherFacts(acs('rs9'), deps, NOW)).input.callback.violations).toEqual(['rate_limited']);
  });

  it('the limiter outlives a registry reload when the app passes the same instance', async () => {
    const setup = demoSetup();
    const reg = structuredClone(setup.registry);
    small(reg);
    const unknownStates = new UnknownStateLimiter();
    const stores = { pinStore: new MemoryPinStore(), replayStore: new MemoryReplayStore() };
    const before = createFactsDeps(reg, { ...stores, unknownStates });
    for (let i = 0; i < 3; i++) await gatherFacts(cb(`junk-${i}`, `c${i}`, '203.0.113.5'), before, NOW);
    const after = createFactsDeps(structuredClone(reg), { ...stores, unknownStates });
    expect((await gatherFacts(cb('junk-9', 'c9', '203.0.113.5'), after, NOW)).input.callback.violations).toEqual(['rate_limited']);
  });
});

describe('a store that lost its data refuses what was issued before (store_data_lost)', () => {
  const lostAt = NOW - 10_000;
  const withEpoch = (epochNamespaces?: ('state' | 'relay' | 'code' | 'jti' | 'webhook')[]) =>
    createFactsDeps(demoSetup().registry, { pinStore: new MemoryPinStore(), replayStore: new MemoryReplayStore({ epochStartMs: lostAt, epochNamespaces }) });

  it('a store pin created before the epoch: denied with the pin error; one created after: as usual', async () => {
    const deps = withEpoch();
    await createPin('demo', 'legacy', 'before', null, deps, lostAt - 1);
    await createPin('demo', 'legacy', 'after', null, deps, lostAt);
    const f = await gatherFacts(get('/oauth2/callback?code=c1&state=before'), deps, NOW);
    expect(f.input.callback.violations).toEqual(['store_data_lost']);
    expect(f.input.pin.error).toBe('store_data_lost');
    const g = await gatherFacts(get('/oauth2/callback?code=c2&state=after'), deps, NOW);
    expect(g.input.callback.violations).toEqual([]);
    expect(g.markers.filter((m) => m.commit)).toHaveLength(2);
  });

  it('an envelope minted before the epoch is refused; one minted in the second the epoch began waits for the next second', async () => {
    // Minted by a service that did not know of a loss yet (epoch 0), presented after it.
    const old = await mintState('demo', 'new', fixture().deps, lostAt - 2_000);
    const deps = withEpoch();
    expect((await gatherFacts(get(`/oauth2/callback?code=c3&state=${encodeURIComponent(old.state)}`), deps, NOW)).input.callback.violations).toEqual(['store_data_lost']);
    // An epoch that began 300 ms into a second; a mint 100 ms later would read as issued at the start
    // of that second, before the epoch: it waits for the next second instead.
    const midSecond = createFactsDeps(demoSetup().registry, { pinStore: new MemoryPinStore(), replayStore: new MemoryReplayStore({ epochStartMs: lostAt + 300 }) });
    const t0 = Date.now();
    const same = await mintState('demo', 'new', midSecond, lostAt + 400);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
    expect(same.pin.created_at).toBe(lostAt + 1000);
    expect((await gatherFacts(get(`/oauth2/callback?code=c4&state=${encodeURIComponent(same.state)}`), midSecond, NOW)).input.callback.violations).toEqual([]);
    // On a whole-second epoch nothing waits.
    const t1 = Date.now();
    const onTime = await mintState('demo', 'new', deps, lostAt + 1);
    expect(Date.now() - t1).toBeLessThan(500);
    expect((await gatherFacts(get(`/oauth2/callback?code=c5&state=${encodeURIComponent(onTime.state)}`), deps, NOW)).input.callback.violations).toEqual([]);
  });

  it('a one-shot token issued before the epoch is refused; the flows-only memory epoch leaves tokens alone', async () => {
    const BCL = { 'http://schemas.openid.net/event/backchannel-logout': {} };
    const tok = await signToken(demoSetup(), { backend: 'legacy', header: { typ: 'logout+jwt' }, claims: { events: BCL, jti: 'j-before', sid: 's' }, nowS: Math.floor((lostAt - 120_000) / 1000) });
    const deps = withEpoch();
    const f = await gatherFacts(post('/backchannel-logout', `logout_token=${tok}`), deps, lostAt - 100_000);
    expect(f.input.callback.violations).toEqual(['store_data_lost']);
    const flowsOnly = withEpoch(['state', 'relay', 'code']);
    expect((await gatherFacts(post('/backchannel-logout', `logout_token=${tok}`), flowsOnly, lostAt - 100_000)).input.callback.violations).toEqual([]);
  });
});
