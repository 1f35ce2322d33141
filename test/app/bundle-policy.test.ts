// `--policy` as an OPA bundle through the real App over gRPC: OPA's own wasm build of the callback
// policy (shared/opa-wasm) answers exactly what the Rego directory answers for the same callbacks;
// `--engine` picks the engine and refuses, naming the flag, a bundle it cannot run; the decision path is
// the bundle's wasm entrypoint; a builtin nobody provides fails at load, naming it; a `.tar.gz` re-read
// on change swaps in a good bundle and keeps the last good one when the new file is corrupt.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startHarness, cb, ISS_NEW, ISS_LEGACY } from '../support/app-harness';
import type { Harness, Req } from '../support/app-harness';
import { tarGz } from '../support/tar-gz';
import { describeWithFixtures, OPA_WASM_DIR, readWasm } from '../policy/wasm/fixtures';
import { createPolicyEngine } from '../../ext-authz/src/policy/engine-factory';
import { engineForBundle } from '../../ext-authz/src/policy/bundle-engine';
import { loadBundleArchive } from '../../ext-authz/src/policy/bundle';
import { BuiltinRegistry, defaultRegistry } from '../../ext-authz/src/rego/engine';
import { createLogger } from '../../ext-authz/src/telemetry/logger';
import { PolicyLoadError } from '../../ext-authz/src/policy/engine';
import { rejection } from '../support/errors';

const CALLBACK_BUNDLE = path.join(OPA_WASM_DIR, 'callback', 'bundle.tar.gz');
const ENVOY_BUNDLE = path.join(OPA_WASM_DIR, 'opa-envoy', 'bundle.tar.gz');
const silent = createLogger({ level: 'silent' });

const loadError = (p: Promise<unknown>): Promise<PolicyLoadError> => rejection(p, PolicyLoadError);

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'cbp-bundle-app-'));
}

/** The same callbacks, each with a fresh state minted by the app under test. */
async function scenario(h: Harness): Promise<{ name: string; allowed: boolean; backend: string | null; reason: string | null }[]> {
  const out: { name: string; allowed: boolean; backend: string | null; reason: string | null }[] = [];
  const run = async (name: string, r: Req): Promise<void> => {
    const a = await h.ask('grpc', r);
    out.push({ name, allowed: a.allowed, backend: a.backend, reason: a.reason });
  };
  const sNew = await h.mint('new');
  await run('pinned new', { path: cb({ code: 'c1', state: sNew, iss: ISS_NEW }) });
  await run('pinned new, replayed', { path: cb({ code: 'c1', state: sNew, iss: ISS_NEW }) });
  const sLegacy = await h.mint('legacy');
  await run('pinned legacy, wrong iss', { path: cb({ code: 'c2', state: sLegacy, iss: ISS_NEW }) });
  await run('pinned legacy', { path: cb({ code: 'c3', state: sLegacy, iss: ISS_LEGACY }) });
  await run('duplicate state', { path: cb({ code: 'c4', state: [sNew, sNew], iss: ISS_NEW }) });
  await run('no state', { path: cb({ code: 'c5' }) });
  await run('unknown state', { path: cb({ code: 'c6', state: 'not-a-state', iss: ISS_NEW }) });
  await run('login start', { path: '/login' });
  await run('unknown host', { path: cb({ code: 'c7', state: sNew }), host: 'evil.example.com' });
  await run('unknown route', { path: '/admin' });
  return out;
}

