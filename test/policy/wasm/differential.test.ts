// Differential test, bounded for `npm test` (`npm run fuzz:rego` runs 100,000 inputs per fixture): our
// Rego engine on the snapshot sources and OPA's compiled wasm of the same sources give the same result
// for real inputs mutated by fast-check. What is excluded and why: see differential.ts.
import fc from 'fast-check';
import { compilePolicy } from '../../../ext-authz/src/rego/engine';
import { loadPolicyDir } from '../../../ext-authz/src/policy/load-dir';
import {
  applyMutations, compare, excluded, generatedArb, loadFixture, sampleInputs,
  type Fixture, type FixtureName, type Json,
} from './differential';
import { describeWithFixtures, REPO_ROOT } from './fixtures';
import { pipelineInputs } from './pipeline-inputs';

const RUNS = 2000;
/** Fixed, so `npm test` is deterministic; `npm run fuzz:rego` draws new seeds. */
const SEED = 20260601;

describeWithFixtures('differential: our engine against OPA\'s compiled wasm', () => {
  const fixtures = new Map<FixtureName, { fx: Fixture; seeds: Json[] }>();

  beforeAll(async () => {
    const real = (await pipelineInputs()) as Json[];
    for (const name of ['callback', 'opa-envoy'] as const) {
      // The callback policy: the pipeline's inputs and OPA's samples. The OPA-Envoy example: its samples
      // (the plugin's input shape) and the pipeline's inputs, which carry the same fields and more.
      fixtures.set(name, { fx: await loadFixture(name), seeds: [...sampleInputs(name), ...real] });
    }
  }, 120_000);

  test('the unmodified inputs agree (and there are real ones from the pipeline)', () => {
    for (const [name, { fx, seeds }] of fixtures) {
      expect(seeds.length).toBeGreaterThan(50);
      const bad = seeds.map((s, i) => [i, compare(fx, s)] as const).filter(([, d]) => d !== null);
      expect({ name, bad }).toEqual({ name, bad: [] });
    }
  });

  test.each(['callback', 'opa-envoy'] as const)(`%s: ${RUNS} mutated inputs agree`, (name) => {
    const { fx, seeds } = fixtures.get(name)!;
    fc.assert(
      fc.property(generatedArb(seeds), (g) => {
        const input = applyMutations(seeds[g.seed], g.mutations);
        fc.pre(!excluded(input));
        const d = compare(fx, input);
        if (d) throw new Error(`${d.entrypoint}: ours ${d.ours}, wasm ${d.wasm} for ${JSON.stringify(input)}`);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  test('the shipped policy as it is today (policies/callback) and OPA\'s wasm build of its snapshot decide every real pipeline input alike', () => {
    // The snapshot predates later hardening of the shipped policy (next test), so mutated inputs can
    // tell them apart; the pipeline's own inputs must not.
    const { fx, seeds } = fixtures.get('callback')!;
    const live = loadPolicyDir(`${REPO_ROOT}/policies/callback`);
    const shipped: Fixture = { ...fx, ours: [compilePolicy(live.modules, { data: live.data }).prepare('data.callback.decision')] };
    const real = seeds.filter((s) => !excluded(s));
    expect(real.length).toBeGreaterThan(100);
    const bad = real.map((s, i) => [i, compare(shipped, s)] as const).filter(([, d]) => d !== null);
    expect(bad).toEqual([]);
  });

  test('the comparison finds a real difference: the live policy has moved on from the snapshot', () => {
    const { fx, seeds } = fixtures.get('callback')!;
    const live = loadPolicyDir(`${REPO_ROOT}/policies/callback`);
    const moved: Fixture = { ...fx, ours: [compilePolicy(live.modules, { data: live.data }).prepare('data.callback.decision')] };
    // A non-strict connection, no pin, and a cookie hint naming a backend outside the connection. The
    // snapshot, under OPA's rules, lets role_of() fall through to the next else and routes the callback
    // to legacy; the live policy denies it (backend_not_allowed).
    type Seed = { callback?: { kind?: string }; pin: Record<string, unknown>; migration: Record<string, unknown> };
    const input = structuredClone(seeds.find((s) => (s as Seed).callback?.kind === 'oauth_query' && (s as Seed).pin?.found === true)!) as Seed;
    input.pin = { ...input.pin, found: false, backend: null, hint_backend: 'elsewhere', source: null };
    input.migration.require_pin = false;
    expect(compare(fx, input as Json)).toBeNull();
    const d = compare(moved, input as Json);
    expect(d).not.toBeNull();
    expect(d!.wasm).toContain('pinned_legacy');
    expect(d!.ours).toContain('backend_not_allowed');
  });
});
