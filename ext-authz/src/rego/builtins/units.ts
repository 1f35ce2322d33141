// Builtins: units (OPA policy reference, "Units"): units.parse ("250m" -> 0.25, "1Ki" -> 1024) and
// units.parse_bytes ("1.5MB", "2Mi"). Amounts are scaled exactly (decimal digits as BigInt).
import { BuiltinError } from '../errors';
import { mustString, type BuiltinSpec } from './registry';

/** Multipliers as [integer factor, power of ten]: m is 10^-3, K is 10^3, Ki is 2^10, ... */
type Scale = [bigint, number];
const dec = (p: number): Scale => [1n, p];
const bin = (p: bigint): Scale => [2n ** p, 0];

// units.parse: only the first letter keeps its case, so "m" (milli) and "M" (mega) differ.
const SI_UNITS: Record<string, Scale> = {
  '': dec(0), m: dec(-3), k: dec(3), K: dec(3), ki: bin(10n), Ki: bin(10n), M: dec(6), mi: bin(20n), Mi: bin(20n),
  g: dec(9), G: dec(9), gi: bin(30n), Gi: bin(30n), t: dec(12), T: dec(12), ti: bin(40n), Ti: bin(40n),
  p: dec(15), P: dec(15), pi: bin(50n), Pi: bin(50n), e: dec(18), E: dec(18), ei: bin(60n), Ei: bin(60n),
};

// units.parse_bytes: case-insensitive, optional trailing "b"; a bare "b" is not a unit.
const BYTE_UNITS: Record<string, Scale> = { '': dec(0) };
for (const [u, s] of [['k', dec(3)], ['m', dec(6)], ['g', dec(9)], ['t', dec(12)], ['p', dec(15)], ['e', dec(18)]] as const) {
  BYTE_UNITS[u] = s;
  BYTE_UNITS[u + 'b'] = s;
}
for (const [u, p] of [['ki', 10n], ['mi', 20n], ['gi', 30n], ['ti', 40n], ['pi', 50n], ['ei', 60n]] as const) {
  BYTE_UNITS[u] = bin(p);
  BYTE_UNITS[u + 'b'] = bin(p);
}

interface Amount {
  /** value = mantissa * 10^exp10 */
  mantissa: bigint;
  exp10: number;
  unit: string;
}

/** Splits "1.5e3Ki" into the amount and the unit; `what` is "amount" or "byte amount". */
function splitAmount(name: string, raw: string, what: string): Amount {
  const fail = (msg: string): never => {
    // OPA 0.61 prefixes these messages twice ("units.parse: units.parse: no amount provided").
    throw new BuiltinError(`${name}: ${name}: ${msg}`);
  };
  const s = raw.replace(/"/g, '');
  if (s.includes(' ')) fail('spaces not allowed in resource strings');
  const m = /^([+-]?[0-9.]*)([eE][+-]?[0-9]+)?(.*)$/s.exec(s)!;
  const num = m[1];
  if (!/[0-9.]/.test(num)) fail(`no ${what} provided`);
  const nm = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(num);
  if (!nm || (nm[2] === '' && (nm[3] ?? '') === '')) fail(`could not parse ${what} to a number`);
  const exp = m[2] ? Number(m[2].slice(1)) : 0;
  if (Math.abs(exp) > 100000) fail('exponent too large');
  const frac = nm![3] ?? '';
  let mantissa = BigInt((nm![2] || '0') + frac);
  if (nm![1] === '-') mantissa = -mantissa;
  return { mantissa, exp10: exp - frac.length, unit: m[3] };
}

function scaled(a: Amount, [factor, p10]: Scale): [bigint, number] {
  return [a.mantissa * factor, a.exp10 + p10];
}

/** Exact decimal to the nearest double (JavaScript parses decimal text with correct rounding). */
function toNumber([n, e]: [bigint, number]): number {
  return Number(`${n}e${e}`);
}

export const unitsBuiltins: readonly BuiltinSpec[] = [
  {
    name: 'units.parse',
    category: 'units',
    args: ['string'],
    result: 'number',
    fn: (args) => {
      const a = splitAmount('units.parse', mustString('units.parse', args, 0), 'amount');
      const unit = a.unit.length > 1 ? a.unit[0] + a.unit.slice(1).toLowerCase() : a.unit;
      const scale = Object.prototype.hasOwnProperty.call(SI_UNITS, unit) ? SI_UNITS[unit] : undefined;
      if (!scale) throw new BuiltinError(`units.parse: units.parse: unit ${unit} not recognized`);
      return toNumber(scaled(a, scale));
    },
  },
  {
    name: 'units.parse_bytes',
    category: 'units',
    args: ['string'],
    result: 'number',
    fn: (args) => {
      const a = splitAmount('units.parse_bytes', mustString('units.parse_bytes', args, 0).toLowerCase(), 'byte amount');
      const scale = Object.prototype.hasOwnProperty.call(BYTE_UNITS, a.unit) ? BYTE_UNITS[a.unit] : undefined;
      if (!scale) throw new BuiltinError(`units.parse_bytes: units.parse_bytes: byte unit ${a.unit} not recognized`);
      const [n, e] = scaled(a, scale);
      // Whole bytes: the amount is truncated towards zero ("1.1KiB" is 1126).
      if (e >= 0) return Number(n * 10n ** BigInt(e));
      return Number(n / 10n ** BigInt(-e));
    },
  },
];
