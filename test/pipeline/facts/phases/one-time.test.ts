// Fact provider `one-time`: every registered marker looked up in one store call, read only; a set marker
// is a replay fact (consumed_before, code_replayed, jti_replayed, webhook_replay).
import { newFactsContext, runPhases } from '../../../../ext-authz/src/pipeline/facts/gather';
import { FACT_PHASES } from '../../../../ext-authz/src/pipeline/facts/gather';
import { keyedHash } from '../../../../ext-authz/src/pipeline/facts/keyed-hash';
import { oneTimePhase } from '../../../../ext-authz/src/pipeline/facts/phases/one-time';
import { createPin } from '../../../../ext-authz/src/pipeline/pins/mint';
import { createRedisStores } from '../../../../ext-authz/src/store/redis-store';
import { freePort } from '../../../../demo/ports';
import { fixture, get, NOW } from '../fixtures';

describe('one-time phase', () => {
  it('runs last, after every provider that registers markers', () => {
    expect(FACT_PHASES.map((p) => p.name)).toEqual(['request', 'saml', 'unknown-state-gate', 'pin', 'unknown-state-charge', 'token', 'migration', 'webhook', 'one-time']);
    expect(FACT_PHASES[FACT_PHASES.length - 1]).toBe(oneTimePhase);
  });

  it('a spent state → consumed_before; a spent code → code_replayed; nothing is written', async () => {
    const { deps, replayStore } = fixture();
    await createPin('demo', 'legacy', 'st', null, deps, NOW);
    const state = keyedHash(deps.keys.hash, 'state', 'st');
    const code = keyedHash(deps.keys.hash, 'code', 'c');
    await replayStore.commit([{ namespace: 'state', hash: state, ttlMs: 60_000 }, { namespace: 'code', hash: code, ttlMs: 60_000 }]);
    const ctx = await runPhases(newFactsContext(get('/oauth2/callback?code=c&state=st'), deps, NOW));
    expect(ctx.pin.consumed_before).toBe(true);
    expect(ctx.violations).toEqual(['code_replayed']);
    const other = await runPhases(newFactsContext(get('/oauth2/callback?code=c2&state=st2'), deps, NOW));
    expect(await replayStore.peek([{ namespace: 'code', hash: keyedHash(deps.keys.hash, 'code', 'c2') }])).toEqual([false]);
    expect(other.markers).toHaveLength(1);
  });

  it('a store that cannot be reached fails closed (store_unavailable), never a throw', async () => {
    const port = await freePort(); // nothing listens there
    const dead = createRedisStores({ url: `redis://127.0.0.1:${port}`, commandTimeoutMs: 200 });
    try {
      const { deps } = fixture();
      await createPin('demo', 'legacy', 'st', null, deps, NOW);
      const ctx = await runPhases(newFactsContext(get('/oauth2/callback?code=c&state=st'), { ...deps, replayStore: dead.replayStore }, NOW));
      expect(ctx.violations).toEqual(['store_unavailable']);
      expect(ctx.pin.error).toBe('store_unavailable');
    } finally {
      await dead.pinStore.close();
    }
  });
});
