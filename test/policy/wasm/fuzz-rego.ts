// `npm run fuzz:rego [-- --runs N] [--seed S] [--fixture callback|opa-envoy]`: the differential test at
// volume (default 100,000 compared inputs per fixture). Prints, per fixture, how many inputs were
// compared and the agreement rate; on a disagreement, fast-check shrinks it to a minimal failing input,
// which is printed with both results. Exit code 0 when everything agreed, 1 otherwise, 2 on bad usage.
import fc from 'fast-check';
import {
  applyMutations, compare, excluded, FIXTURES, fixturesReady, generatedArb, loadFixture, sampleInputs,
  type FixtureName, type Generated, type Json,
} from './differential';
import { OPA_WASM_DIR } from './fixtures';
import { pipelineInputs } from './pipeline-inputs';

interface Args {
  runs: number;
  seed: number;
  fixtures: FixtureName[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { runs: 100_000, seed: Date.now() % 2 ** 31, fixtures: Object.keys(FIXTURES) as FixtureName[] };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--help' || flag === '-h') {
      process.stdout.write('usage: npm run fuzz:rego -- [--runs N] [--seed S] [--fixture callback|opa-envoy]\n');
      process.exit(0);
    }
    if (value === undefined) usage(`${flag} needs a value`);
    if (flag === '--runs' && /^\d+$/.test(value)) args.runs = Number(value);
    else if (flag === '--seed' && /^\d+$/.test(value)) args.seed = Number(value);
    else if (flag === '--fixture' && value in FIXTURES) args.fixtures = [value as FixtureName];
    else usage(`bad argument ${flag} ${value}`);
    i++;
  }
  return args;
}

function usage(msg: string): never {
  process.stderr.write(`fuzz:rego: ${msg}\nusage: npm run fuzz:rego -- [--runs N] [--seed S] [--fixture callback|opa-envoy]\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!fixturesReady()) {
    process.stderr.write(`fuzz:rego: the OPA wasm fixtures are missing (${OPA_WASM_DIR})\n`);
    process.exit(2);
  }
  const real = (await pipelineInputs()) as Json[];
  process.stdout.write(`our Rego engine (snapshot sources) vs OPA 0.61's wasm (opa-wasm), seed ${args.seed}; ${real.length} pipeline inputs as seeds\n`);
  let failed = false;
  for (const name of args.fixtures) {
    const fx = await loadFixture(name);
    const seeds = [...sampleInputs(name), ...real];
    const arb = generatedArb(seeds);
    const started = Date.now();
    let compared = 0;
    let skipped = 0;
    let agreed = 0;
    let first: Generated | null = null;
    let generated = 0;
    // `runs` counts compared inputs: draw a little more than that, for the excluded ones.
    for (const g of fc.sample(arb, { numRuns: Math.ceil(args.runs * 1.02) + 100, seed: args.seed })) {
      if (compared === args.runs) break;
      generated++;
      const input = applyMutations(seeds[g.seed], g.mutations);
      if (excluded(input)) {
        skipped++;
        continue;
      }
      compared++;
      if (compare(fx, input) === null) agreed++;
      else first ??= g;
    }
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    const rate = compared ? ((100 * agreed) / compared).toFixed(3) : 'n/a';
    process.stdout.write(
      `${name.padEnd(10)} ${compared} compared: ${agreed} agree (${rate}%); ${generated} generated, ${skipped} excluded ` +
        `(integers beyond 2^53); ${secs} s\n`,
    );
    if (first === null) {
      process.stdout.write('  minimal failing input: none (every compared input agreed)\n');
      continue;
    }
    failed = true;
    // Shrink: fast-check replays the same stream and reduces the first failure it meets.
    const details = fc.check(
      fc.property(arb, (g) => {
        const input = applyMutations(seeds[g.seed], g.mutations);
        return excluded(input) || compare(fx, input) === null;
      }),
      { numRuns: generated, seed: args.seed },
    );
    const g = (details.counterexample?.[0] ?? first) as Generated;
    const input = applyMutations(seeds[g.seed], g.mutations);
    const d = compare(fx, input);
    process.stdout.write(`  minimal failing input (seed input #${g.seed}, mutations ${JSON.stringify(g.mutations)}):\n`);
    process.stdout.write(`  ${JSON.stringify(input)}\n`);
    process.stdout.write(`  ${d?.entrypoint}: ours ${d?.ours}\n  ${' '.repeat(d?.entrypoint.length ?? 0)}  wasm ${d?.wasm}\n`);
  }
  process.exit(failed ? 1 : 0);
}

main().catch((e: unknown) => {
  process.stderr.write(`fuzz:rego failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(2);
});
