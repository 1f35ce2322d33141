// The wasm engine on modules OPA 0.61 built (shared/opa-wasm): OPA's own decisions for the callback
// policy and the OPA-Envoy example, load-time checks with codes, and evaluation that never throws.
import { BuiltinError, BuiltinRegistry, defaultRegistry, type BuiltinSpec } from '../../../ext-authz/src/rego/engine';
import { WasmPolicyEngine } from '../../../ext-authz/src/policy/wasm/wasm-engine';
import { PolicyLoadError } from '../../../ext-authz/src/policy/engine';
import { describeWithFixtures, readJson, readWasm, samples } from './fixtures';
import { rejection } from '../../support/errors';

/** A registry with the default library's builtins, one of them replaced (or dropped when `fn` is null). */
function registryWith(name: string, fn: BuiltinSpec['fn'] | null): BuiltinRegistry {
  const r = new BuiltinRegistry();
  r.register(defaultRegistry.all().filter((s) => s.name !== name));
  const orig = defaultRegistry.get(name)!;
  if (fn) r.register([{ ...orig, fn }]);
  return r;
}

const loadError = (p: Promise<unknown>): Promise<PolicyLoadError> => rejection(p, PolicyLoadError);

describeWithFixtures('wasm engine: the callback policy as OPA built it', () => {
  let engine: WasmPolicyEngine;
  beforeAll(async () => {
    engine = await WasmPolicyEngine.load({ wasm: readWasm('callback', 'policy.wasm'), data: readJson('callback', 'data.json') });
  });

  test('loads: decision path, a content revision, and the one builtin it needs comes from the library', () => {
    expect(engine.kind).toBe('wasm');
    expect(engine.decisionPath).toBe('data.callback.decision');
    expect(engine.revision).toMatch(/^[0-9a-f]{16}$/);
    expect(Object.fromEntries(engine.builtinSources)).toEqual({ 'time.parse_rfc3339_ns': 'library' });
  });

  test.each(samples('callback').map((s) => [s.name, s] as const))('%s: the decision opa eval gives', (_name, s) => {
    expect(engine.evaluate(s.input)).toEqual({ ok: true, value: s.want });
  });

  test('time.parse_rfc3339_ns from the library decides a legacy pin made after the drain deadline', async () => {
    const s = samples('callback').find((x) => x.name === 'legacy-pin-cutover-after-drain')!;
    const input = structuredClone(s.input) as { pin: { created_at_ms: number } };
    input.pin.created_at_ms = Date.parse('2026-04-01T00:00:00Z'); // after drain_until 2026-03-01
    const r = engine.evaluate(input);
    expect(r).toMatchObject({ ok: true, value: { action: 'deny', reasons: ['downgrade_blocked'] } });
  });

  test('a revision given at load is kept', async () => {
    const e = await WasmPolicyEngine.load({ wasm: readWasm('callback', 'policy.wasm'), revision: 'r7' });
    expect(e.revision).toBe('r7');
  });

  test('a host builtin that fails (not a builtin error) is a policy_error, and the engine goes on', async () => {
    const throwing = registryWith('time.parse_rfc3339_ns', () => {
      throw new TypeError('boom');
    });
    const e = await WasmPolicyEngine.load({ wasm: readWasm('callback', 'policy.wasm'), registry: throwing });
    const after = samples('callback').find((x) => x.name === 'legacy-pin-cutover-after-drain')!;
    expect(e.evaluate(after.input)).toEqual({ ok: false, code: 'policy_error', detail: 'wasm_builtin_failed' });
    const canary = samples('callback').find((x) => x.name === 'legacy-pin-canary')!;
    expect(e.evaluate(canary.input)).toEqual({ ok: true, value: canary.want });
  });

  test('a builtin error makes the call undefined, as in OPA', async () => {
    const erring = registryWith('time.parse_rfc3339_ns', () => {
      throw new BuiltinError('time.parse_rfc3339_ns: bad');
    });
    const e = await WasmPolicyEngine.load({ wasm: readWasm('callback', 'policy.wasm'), registry: erring });
    const s = samples('callback').find((x) => x.name === 'legacy-pin-cutover-after-drain')!;
    // pin_after_drain is then false, so the legacy pin is only past its drain: drain_expired.
    expect(e.evaluate(s.input)).toMatchObject({ ok: true, value: { reasons: ['drain_expired'] } });
  });

  test('a builtin that neither opa-wasm nor the library has fails at load, naming it', async () => {
    const err = await loadError(WasmPolicyEngine.load({ wasm: readWasm('callback', 'policy.wasm'), registry: registryWith('time.parse_rfc3339_ns', null) }));
    expect(err.code).toBe('policy_builtin_missing');
    expect(err.message).toContain('time.parse_rfc3339_ns');
  });

  test('input too large for the memory limit is a policy_error; the next evaluation works', async () => {
    const e = await WasmPolicyEngine.load({ wasm: readWasm('callback', 'policy.wasm'), maxMemoryPages: 8 });
    const s = samples('callback')[0];
    expect(e.evaluate({ ...(s.input as object), padding: 'x'.repeat(2_000_000) })).toEqual({ ok: false, code: 'policy_error', detail: 'wasm_memory' });
    expect(e.evaluate(s.input)).toEqual({ ok: true, value: s.want });
  });

  test('input that is not JSON is a policy_error, never a throw', () => {
    expect(engine.evaluate({ n: 1n })).toEqual({ ok: false, code: 'policy_error', detail: 'wasm_input_invalid' });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(engine.evaluate(cyclic)).toEqual({ ok: false, code: 'policy_error', detail: 'wasm_input_invalid' });
  });

  test('a closed engine answers policy_error', async () => {
    const e = await WasmPolicyEngine.load({ wasm: readWasm('callback', 'policy.wasm') });
    await e.close();
    expect(e.evaluate({})).toEqual({ ok: false, code: 'policy_error', detail: 'wasm_closed' });
  });
});

