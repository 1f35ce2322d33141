// Test harness: the embedded demo setup wired through the real pipeline — real facts, real keys, real
// in-memory stores, the real Rego engine over policies/callback. No mocks of our own code.
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { createDemoSetup } from '../../ext-authz/src/config/default';
import type { DemoSetup } from '../../ext-authz/src/config/default';
import type { ConnectionConfig, RegistryConfig } from '../../ext-authz/src/model/registry';
import { createFactsDeps } from '../../ext-authz/src/pipeline/facts/gather';
import type { FactsDeps } from '../../ext-authz/src/pipeline/facts/gather';
import { mintState } from '../../ext-authz/src/pipeline/pins/mint';
import { Pipeline } from '../../ext-authz/src/pipeline/pipeline';
import type { DecisionEvent } from '../../ext-authz/src/model/decision';
import { attributesFromView } from '../../ext-authz/src/check/attributes-from-view';
import type { PipelineResult } from '../../ext-authz/src/model/decision';
import type { RequestView } from '../../ext-authz/src/model/request';
import { RegoPolicyEngine } from '../../ext-authz/src/policy/rego-engine';
import { MemoryPinStore, MemoryReplayStore } from '../../ext-authz/src/store/memory-store';

export const POLICY_DIR = join(__dirname, '..', '..', 'policies', 'callback');
export const HOST = 'auth.example.com';
export const LEGACY_ISS = 'https://legacy-idp.example.com';
export const NEW_ISS = 'https://new-idp.example.com';

/** One compiled engine for a whole test file (compiling is the slow part). */
let sharedEngine: RegoPolicyEngine | null = null;
export function callbackEngine(): RegoPolicyEngine {
  if (!sharedEngine) sharedEngine = new RegoPolicyEngine({ dir: POLICY_DIR });
  return sharedEngine;
}

export interface Demo {
  setup: DemoSetup;
  deps: FactsDeps;
  pipeline: Pipeline;
  events: DecisionEvent[];
  /** Current time (ms) the pipeline sees; tests move it. */
  clock: { now: number };
  /** Replaces the connection config (a registry swap, as a hot reload would do). */
  setConnection(patch: Partial<ConnectionConfig>): void;
  mint(backend: 'legacy' | 'new', responseMode?: 'query' | 'form_post' | null): Promise<string>;
  decide(view: RequestView): Promise<PipelineResult>;
}

/** Demo keys are generated once per test file (RSA generation dominates otherwise). */
let sharedSetup: DemoSetup | null = null;
export function demoSetup(): DemoSetup {
  if (!sharedSetup) sharedSetup = createDemoSetup();
  return sharedSetup;
}

/**
 * The demo pipeline with fresh stores. `patch` changes the demo connection; `registry` may rewrite the
 * whole registry first (extra connections, issuer options).
 */
export function makeDemo(
  patch: Partial<ConnectionConfig> = {},
  setup: DemoSetup = demoSetup(),
  registryEdit: (r: RegistryConfig) => RegistryConfig = (r) => r,
): Demo {
  // Fresh stores per demo; they keep time with the demo's clock (markers expire as the clock moves).
  const pinStore = new MemoryPinStore({ clock: () => clock.now });
  const replayStore = new MemoryReplayStore({ clock: () => clock.now });
  const withConn = (reg: RegistryConfig, p: Partial<ConnectionConfig>): RegistryConfig => ({
    ...reg,
    connections: reg.connections.map((c) => (c.name === 'demo' ? { ...c, ...p } : c)),
  });
  const clock = { now: Date.parse('2026-06-01T12:00:00Z') };
  let registry = withConn(registryEdit(setup.registry), patch);
  let deps = createFactsDeps(registry, { pinStore, replayStore });
  const events: DecisionEvent[] = [];
  const pipeline = new Pipeline({ factsDeps: () => deps, engine: callbackEngine(), clock: () => clock.now });
  return {
    setup,
    get deps() {
      return deps;
    },
    pipeline,
    events,
    clock,
    setConnection(p) {
      registry = withConn(registry, p);
      deps = createFactsDeps(registry, { pinStore, replayStore });
    },
    async mint(backend, responseMode = null) {
      return (await mintState('demo', backend, deps, clock.now, responseMode)).state;
    },
    async decide(view) {
      const r = await pipeline.decide(view, attributesFromView(view));
      if (r.event) events.push(r.event);
      return r;
    },
  };
}

let codeCounter = 0;
/** A fresh authorization-code-like value (codes are one-time: T-C1). */
export function freshCode(): string {
  codeCounter += 1;
  return `code-${process.pid}-${codeCounter}-${Math.random().toString(36).slice(2)}`;
}

export function view(path: string, extra: Partial<RequestView> = {}): RequestView {
  return {
    method: 'GET',
    scheme: 'https',
    host: HOST,
    path,
    headers: { 'user-agent': 'jest' },
    duplicateHeaders: [],
    bodyTruncated: false,
    sourceIp: '203.0.113.7',
    ...extra,
  };
}

/** GET /oauth2/callback with the given parameters, encoded with one strict encoder. */
export function oauthCallback(params: [string, string][], extra: Partial<RequestView> = {}): RequestView {
  return view(`/oauth2/callback?${new URLSearchParams(params).toString()}`, extra);
}

/** POST form to a route (form_post / SAML / logout). */
export function formPost(path: string, params: [string, string][], extra: Partial<RequestView> = {}): RequestView {
  return view(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
    ...extra,
  });
}

/** A JWT signed by a demo issuer (real keys, jose). */
export async function demoJwt(
  setup: DemoSetup,
  who: 'legacy' | 'new',
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
  nowMs: number = Date.now(),
): Promise<string> {
  const key = setup.issuerKeys[who];
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({ iat, exp: iat + 300, aud: 'demo-client', iss: who === 'legacy' ? LEGACY_ISS : NEW_ISS, ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
    .sign(key.privateKey);
}

export function reasonsOf(r: PipelineResult): string[] {
  return r.decision.reasons;
}
