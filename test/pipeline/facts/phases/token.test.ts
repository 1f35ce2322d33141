// Fact provider `token`: verifies the token a route carries with the connection's audiences; a one-shot
// token (logout, agent) registers its jti as a marker that lives until exp + skew.
import { newFactsContext, runPhases } from '../../../../ext-authz/src/pipeline/facts/gather';
import { keyedHash } from '../../../../ext-authz/src/pipeline/facts/keyed-hash';
import { requestPhase } from '../../../../ext-authz/src/pipeline/facts/phases/request';
import { tokenPhase } from '../../../../ext-authz/src/pipeline/facts/phases/token';
import { fixture, ISS_L, NOW, post, signToken } from '../fixtures';

const BCL = { 'http://schemas.openid.net/event/backchannel-logout': {} };
const PHASES = [requestPhase, tokenPhase];

describe('token phase', () => {
  it('a logout token: verified, its jti a marker until exp + skew (OIDC Back-Channel Logout §2.6)', async () => {
    const { deps, setup } = fixture();
    const exp = Math.floor(NOW / 1000) + 7200;
    const tok = await signToken(setup, { backend: 'legacy', header: { typ: 'logout+jwt' }, claims: { events: BCL, jti: 'j1', sid: 's', exp } });
    const ctx = await runPhases(newFactsContext(post('/backchannel-logout', `logout_token=${tok}`), deps, NOW), PHASES);
    expect(ctx.token).toMatchObject({ verified: true, use: 'logout_token', error: null });
    expect(ctx.markers).toEqual([{ namespace: 'jti', hash: keyedHash(deps.keys.hash, 'jti', `${ISS_L}\0j1`), ttlMs: exp * 1000 - NOW + 60_000, commit: true, issuedAtMs: NOW - 60_000 }]);
  });

  it('a failed token registers nothing and is a violation', async () => {
    const { deps, setup } = fixture();
    const tok = await signToken(setup, { backend: 'legacy', header: { typ: 'logout+jwt' }, claims: { events: BCL, jti: 'j1', sid: 's', aud: 'someone-else' } });
    const ctx = await runPhases(newFactsContext(post('/backchannel-logout', `logout_token=${tok}`), deps, NOW), PHASES);
    expect(ctx.token.error).toBe('aud_mismatch');
    expect(ctx.violations).toEqual(['aud_mismatch']);
    expect(ctx.markers).toEqual([]);
  });

  it('an unclean request: the token is reported present, never verified', async () => {
    const { deps, setup } = fixture();
    const tok = await signToken(setup, { backend: 'legacy' });
    const ctx = await runPhases(newFactsContext(post('/backchannel-logout', `logout_token=${tok}&x=1&x=2`), deps, NOW), PHASES);
    expect(ctx.token).toMatchObject({ present: true, verified: false, error: null });
  });
});
