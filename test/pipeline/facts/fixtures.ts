// Test fixtures for the facts phase: the demo registry with real generated keys, memory stores,
// and a RequestView builder. Real parts only (no mocks of our own code).
import { SignJWT } from 'jose';
import { createDemoSetup } from '../../../ext-authz/src/config/default';
import type { DemoSetup } from '../../../ext-authz/src/config/default';
import type { RegistryConfig } from '../../../ext-authz/src/model/registry';
import { createFactsDeps } from '../../../ext-authz/src/pipeline/facts/gather';
import type { FactsDeps, FactsDepsOptions } from '../../../ext-authz/src/pipeline/facts/gather';
import type { RequestView } from '../../../ext-authz/src/model/request';
import { MemoryPinStore, MemoryReplayStore } from '../../../ext-authz/src/store/memory-store';

export const HOST = 'auth.example.com';
export const ISS_L = 'https://legacy-idp.example.com';
export const ISS_N = 'https://new-idp.example.com';
export const NOW = Date.parse('2026-11-28T12:00:00Z');

export interface Fixture {
  setup: DemoSetup;
  deps: FactsDeps;
  pinStore: MemoryPinStore;
  replayStore: MemoryReplayStore;
}

let shared: DemoSetup | null = null;
/** Key generation is the slow part: one demo setup per test file. */
export function demoSetup(): DemoSetup {
  shared ??= createDemoSetup();
  return shared;
}

export function fixture(mutate?: (r: RegistryConfig) => void, opts: Partial<FactsDepsOptions> = {}): Fixture {
  const setup = demoSetup();
  const registry = structuredClone(setup.registry);
  mutate?.(registry);
  const pinStore = new MemoryPinStore();
  const replayStore = new MemoryReplayStore();
  return { setup: { ...setup, registry }, deps: createFactsDeps(registry, { ...opts, pinStore, replayStore }), pinStore, replayStore };
}

export function get(path: string, extra: Partial<RequestView> = {}): RequestView {
  return { method: 'GET', scheme: 'https', host: HOST, path, headers: {}, duplicateHeaders: [], bodyTruncated: false, sourceIp: '192.0.2.10', ...extra };
}

export function post(path: string, body: string, contentType = 'application/x-www-form-urlencoded', extra: Partial<RequestView> = {}): RequestView {
  return { ...get(path, extra), method: 'POST', body, headers: { 'content-type': contentType, ...(extra.headers ?? {}) } };
}

export interface TokenOpts {
  backend?: 'legacy' | 'new';
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
  nowS?: number;
}

/** Signs a JWT with the demo issuer key (legacy RS256, new ES256). */
export async function signToken(setup: DemoSetup, o: TokenOpts = {}): Promise<string> {
  const b = o.backend ?? 'new';
  const k = setup.issuerKeys[b];
  const nowS = o.nowS ?? Math.floor(NOW / 1000);
  const claims = { iss: b === 'new' ? ISS_N : ISS_L, aud: 'demo-client', sub: 'user-1', iat: nowS, exp: nowS + 300, ...o.claims };
  return new SignJWT(claims).setProtectedHeader({ alg: k.alg, kid: k.kid, ...o.header }).sign(k.privateKey);
}

export function b64url(o: unknown): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}
