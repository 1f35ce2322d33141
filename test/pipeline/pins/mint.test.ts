// Pin API helpers (docs/architecture.md, "Pins" way 2): mintState / createPin write keyed hashes only.
import { createPin, MintError, mintState } from '../../../ext-authz/src/pipeline/pins/mint';
import { keyedHash } from '../../../ext-authz/src/pipeline/facts/keyed-hash';
import { fixture, ISS_L, ISS_N, NOW } from '../facts/fixtures';

describe('mint', () => {
  it('mints an envelope for a backend with a state key, and a stored opaque state otherwise', async () => {
    const { deps, pinStore } = fixture();
    const n = await mintState('demo', 'new', deps, NOW);
    expect(n.state.startsWith('v1.new.')).toBe(true);
    expect(n.pin).toMatchObject({ backend: 'new', issuer: ISS_N, connection: 'demo', expires_at: NOW + 600_000 });
    const l = await mintState('demo', 'legacy', deps, NOW);
    expect(l.state).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const rec = await pinStore.get(keyedHash(deps.keys.hash, 'state', l.state));
    expect(rec).toMatchObject({ backend: 'legacy', issuer: ISS_L });
    // The store never holds the raw state.
    expect(JSON.stringify(rec)).not.toContain(l.state);
  });

  it('a response mode forces a stored pin (envelopes carry none)', async () => {
    const { deps } = fixture();
    const m = await mintState('demo', 'new', deps, NOW, 'form_post');
    expect(m.state.startsWith('v1.')).toBe(false);
    expect(m.pin.response_mode).toBe('form_post');
  });

  it('refuses unknown connections/backends and oversized states with coded errors', async () => {
    const { deps } = fixture();
    await expect(mintState('nope', 'new', deps, NOW)).rejects.toMatchObject({ code: 'unknown_connection' });
    await expect(mintState('demo', 'other', deps, NOW)).rejects.toMatchObject({ code: 'unknown_backend' });
    await expect(createPin('demo', 'new', 's'.repeat(513), null, deps, NOW)).rejects.toBeInstanceOf(MintError);
    await expect(createPin('demo', 'new', 'r'.repeat(81), null, deps, NOW, 'relay')).rejects.toMatchObject({ code: 'bad_state' });
  });

  it('RelayState pins carry the SAML entityID as their issuer (T-M7 compares with <Issuer>)', async () => {
    const { deps } = fixture((r) => {
      r.connections[0].backends[0].saml_entity_id = 'https://legacy-idp.example.com/saml';
    });
    expect((await createPin('demo', 'legacy', 'relay-x', 'form_post', deps, NOW, 'relay')).issuer).toBe('https://legacy-idp.example.com/saml');
    expect((await createPin('demo', 'legacy', 'state-x', 'query', deps, NOW)).issuer).toBe(ISS_L);
  });
});
