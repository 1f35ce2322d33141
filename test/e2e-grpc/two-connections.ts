// Test support: the embedded demo setup grown to two connections that share backend ids and issuers —
// the registry shape of docs/threat-model.md's cross-connection rows. `demo` on auth.example.com
// (client demo-client) and `other` on other.example.com (client other-client); both issuers may address
// both clients. No Pin API tokens or state keys: pins are made in-process, so the same registry is
// valid with credentials scoped per connection or not.
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { createDemoSetup } from '../../ext-authz/src/config/default';
import type { DemoSetup } from '../../ext-authz/src/config/default';
import { createPin, mintState } from '../../ext-authz/src/pipeline/pins/mint';
import type { Harness } from '../support/app-harness';
import { ISS_LEGACY, ISS_NEW } from '../support/app-harness';

export const OTHER_HOST = 'other.example.com';
export const AGENT_ROUTE = '/agent/callback';

export function twoConnectionSetup(): DemoSetup {
  const setup = createDemoSetup();
  const reg = setup.registry;
  reg.connections[0].routes.agent = [AGENT_ROUTE];
  const other = structuredClone(reg.connections[0]);
  other.name = 'other';
  other.hosts = [OTHER_HOST];
  other.client_ids = ['other-client'];
  reg.connections.push(other);
  for (const i of reg.issuers) i.audiences = ['demo-client', 'other-client'];
  reg.keys.pin_api_tokens = {};
  reg.keys.state_keys = {};
  return setup;
}

/** A store pin made in-process (what a backend's CreatePin does), for a fresh random state. */
export async function storePin(h: Harness, connection: string, backend: 'legacy' | 'new', responseMode: 'query' | 'form_post' | null = null, purpose: 'state' | 'relay' = 'state'): Promise<string> {
  const deps = h.app.current?.factsDeps();
  if (!deps) throw new Error('app not loaded');
  const state = `${purpose}-${randomBytes(12).toString('base64url')}`;
  await createPin(connection, backend, state, responseMode, deps, Date.now(), purpose);
  return state;
}

/** A state minted in-process (a signed envelope when the backend has a state key). */
export async function mintedState(h: Harness, connection: string, backend: 'legacy' | 'new'): Promise<string> {
  const deps = h.app.current?.factsDeps();
  if (!deps) throw new Error('app not loaded');
  return (await mintState(connection, backend, deps, Date.now())).state;
}

export interface JwtOptions {
  header?: Record<string, unknown>;
  /** Claims to drop from the defaults (iss, aud, sub, iat, exp). */
  omit?: string[];
}

/** A JWT signed by a demo issuer's real key; defaults iss/aud/sub/iat/exp (iat now, exp +5 min). */
export async function issuerJwt(setup: DemoSetup, who: 'legacy' | 'new', claims: Record<string, unknown>, o: JwtOptions = {}): Promise<string> {
  const key = setup.issuerKeys[who];
  const now = Math.floor(Date.now() / 1000);
  const all: Record<string, unknown> = { iss: who === 'legacy' ? ISS_LEGACY : ISS_NEW, aud: 'demo-client', sub: 'user-1', iat: now, exp: now + 300, ...claims };
  for (const k of o.omit ?? []) delete all[k];
  return new SignJWT(all).setProtectedHeader({ alg: key.alg, kid: key.kid, ...o.header }).sign(key.privateKey);
}

/**
 * Waits (bounded) until the harness's store answers: a Redis client connects asynchronously after start,
 * and its first command can outlive the short per-command timeout on a loaded machine.
 */
export async function storeReady(h: Harness, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      await h.app.current?.factsDeps().pinStore.get('readiness-probe');
      return;
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
