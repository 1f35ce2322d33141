// The embedded demo registry (`npm start` with no files): connection
// `demo` on auth.example.com, keys generated at start. NOT for production: every start makes new keys.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { RegistryConfig } from '../model/registry';
import { DEFAULT_LIMITS, DEFAULT_REMOVAL, DEFAULT_ROUTING_HEADER, DEFAULT_STRIP_HEADERS } from './registry-schema';

/** Fixed and documented so `callback-proxy pins mint` in another terminal needs no setup. Demo only. */
export const DEMO_PIN_API_TOKEN = 'demo-pin-api-token-not-for-production';
/** The demo's admin API token (role approver: it can drive a whole migration). Demo only. */
export const DEMO_ADMIN_TOKEN = 'demo-admin-token-not-for-production';
export const DEMO_HOST = 'auth.example.com';
export const DEMO_CLIENT_ID = 'demo-client';
export const DEMO_LEGACY_ISSUER = 'https://legacy-idp.example.com';
export const DEMO_NEW_ISSUER = 'https://new-idp.example.com';

export interface DemoSigningKey {
  /** Private key usable with jose's SignJWT (jose accepts KeyObject). */
  privateKey: KeyObject;
  kid: string;
  alg: 'RS256' | 'ES256';
}

export interface DemoSetup {
  registry: RegistryConfig;
  issuerKeys: { legacy: DemoSigningKey; new: DemoSigningKey };
  /** The Standard Webhooks secret of the demo webhook route (`whsec_…`). */
  webhookSecret: string;
}

const b64 = (n: number): string => randomBytes(n).toString('base64url');

function signingKey(alg: 'RS256' | 'ES256'): { key: DemoSigningKey; jwk: Record<string, unknown> } {
  const pair = alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = `demo-${alg.toLowerCase()}-${b64(6)}`;
  const jwk = { ...(pair.publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid, alg, use: 'sig' };
  return { key: { privateKey: pair.privateKey, kid, alg }, jwk };
}

/** The demo registry plus the private keys and webhook secret tests and the demo use to mint input. */
export function createDemoSetup(): DemoSetup {
  const legacy = signingKey('RS256');
  const neu = signingKey('ES256');
  const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`;
  const registry: RegistryConfig = {
    version: 1,
    connections: [
      {
        name: 'demo',
        hosts: [DEMO_HOST],
        client_ids: [DEMO_CLIENT_ID],
        routes: {
          oauth_callback: ['/oauth2/callback'],
          saml_acs: ['/saml/acs'],
          login_start: ['/login'],
          webhook: ['/webhooks/idp'],
          logout: ['/backchannel-logout'],
          agent: [],
        },
        backends: [
          { id: 'legacy', role: 'legacy', cluster: 'legacy_idp', address: '127.0.0.1:8081', issuer: DEMO_LEGACY_ISSUER, saml_entity_id: DEMO_LEGACY_ISSUER, iss_parameter_supported: true },
          { id: 'new', role: 'new', cluster: 'new_idp', address: '127.0.0.1:8082', issuer: DEMO_NEW_ISSUER, saml_entity_id: DEMO_NEW_ISSUER, iss_parameter_supported: true },
        ],
        stage: 'canary',
        canary_percent: 50,
        cohort_key: 'client_id',
        require_pin: true,
        pin_ttl_s: 600,
        idp_initiated_saml: [],
        return_params: ['returnTo'],
        allowed_params: [],
        webhook: { scheme: 'standard', secrets: [{ id: 'demo', secret: webhookSecret }], tolerance_s: 300 },
        require_approval: false,
      },
    ],
    issuers: [
      {
        issuer: DEMO_LEGACY_ISSUER, backend: 'legacy', jwks: { keys: [legacy.jwk] }, algs: ['RS256'], audiences: [DEMO_CLIENT_ID],
        typ: { logout_token: 'logout+jwt' }, clock_skew_s: 60,
      },
      {
        issuer: DEMO_NEW_ISSUER, backend: 'new', jwks: { keys: [neu.jwk] }, algs: ['ES256'], audiences: [DEMO_CLIENT_ID],
        typ: { logout_token: 'logout+jwt' }, clock_skew_s: 60,
      },
    ],
    keys: {
      hash_key: b64(32),
      // Only the new backend signs envelopes (it is the one we can change); legacy pins go to the store.
      state_keys: { new: b64(32) },
      cookie_key: b64(32),
      pin_api_tokens: { legacy: DEMO_PIN_API_TOKEN, new: DEMO_PIN_API_TOKEN },
      admin_tokens: [{ name: 'demo-admin', token: DEMO_ADMIN_TOKEN, role: 'approver' }],
    },
    limits: { ...DEFAULT_LIMITS },
    routing_header: DEFAULT_ROUTING_HEADER,
    strip_headers: [...DEFAULT_STRIP_HEADERS],
    lifecycle: { freeze_windows: [], removal: { ...DEFAULT_REMOVAL } },
  };
  return { registry, issuerKeys: { legacy: legacy.key, new: neu.key }, webhookSecret };
}

/** Just the registry (e.g. `envoy render` without --config). */
export function createDemoRegistry(): RegistryConfig {
  return createDemoSetup().registry;
}
