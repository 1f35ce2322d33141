// Builtins: semver (OPA policy reference, "SemVer"), as OPA 0.61 parses versions (coreos/go-semver):
// MAJOR.MINOR.PATCH as integers (leading zeros accepted), dotted [0-9A-Za-z-] pre-release and build.
import { BuiltinError } from '../errors';
import { mustString, type BuiltinSpec } from './registry';
import { goQuote } from './go-text';

interface SemVer {
  core: [bigint, bigint, bigint];
  pre: string[];
}

const IDENTS = /^[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*$/;
const INT64_MAX = 2n ** 63n - 1n;

export function parseSemVer(s: string): SemVer | undefined {
  let rest = s;
  const plus = rest.indexOf('+');
  const build = plus >= 0 ? rest.slice(plus + 1) : '';
  if (plus >= 0) rest = rest.slice(0, plus);
  const dash = rest.indexOf('-');
  const pre = dash >= 0 ? rest.slice(dash + 1) : '';
  if (dash >= 0) rest = rest.slice(0, dash);
  const parts = rest.split('.');
  if (parts.length !== 3) return undefined;
  if ((pre !== '' && !IDENTS.test(pre)) || (build !== '' && !IDENTS.test(build))) return undefined;
  const core: bigint[] = [];
  for (const p of parts) {
    if (!/^\d+$/.test(p)) return undefined;
    const n = BigInt(p);
    if (n > INT64_MAX) return undefined;
    core.push(n);
  }
  return { core: core as [bigint, bigint, bigint], pre: pre === '' ? [] : pre.split('.') };
}

const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/** SemVer 2.0.0 precedence (section 11); build metadata is ignored. */
export function compareSemVer(a: SemVer, b: SemVer): number {
  for (let i = 0; i < 3; i++) {
    const c = cmp(a.core[i], b.core[i]);
    if (c !== 0) return c;
  }
  // A version without pre-release ranks above one with it.
  if (a.pre.length === 0 || b.pre.length === 0) return a.pre.length === b.pre.length ? 0 : a.pre.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    // Numeric identifiers compare numerically and rank below alphanumeric ones.
    if (xn && yn) return cmp(BigInt(x), BigInt(y));
    if (xn !== yn) return xn ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

export const semverBuiltins: readonly BuiltinSpec[] = [
  {
    name: 'semver.is_valid',
    category: 'semver',
    args: ['any'],
    result: 'boolean',
    fn: (args) => typeof args[0] === 'string' && parseSemVer(args[0]) !== undefined,
  },
  {
    name: 'semver.compare',
    category: 'semver',
    args: ['string', 'string'],
    result: 'number',
    fn: (args) => {
      const vs = [0, 1].map((i) => {
        const s = mustString('semver.compare', args, i);
        const v = parseSemVer(s);
        if (!v) throw new BuiltinError(`semver.compare: operand ${i + 1}: string ${goQuote(s)} is not a valid SemVer`);
        return v;
      });
      return compareSemVer(vs[0], vs[1]);
    },
  },
];