describeWithFixtures('--policy <OPA wasm bundle> through the App', () => {
  test('OPA\'s wasm build of the callback policy answers every callback as the Rego directory does', async () => {
    const rego = await startHarness({ policyDir: 'policies/callback' });
    let regoAnswers;
    try {
      expect(rego.app.current!.engine.kind).toBe('rego');
      regoAnswers = await scenario(rego);
    } finally {
      await rego.close();
    }
    const wasm = await startHarness({ policyDir: CALLBACK_BUNDLE });
    try {
      expect(wasm.app.current!.engine.kind).toBe('wasm');
      expect(wasm.app.readiness.ready).toBe(true);
      const wasmAnswers = await scenario(wasm);
      expect(wasmAnswers).toEqual(regoAnswers);
      // The scenario is not trivially uniform: some allowed, some denied for different reasons.
      expect(new Set(wasmAnswers.map((a) => `${a.allowed}:${a.reason}`)).size).toBeGreaterThanOrEqual(4);
      expect(wasmAnswers.find((a) => a.name === 'pinned new')).toMatchObject({ allowed: true, backend: 'new' });
      // Decision logs carry OPA's bundles field: the bundle by name, with its manifest revision ('').
      const ev = JSON.parse(wasm.decisionLines[0]) as { bundles: unknown };
      expect(ev.bundles).toEqual({ [CALLBACK_BUNDLE]: { revision: '' } });
    } finally {
      await wasm.close();
    }
  });

  test('--engine rego on an OPA wasm build says why it cannot: the entrypoints live only in policy.wasm', async () => {
    const err = await loadError(createPolicyEngine({ policyDir: CALLBACK_BUNDLE, engine: 'rego', decisionPath: 'callback/decision', watch: false, logger: silent }));
    expect(err.code).toBe('decision_path_undefined');
    expect(err.message).toMatch(/^--engine rego: decision path data\.callback\.decision is not defined .*use --engine wasm or auto\)$/);
  });

  test('the decision path is the wasm entrypoint: envoy/authz/allow of the OPA-Envoy bundle', async () => {
    const h = await startHarness({ policyDir: ENVOY_BUNDLE, decisionPath: 'envoy/authz/allow' });
    try {
      expect(h.app.current!.engine.kind).toBe('wasm');
      expect(h.app.current!.engine.decisionPath).toBe('data.envoy.authz.allow');
      // The example allows GET on its callback routes and nothing else; the pin still routes the flow.
      const s = await h.mint('new');
      expect(await h.ask('grpc', { path: cb({ code: 'a', state: s, iss: ISS_NEW }) })).toMatchObject({ allowed: true, backend: 'new' });
      const s2 = await h.mint('new');
      expect(await h.ask('grpc', { path: cb({ code: 'b', state: s2, iss: ISS_NEW }), method: 'POST', body: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).toMatchObject({ allowed: false });
    } finally {
      await h.close();
    }
    const err = await loadError(createPolicyEngine({ policyDir: ENVOY_BUNDLE, decisionPath: 'envoy/authz/deny', watch: false, logger: silent }));
    expect(err.code).toBe('decision_path_invalid');
    expect(err.message).toContain('no wasm entrypoint envoy/authz/deny');
    expect(err.message).toContain('envoy/authz/allow, envoy/authz/result, envoy/authz/status');
  });

  test('--engine mismatches are start-up errors naming the flag', async () => {
    const dir = tmp();
    try {
      const wasmOnly = path.join(dir, 'wasm-only.tar.gz');
      fs.writeFileSync(wasmOnly, tarGz({
        'policy.wasm': Buffer.from(readWasm('callback', 'policy.wasm')),
        'data.json': '{}',
        '.manifest': '{"revision":"w1","roots":[""],"wasm":[{"entrypoint":"callback/decision","module":"/policy.wasm"}]}',
      }));
      const regoOnly = path.join(dir, 'rego-only.tar.gz');
      fs.writeFileSync(regoOnly, tarGz({ 'p.rego': 'package callback\n\ndecision := {"action": "deny", "reasons": ["policy_undefined"]}\n', '.manifest': '{"revision":"r1"}' }));

      const e1 = await loadError(createPolicyEngine({ policyDir: wasmOnly, engine: 'rego', decisionPath: 'callback/decision', watch: false, logger: silent }));
      expect(e1.code).toBe('policy_engine_mismatch');
      expect(e1.message).toMatch(/^--engine rego: bundle .*wasm-only\.tar\.gz has no Rego modules/);
      const e2 = await loadError(createPolicyEngine({ policyDir: regoOnly, engine: 'wasm', decisionPath: 'callback/decision', watch: false, logger: silent }));
      expect(e2.code).toBe('policy_engine_mismatch');
      expect(e2.message).toMatch(/^--engine wasm: bundle .*rego-only\.tar\.gz has no policy\.wasm/);
      // auto picks each one's engine.
      const a = await createPolicyEngine({ policyDir: wasmOnly, decisionPath: 'callback/decision', watch: false, logger: silent });
      const b = await createPolicyEngine({ policyDir: regoOnly, decisionPath: 'callback/decision', watch: false, logger: silent });
      expect([a.kind, a.revision, b.kind, b.revision]).toEqual(['wasm', 'w1', 'rego', 'r1']);
      await a.close();
      await b.close();
      // --engine wasm on a plain Rego directory is the same error.
      const e3 = await loadError(createPolicyEngine({ policyDir: 'policies/callback', engine: 'wasm', decisionPath: 'callback/decision', watch: false, logger: silent }));
      expect(e3.message).toMatch(/^--engine wasm: bundle policies\/callback has no policy\.wasm/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a builtin that neither opa-wasm nor the library provides fails at load, naming it', async () => {
    const b = await loadBundleArchive(fs.readFileSync(CALLBACK_BUNDLE), { name: 'cb' });
    const lacking = new BuiltinRegistry();
    lacking.register(defaultRegistry.all().filter((s) => s.name !== 'time.parse_rfc3339_ns'));
    const err = await loadError(engineForBundle(b, { decision: 'callback/decision', engine: 'auto', registry: lacking }));
    expect(err.code).toBe('policy_builtin_missing');
    expect(err.message).toContain('bundle cb: policy.wasm needs builtins that neither opa-wasm nor the builtin library provides: time.parse_rfc3339_ns');
    // With the library it loads, and the host builtin is the library's.
    const ok = await engineForBundle(b, { decision: 'callback/decision', engine: 'auto' });
    expect(ok.kind).toBe('wasm');
    await ok.close();
  });
});

describe('a .tar.gz bundle re-read on change', () => {
  const policy = (answer: string): string => `package callback\n\ndecision := {"action": "deny", "reasons": ["${answer}"]}\n`;

  test('a good bundle is swapped in; a corrupt or uncompilable one keeps the last good', async () => {
    const dir = tmp();
    const file = path.join(dir, 'bundle.tar.gz');
    fs.writeFileSync(file, tarGz({ 'p.rego': policy('policy_undefined'), '.manifest': '{"revision":"v1"}' }));
    const h = await startHarness({ policyDir: file, watch: true, policyWatchPollMs: 50 });
    const waitFor = async (pred: () => boolean): Promise<void> => {
      for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 25));
      expect(pred()).toBe(true);
    };
    try {
      const rt = h.app.current!;
      expect(rt.engine.revision).toBe('v1');
      expect((await h.ask('grpc', { path: '/login' })).reason).toBe('policy_undefined');

      fs.writeFileSync(file, tarGz({ 'p.rego': policy('stage_unknown'), '.manifest': '{"revision":"v2"}' }));
      await waitFor(() => rt.engine.revision === 'v2');
      expect((await h.ask('grpc', { path: '/login' })).reason).toBe('stage_unknown');

      fs.writeFileSync(file, Buffer.from('this is not gzip'));
      await waitFor(() => h.logs.join('').includes('"error_code":"bundle_archive_invalid"'));
      expect(rt.engine.revision).toBe('v2');
      expect((await h.ask('grpc', { path: '/login' })).reason).toBe('stage_unknown');
      expect(rt.bundles()[0]).toMatchObject({ activeRevision: 'v2', lastError: { code: 'bundle_archive_invalid' } });

      fs.writeFileSync(file, tarGz({ 'p.rego': 'package callback\n\ndecision := \n', '.manifest': '{"revision":"v3"}' }));
      await waitFor(() => h.logs.join('').includes('"error_code":"policy_parse_error"'));
      expect(rt.engine.revision).toBe('v2');
      expect(rt.bundles()[0]).toMatchObject({ activeRevision: 'v2', lastError: { code: 'bundle_activation_failed' } });
      expect((await h.ask('grpc', { path: '/login' })).reason).toBe('stage_unknown');
    } finally {
      await h.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
