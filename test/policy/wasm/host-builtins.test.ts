// The host-builtins bridge: library builtins as opa-wasm host functions (JSON in, JSON out), the split
// between the SDK's own JavaScript builtins and the library, per-evaluation clocks, and errors.
import path from 'node:path';
import { BuiltinRegistry, defaultRegistry } from '../../../ext-authz/src/rego/engine';
import { HostBuiltins, SDK_BUILTINS } from '../../../ext-authz/src/policy/wasm/host-builtins';
import { WasmEvalError } from '../../../ext-authz/src/policy/wasm/wasm-errors';
import { WasmPolicyEngine } from '../../../ext-authz/src/policy/wasm/wasm-engine';
import { describeWithFixtures, readJson, readWasm } from './fixtures';

describe('resolving a module\'s builtins', () => {
  test('SDK builtins stay the SDK\'s, library builtins are provided, the rest are reported sorted', () => {
    const h = new HostBuiltins();
    const missing = h.resolve(['sprintf', 'crypto.sha256', 'no.such_builtin', 'time.parse_rfc3339_ns', 'another.missing', 'walk']);
    expect(missing).toEqual(['another.missing', 'no.such_builtin', 'walk']);
    expect(Object.fromEntries(h.sources)).toEqual({ sprintf: 'sdk', 'crypto.sha256': 'library', 'time.parse_rfc3339_ns': 'library' });
    expect(Object.keys(h.functions).sort()).toEqual(['crypto.sha256', 'time.parse_rfc3339_ns']);
  });

  test('a registry without a builtin reports it missing', () => {
    expect(new HostBuiltins({ registry: new BuiltinRegistry() }).resolve(['crypto.sha256'])).toEqual(['crypto.sha256']);
  });
});

describe('calling library builtins with JSON values', () => {
  const h = new HostBuiltins();
  h.resolve(['time.parse_rfc3339_ns', 'crypto.sha256', 'object.union', 'net.cidr_merge', 'time.now_ns', 'units.parse_bytes', 'semver.compare']);
  const fn = (name: string) => h.functions[name];

  test('scalars, objects and arrays go in and out as JSON', () => {
    expect(fn('time.parse_rfc3339_ns')('2026-03-01T00:00:00Z')).toBe(Date.parse('2026-03-01T00:00:00Z') * 1e6);
    expect(fn('crypto.sha256')('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(fn('object.union')({ a: 1, b: { c: 2 } }, { b: { d: 3 } })).toEqual({ a: 1, b: { c: 2, d: 3 } });
    expect(fn('semver.compare')('1.2.3', '1.10.0')).toBe(-1);
  });

  test('a set result comes back as a sorted array, as OPA prints sets', () => {
    expect(fn('net.cidr_merge')(['10.0.1.0/24', '10.0.0.0/24'])).toEqual(['10.0.0.0/23']);
  });

  test('a builtin error is no value (undefined) unless strict, where it is a coded error', () => {
    expect(fn('units.parse_bytes')('not a size')).toBeUndefined();
    const strict = new HostBuiltins({ strict: true });
    strict.resolve(['units.parse_bytes']);
    expect(() => strict.functions['units.parse_bytes']('not a size')).toThrow(WasmEvalError);
  });

  test('time.now_ns is fixed per evaluation: begin() sets the clock', () => {
    h.begin(1_780_272_000_000_000_000n);
    expect(fn('time.now_ns')()).toBe(1_780_272_000_000_000_000);
    expect(fn('time.now_ns')()).toBe(1_780_272_000_000_000_000);
    h.begin(5n);
    expect(fn('time.now_ns')()).toBe(5);
  });

  test('SDK_BUILTINS is exactly what the installed opa-wasm implements in JavaScript', () => {
    // Read from the package's files: its exports map does not expose the builtins module.
    const sdkDir = path.dirname(require.resolve('@open-policy-agent/opa-wasm'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sdk = require(path.join(sdkDir, 'builtins', 'index.js')) as Record<string, unknown>;
    expect(Object.keys(sdk).sort()).toEqual([...SDK_BUILTINS].sort());
  });

  test('the library is the same one the Rego engine uses', () => {
    expect(defaultRegistry.has('time.parse_rfc3339_ns')).toBe(true);
    for (const name of SDK_BUILTINS) expect(defaultRegistry.has(name)).toBe(true);
  });
});

interface IndexCase {
  id: string;
  entrypoint: string;
  host_builtins: string[];
  data: unknown;
  input?: unknown;
  want: unknown;
}

// The cases that need a host builtin need only SDK ones, and pass with an empty library: the SDK
// supplied them.
describeWithFixtures('the SDK\'s own JavaScript builtins', () => {
  const cases = (): IndexCase[] => readJson<{ cases: IndexCase[] }>('cases', 'index.json').cases.filter((c) => c.host_builtins.length > 0);

  test('every case that needs a host builtin needs only SDK builtins, and runs without the library', async () => {
    const all = cases();
    expect(all.map((c) => c.host_builtins).flat().sort()).toEqual(['regex.split', 'sprintf', 'sprintf', 'yaml.is_valid']);
    for (const c of all) {
      const e = await WasmPolicyEngine.load({ wasm: readWasm('cases', `${c.id}.wasm`), data: c.data, entrypoint: c.entrypoint, registry: new BuiltinRegistry() });
      expect([...e.builtinSources.values()].every((s) => s === 'sdk')).toBe(true);
      expect(e.evaluate(c.input)).toEqual({ ok: true, value: c.want });
    }
  });
});
