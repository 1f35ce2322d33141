// The fuzzing budget and tally shared by test/fuzz/*.test.ts. Under `npm test` every property runs a
// small number of cases (the whole fuzz suite in a few seconds); `npm run fuzz` sets FUZZ_RUNS (cases
// per unit of weight) and prints, per parser, how many inputs ran and how each one ended.
import { isReasonCode } from '../../ext-authz/src/model/reasons';

const DEFAULT_RUNS = 50;

/** The base number of cases per property; FUZZ_RUNS overrides it (bounded, so a typo cannot hang CI). */
export const BASE_RUNS = ((): number => {
  const raw = process.env.FUZZ_RUNS;
  if (raw === undefined || raw === '') return DEFAULT_RUNS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 10_000_000) throw new Error(`FUZZ_RUNS must be an integer 1..10000000, got ${JSON.stringify(raw)}`);
  return n;
})();

export const LONG_RUN = process.env.FUZZ_RUNS !== undefined && process.env.FUZZ_RUNS !== '';

/** Cases for one property: the base times its weight (cheap parsers get more, the pipeline fewer). */
export function runs(weight = 1): number {
  return Math.max(10, Math.round(BASE_RUNS * weight));
}

/** fast-check options: a fixed seed under `npm test` would hide nothing new; a random one finds more. */
export function fcOptions(weight = 1): { numRuns: number; endOnFailure: boolean } {
  return { numRuns: runs(weight), endOnFailure: true };
}

export class Tally {
  private readonly counts = new Map<string, Map<string, number>>();

  hit(parser: string, outcome: string): void {
    let m = this.counts.get(parser);
    if (!m) {
      m = new Map();
      this.counts.set(parser, m);
    }
    m.set(outcome, (m.get(outcome) ?? 0) + 1);
  }

  total(parser: string): number {
    let n = 0;
    for (const v of this.counts.get(parser)?.values() ?? []) n += v;
    return n;
  }

  /** One line per parser: total inputs, then outcomes by frequency. */
  render(title: string): string {
    const lines = [`fuzz counts (${title}, FUZZ_RUNS=${BASE_RUNS}):`];
    for (const [parser, m] of [...this.counts].sort((a, b) => a[0].localeCompare(b[0]))) {
      const outcomes = [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${v}`).join(' ');
      lines.push(`  ${parser.padEnd(28)} ${String(this.total(parser)).padStart(9)}  ${outcomes}`);
    }
    return `${lines.join('\n')}\n`;
  }

  /** Prints the table on a long run (npm run fuzz); quiet under npm test. */
  printIfLong(title: string): void {
    if (LONG_RUN) process.stdout.write(this.render(title));
  }
}

/** The outcome must be a reason code of the contract (model/reasons.ts), never free text. */
export function expectCode(x: unknown): string {
  if (!isReasonCode(x)) throw new Error(`not a reason code: ${JSON.stringify(x)}`);
  return x;
}
