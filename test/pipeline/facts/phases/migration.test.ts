// Fact provider `migration`: the stage facts and a cohort bucket the caller cannot choose.
import { newFactsContext, runPhases } from '../../../../ext-authz/src/pipeline/facts/gather';
import { cohortBucket } from '../../../../ext-authz/src/pipeline/facts/migration';
import { migrationPhase } from '../../../../ext-authz/src/pipeline/facts/phases/migration';
import { pinPhase } from '../../../../ext-authz/src/pipeline/facts/phases/pin';
import { requestPhase } from '../../../../ext-authz/src/pipeline/facts/phases/request';
import { fixture, get, NOW } from '../fixtures';

const PHASES = [requestPhase, pinPhase, migrationPhase];

describe('migration phase', () => {
  it('client_id: the keyed bucket of the registered client; login_hint and source address change nothing', async () => {
    const { deps } = fixture();
    const want = cohortBucket(deps.keys.hash, 'demo', 'demo-client');
    for (const [hint, ip] of [['a', '192.0.2.1'], ['b', '198.51.100.9']]) {
      const ctx = await runPhases(newFactsContext(get(`/login?client_id=demo-client&login_hint=${hint}`, { sourceIp: ip }), deps, NOW), PHASES);
      expect(ctx.migration).toMatchObject({ connection: 'demo', stage: 'canary', cohort_bucket: want });
    }
  });

  it('random: the server-side draw, only for new flows in a canary', async () => {
    const draws: number[] = [];
    const { deps } = fixture((r) => {
      r.connections[0].cohort_key = 'random';
    }, { cohortDraw: () => {
      draws.push(42);
      return 42;
    } });
    expect((await runPhases(newFactsContext(get('/login'), deps, NOW), PHASES)).migration?.cohort_bucket).toBe(42);
    expect((await runPhases(newFactsContext(get('/oauth2/callback?code=c&state=s'), deps, NOW), PHASES)).migration?.cohort_bucket).toBeNull();
    expect(draws).toHaveLength(1);
  });

  it('no connection, no migration facts', async () => {
    const ctx = await runPhases(newFactsContext(get('/login', { host: 'nope.example' }), fixture().deps, NOW), PHASES);
    expect(ctx.migration).toBeNull();
  });
});
