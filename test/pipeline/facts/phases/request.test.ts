// Fact provider `request`: host → connection, path and header rules, the strict parser, callback facts,
// the client_id registration check, and whether the later providers may run (`clean`).
import { newFactsContext, runPhases } from '../../../../ext-authz/src/pipeline/facts/gather';
import { keyedHash } from '../../../../ext-authz/src/pipeline/facts/keyed-hash';
import { requestPhase } from '../../../../ext-authz/src/pipeline/facts/phases/request';
import { fixture, get, NOW, post } from '../fixtures';

const run = (req: Parameters<typeof newFactsContext>[0], deps = fixture().deps) => runPhases(newFactsContext(req, deps, NOW), [requestPhase]);

describe('request phase', () => {
  it('a clean callback: the connection, the route kind, keyed hashes, no violation', async () => {
    const ctx = await run(get('/oauth2/callback?code=c&state=s&iss=x'));
    expect(ctx.conn?.config.name).toBe('demo');
    expect(ctx.clean).toBe(true);
    expect(ctx.callback).toMatchObject({ kind: 'oauth_query', state_present: true, code_present: true, iss: 'x' });
    expect(ctx.secrets).toEqual({ state: 's', relayState: null, code: 'c', token: null });
    expect(ctx.callback.state_hash).toBe(keyedHash(ctx.deps.keys.hash, 'state', 's'));
  });

  it('an unknown host: no connection, not clean', async () => {
    const ctx = await run(get('/oauth2/callback?code=c&state=s', { host: 'evil.example' }));
    expect(ctx.conn).toBeNull();
    expect(ctx.clean).toBe(false);
    expect(ctx.violations).toContain('host_not_allowed');
  });

  it('violations make the request unclean (later providers spend nothing on it)', async () => {
    const ctx = await run(get('/oauth2/callback?state=a&state=b'));
    expect(ctx.violations).toEqual(['duplicate_param']);
    expect(ctx.clean).toBe(false);
  });

  it('a client_id the connection did not register → client_id_unknown; a registered one is fine', async () => {
    expect((await run(get('/login?client_id=demo-client'))).violations).toEqual([]);
    expect((await run(get('/login?client_id=chosen-by-caller'))).violations).toEqual(['client_id_unknown']);
    // A connection that registers no client_ids makes no claim about them.
    const open = fixture((r) => {
      r.connections[0].client_ids = [];
      r.connections[0].stage = 'observe';
    });
    expect((await run(get('/login?client_id=anything'), open.deps)).violations).toEqual([]);
  });

  it('a form body is parsed with the same strict parser', async () => {
    const ctx = await run(post('/oauth2/callback', 'code=c&state=s'));
    expect(ctx.callback.kind).toBe('oidc_form_post');
    expect(ctx.parsedBody).toEqual({ code: ['c'], state: ['s'] });
  });
});
