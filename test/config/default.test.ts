// The embedded demo registry: the documented shape, valid under the
// same schema as files, and keys that mint tokens the facts phase verifies.
import { stringify } from 'yaml';
import { createDemoRegistry, createDemoSetup, DEMO_PIN_API_TOKEN } from '../../ext-authz/src/config/default';
import { parseRegistry } from '../../ext-authz/src/config/registry';
import { createFactsDeps } from '../../ext-authz/src/pipeline/facts/gather';
import { verifyToken } from '../../ext-authz/src/pipeline/tokens/verify';
import { MemoryPinStore, MemoryReplayStore } from '../../ext-authz/src/store/memory-store';
import { signToken, NOW } from '../pipeline/facts/fixtures';

describe('createDemoSetup', () => {
  const setup = createDemoSetup();
  const c = setup.registry.connections[0];

  it('has the documented demo connection', () => {
    expect(c).toMatchObject({ name: 'demo', hosts: ['auth.example.com'], stage: 'canary', canary_percent: 50, require_pin: true, cohort_key: 'client_id', pin_ttl_s: 600 });
    expect(c.routes).toMatchObject({ oauth_callback: ['/oauth2/callback'], saml_acs: ['/saml/acs'], login_start: ['/login'], webhook: ['/webhooks/idp'], logout: ['/backchannel-logout'] });
    expect(c.backends.map((b) => [b.id, b.cluster, b.issuer, b.iss_parameter_supported])).toEqual([
      ['legacy', 'legacy_idp', 'https://legacy-idp.example.com', true],
      ['new', 'new_idp', 'https://new-idp.example.com', true],
    ]);
    expect(setup.registry.keys.pin_api_tokens).toEqual({ legacy: DEMO_PIN_API_TOKEN, new: DEMO_PIN_API_TOKEN });
  });

  it('passes the file schema (round trip through YAML)', () => {
    const back = parseRegistry(stringify(setup.registry), 'demo.yaml');
    expect(back).toEqual(setup.registry);
  });

  it('generates fresh keys per start', () => {
    const other = createDemoRegistry();
    expect(other.keys.hash_key).not.toBe(setup.registry.keys.hash_key);
    expect(other.issuers[0].jwks?.keys[0].kid).not.toBe(setup.registry.issuers[0].jwks?.keys[0].kid);
  });

  it('its signing keys mint tokens the issuer registry verifies', async () => {
    const deps = createFactsDeps(setup.registry, { pinStore: new MemoryPinStore(), replayStore: new MemoryReplayStore() });
    for (const backend of ['legacy', 'new'] as const) {
      const tok = await signToken(setup, { backend });
      const t = await verifyToken(tok, 'id_token', { issuers: deps.issuers, maxTokenBytes: 16384, nowMs: NOW, audiences: deps.connections.get('demo')!.audiences });
      expect(t).toMatchObject({ verified: true, backend });
    }
  });
});