describeWithFixtures('wasm engine: the OPA-Envoy example with its data', () => {
  const data = (): unknown => readJson('opa-envoy', 'data.json');
  test.each(samples('opa-envoy').map((s) => [`${s.entrypoint} ${s.name}`, s] as const))('%s', async (_n, s) => {
    const e = await WasmPolicyEngine.load({ wasm: readWasm('opa-envoy', 'policy.wasm'), data: data(), entrypoint: s.entrypoint });
    expect(e.decisionPath).toBe(`data.${s.entrypoint.split('/').join('.')}`);
    expect(e.evaluate(s.input)).toEqual({ ok: true, value: s.want });
  });

  test('without its data the SAML route is not a callback route', async () => {
    const e = await WasmPolicyEngine.load({ wasm: readWasm('opa-envoy', 'policy.wasm'), entrypoint: 'data.envoy.authz.allow' });
    const s = samples('opa-envoy').find((x) => x.name === 'saml-acs-ok' && x.entrypoint === 'envoy/authz/allow')!;
    expect(e.evaluate(s.input)).toEqual({ ok: true, value: false });
  });
});

describeWithFixtures('wasm engine: load errors and undefined decisions', () => {
  test('not a wasm module', async () => {
    expect((await loadError(WasmPolicyEngine.load({ wasm: new TextEncoder().encode('package x') }))).code).toBe('policy_wasm_invalid');
  });

  test('an entrypoint the module does not have names the ones it has', async () => {
    const err = await loadError(WasmPolicyEngine.load({ wasm: readWasm('opa-envoy', 'policy.wasm'), entrypoint: 'envoy/authz/deny' }));
    expect(err.code).toBe('decision_path_invalid');
    expect(err.message).toContain('envoy/authz/allow, envoy/authz/result, envoy/authz/status');
  });

  test('data that is not an object', async () => {
    expect((await loadError(WasmPolicyEngine.load({ wasm: readWasm('callback', 'policy.wasm'), data: [1] }))).code).toBe('policy_data_error');
  });

  test('an undefined entrypoint value is policy_undefined', async () => {
    const id = 'lang_iteration--iteration_every-kv-object';
    const e = await WasmPolicyEngine.load({ wasm: readWasm('cases', `${id}.wasm`), entrypoint: 't/p' });
    expect(e.evaluate({ obj: { 'x-a': 'v' } })).toEqual({ ok: true, value: true });
    expect(e.evaluate({})).toEqual({ ok: false, code: 'policy_undefined', detail: 'data.t.p is undefined' });
  });
});
