// The 49 conformance-corpus cases OPA 0.61 compiled to wasm (shared/opa-wasm/cases), each run through
// the wasm engine with its data and input: the result is OPA's expectation. A top-level set comes back
// as an array in the module's own order, so those are compared as multisets; object key order never
// matters.
import { WasmPolicyEngine } from '../../../ext-authz/src/policy/wasm/wasm-engine';
import { describeWithFixtures, readJson, readWasm } from './fixtures';

interface IndexCase {
  id: string;
  note: string;
  entrypoint: string;
  data: unknown;
  input?: unknown;
  want: unknown;
  set_result: boolean;
}

/** A canonical text for a JSON value: object keys sorted. */
function canon(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canon(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

describeWithFixtures('conformance corpus cases built by OPA, run by the wasm engine', () => {
  const index = (): IndexCase[] => readJson<{ count: number; cases: IndexCase[] }>('cases', 'index.json').cases;

  test('the index lists 49 cases, one module each', () => {
    expect(index()).toHaveLength(49);
  });

  // Read when the suite is collected: describeWithFixtures only runs this body when the files exist.
  test.each(index().map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const engine = await WasmPolicyEngine.load({ wasm: readWasm('cases', `${c.id}.wasm`), data: c.data, entrypoint: c.entrypoint });
    const r = engine.evaluate('input' in c ? c.input : undefined);
    await engine.close();
    if (!r.ok) throw new Error(`${r.code} (${r.detail})`);
    if (c.set_result && Array.isArray(r.value) && Array.isArray(c.want)) {
      expect(r.value.map(canon).sort()).toEqual(c.want.map(canon).sort());
    } else {
      expect(canon(r.value)).toBe(canon(c.want));
    }
  });
});
