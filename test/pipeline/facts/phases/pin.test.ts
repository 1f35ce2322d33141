// Fact provider `pin`: the flow key → pin facts, read only, and the one-time markers the flow carries:
// the state / RelayState and the code, written later only if the request is forwarded — and a code may
// be written only on a flow whose pin verified.
import { newFactsContext, runPhases } from '../../../../ext-authz/src/pipeline/facts/gather';
import { keyedHash } from '../../../../ext-authz/src/pipeline/facts/keyed-hash';
import { oneTimePhase } from '../../../../ext-authz/src/pipeline/facts/phases/one-time';
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
      { namespace: 'state', hash: stateHash, ttlMs: 600_000 + 600_000, commit: true, issuedAtMs: NOW },
      { namespace: 'code', hash: keyedHash(deps.keys.hash, 'code', 'c1'), ttlMs: 600_000 + 600_000, commit: true, issuedAtMs: NOW },
    ]);
    expect(await replayStore.peek(ctx.markers)).toEqual([false, false]);
  });

  it('an envelope: the marker is keyed on the verified fields, lives until exp + grace', async () => {
    const { deps } = fixture();
    const { state } = await mintState('demo', 'new', deps, NOW);
    const ctx = await runPhases(newFactsContext(get(`/oauth2/callback?code=c&state=${encodeURIComponent(state)}`), deps, NOW), PHASES);
    expect(ctx.markers[0]).toEqual({ namespace: 'state', hash: envelopeMarkerHash(deps.keys.hash, 'demo', state), ttlMs: 600_000 + ENVELOPE_REPLAY_GRACE_MS, commit: true, issuedAtMs: Math.floor(NOW / 1000) * 1000 });
    // Not the raw spelling's hash: another spelling of the same envelope shares the marker.
    expect(ctx.markers[0].hash).not.toBe(keyedHash(deps.keys.hash, 'state', state));
  });

  it('an unknown state: no state marker, and the code is only checked, never written', async () => {
    const { deps } = fixture();
    const ctx = await runPhases(newFactsContext(get('/oauth2/callback?code=c&state=unknown'), deps, NOW), PHASES);
    expect(ctx.pin.found).toBe(false);
    expect(ctx.markers).toEqual([{ namespace: 'code', hash: keyedHash(deps.keys.hash, 'code', 'c'), ttlMs: deps.codeReplayTtlMs, commit: false, issuedAtMs: null }]);
  });

  it('an expired pin is reported but carries no marker', async () => {
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

describe('envelope markers are keyed on what was verified, never on the spelling', () => {
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  /** The other spellings of the same MAC bytes: the last base64url character carries 2 unused bits. */
  const siblings = (state: string): string[] => {
    const last = ALPHABET.indexOf(state[state.length - 1]);
    return [0, 1, 2, 3].map((k) => (last & ~3) + k).filter((i) => i !== last).map((i) => state.slice(0, -1) + ALPHABET[i]);
  };

  it('after the envelope was used, every other spelling of it is refused (replayed, or refused as non-canonical)', async () => {
    const { deps } = fixture();
    const { state } = await mintState('demo', 'new', deps, NOW);
    const first = await runPhases(newFactsContext(get(`/oauth2/callback?code=c&state=${encodeURIComponent(state)}`), deps, NOW), PHASES);
    expect(await deps.replayStore.commit(first.markers.filter((m) => m.commit))).toEqual({ ok: true });
    for (const other of siblings(state)) {
      const ctx = await runPhases(newFactsContext(get(`/oauth2/callback?code=c2&state=${encodeURIComponent(other)}`), deps, NOW), [requestPhase, pinPhase, oneTimePhase]);
      // A lenient decoder accepts the spelling and finds the same marker; a strict one refuses it.
      const refused = ctx.pin.consumed_before || ctx.violations.includes('state_bad_mac') || ctx.violations.includes('non_canonical_encoding');
      expect(refused).toBe(true);
    }
  });
});
