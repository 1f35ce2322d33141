// Fact provider `pin`: the flow key → pin facts, read only, and the one-time markers the flow carries:
// the state / RelayState and the code, written later only if the request is forwarded — and a code may
// be written only on a flow whose pin verified.
import { newFactsContext, runPhases } from '../../../../ext-authz/src/pipeline/facts/gather';
import { keyedHash } from '../../../../ext-authz/src/pipeline/facts/keyed-hash';
import { pinPhase } from '../../../../ext-authz/src/pipeline/facts/phases/pin';
import { requestPhase } from '../../../../ext-authz/src/pipeline/facts/phases/request';
import { createPin, mintState } from '../../../../ext-authz/src/pipeline/pins/mint';
import { envelopeMarkerHash, ENVELOPE_REPLAY_GRACE_MS } from '../../../../ext-authz/src/pipeline/pins/resolve';
import { fixture, get, NOW, post } from '../fixtures';

const PHASES = [requestPhase, pinPhase];

describe('pin phase', () => {
  it('a store pin: found, read only (the store entry is untouched), with state and code markers to commit', async () => {
    const { deps, replayStore } = fixture();
    await createPin('demo', 'legacy', 'st-1', null, deps, NOW);
    const ctx = await runPhases(newFactsContext(get('/oauth2/callback?code=c1&state=st-1'), deps, NOW), PHASES);
    expect(ctx.pin).toMatchObject({ found: true, backend: 'legacy', consumed_before: false, error: null, source: 'store' });
    const stateHash = keyedHash(deps.keys.hash, 'state', 'st-1');
    expect(ctx.markers).toEqual([
      { namespace: 'state', hash: stateHash, ttlMs: 600_000 + 600_000, commit: true },
      { namespace: 'code', hash: keyedHash(deps.keys.hash, 'code', 'c1'), ttlMs: 600_000 + 600_000, commit: true },
    ]);
    expect(await replayStore.peek(ctx.markers)).toEqual([false, false]);
  });

  it('an envelope: the marker is keyed on the verified fields, lives until exp + grace', async () => {
    const { deps } = fixture();
    const { state } = await mintState('demo', 'new', deps, NOW);
    const ctx = await runPhases(newFactsContext(get(`/oauth2/callback?code=c&state=${encodeURIComponent(state)}`), deps, NOW), PHASES);
    expect(ctx.markers[0]).toEqual({ namespace: 'state', hash: envelopeMarkerHash(deps.keys.hash, 'demo', state), ttlMs: 600_000 + ENVELOPE_REPLAY_GRACE_MS, commit: true });
    // Not the raw spelling's hash: another spelling of the same envelope shares the marker.
    expect(ctx.markers[0].hash).not.toBe(keyedHash(deps.keys.hash, 'state', state));
  });

  it('an unknown state: no state marker, and the code is only checked, never written', async () => {
    const { deps } = fixture();
    const ctx = await runPhases(newFactsContext(get('/oauth2/callback?code=c&state=unknown'), deps, NOW), PHASES);
    expect(ctx.pin.found).toBe(false);
    expect(ctx.markers).toEqual([{ namespace: 'code', hash: keyedHash(deps.keys.hash, 'code', 'c'), ttlMs: deps.codeReplayTtlMs, commit: false }]);
  });

  it('a pin of another connection or an expired one is reported but carries no marker', async () => {
    const { deps } = fixture();
    await createPin('demo', 'legacy', 'old', null, deps, NOW - 3_600_000);
    const ctx = await runPhases(newFactsContext(get('/oauth2/callback?code=c&state=old'), deps, NOW), PHASES);
    expect(ctx.pin).toMatchObject({ found: true, expired: true, error: 'state_expired' });
    expect(ctx.markers.filter((m) => m.commit)).toEqual([]);
  });

  it('a RelayState pin on a SAML POST: a relay marker', async () => {
    const { deps } = fixture();
    await createPin('demo', 'new', 'r1', 'form_post', deps, NOW, 'relay');
    const ctx = await runPhases(newFactsContext(post('/saml/acs', 'SAMLResponse=PHg%2B&RelayState=r1'), deps, NOW), PHASES);
    expect(ctx.markers).toEqual([expect.objectContaining({ namespace: 'relay', hash: keyedHash(deps.keys.hash, 'relay', 'r1'), commit: true })]);
  });

  it('a tampered envelope is state_bad_mac', async () => {
    const { deps } = fixture();
    const ctx = await runPhases(newFactsContext(get('/oauth2/callback?code=c&state=v1.new.9999999999.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), deps, NOW), PHASES);
    expect(ctx.violations).toEqual(['state_bad_mac']);
  });
});
