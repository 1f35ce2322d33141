// Exact-decimal arithmetic over JS doubles, so `+ - * /`, sum and product agree with OPA's
// arbitrary-precision numbers for the decimals people actually write (`0.1 + 0.2 == 0.3` is true in OPA).
//
// The rule: a finite double whose shortest round-trip text (`String(x)`: 0.1 -> "0.1") has at most 15
// significant digits is read as that decimal — 15 digits always survive the trip through a double, so
// this is the literal or JSON text OPA kept. The operation is then done exactly on (BigInt mantissa,
// base-10 exponent) pairs and rounded once to the nearest double (`Number("<m>e<e>")` is correctly
// rounded). Division is carried to 25+ significant digits with a sticky digit, so it is correctly
// rounded too (0.3 / 0.1 == 3). An operand with 16-17 digits is most likely an inexact result already
// (1/3 == 0.3333333333333333) and the double is then the better approximation, so plain IEEE arithmetic
// is used (1/3 * 3 == 1). Safe integers take a fast path.
// Known gap: integers beyond 2^53 and literals with more than 17 significant digits are already rounded
// when they reach us, and results beyond ±1.8e308 cannot be represented (OPA prints 1e300 * 1e300).

/** value = m * 10^e */
export interface Decimal {
  m: bigint;
  e: number;
}

/** Significant digits of the shortest round-trip text of x (0 for 0). */
export function significantDigits(x: number): number {
  const s = String(x);
  const ei = s.indexOf('e');
  const mant = (ei >= 0 ? s.slice(0, ei) : s).replace(/[-.]/g, '').replace(/^0+/, '').replace(/0+$/, '');
  return mant.length;
}

/** Both operands read back exactly as short decimals: the exact-decimal path applies. */
function decimalOperands(x: number, y: number): boolean {
  return Number.isFinite(x) && Number.isFinite(y) && significantDigits(x) <= 15 && significantDigits(y) <= 15;
}

export function toDecimal(x: number): Decimal {
  const s = String(x);
  let mant = s;
  let exp = 0;
  const ei = s.indexOf('e');
  if (ei >= 0) {
    mant = s.slice(0, ei);
    exp = Number(s.slice(ei + 1));
  }
  const dot = mant.indexOf('.');
  if (dot >= 0) {
    exp -= mant.length - dot - 1;
    mant = mant.slice(0, dot) + mant.slice(dot + 1);
  }
  return { m: BigInt(mant), e: exp };
}

/** Nearest double to m * 10^e; -0 becomes 0 (OPA has no negative zero). */
export function fromDecimal(d: Decimal): number {
  const n = Number(`${d.m}e${d.e}`);
  return n === 0 ? 0 : n;
}

function pow10(k: number): bigint {
  return 10n ** BigInt(k);
}

export function decAdd(a: Decimal, b: Decimal): Decimal {
  const e = Math.min(a.e, b.e);
  return { m: a.m * pow10(a.e - e) + b.m * pow10(b.e - e), e };
}

export function decMul(a: Decimal, b: Decimal): Decimal {
  return { m: a.m * b.m, e: a.e + b.e };
}

function digits(m: bigint): number {
  return (m < 0n ? -m : m).toString().length;
}

/** a / b rounded once to a double; b must be non-zero. */
export function decDivToNumber(a: Decimal, b: Decimal): number {
  if (a.m === 0n) return 0;
  const negative = a.m < 0n !== b.m < 0n;
  const am = a.m < 0n ? -a.m : a.m;
  const bm = b.m < 0n ? -b.m : b.m;
  // Scale the dividend so the quotient has at least 25 significant digits.
  const k = Math.max(0, 25 + digits(bm) - digits(am));
  const num = am * pow10(k);
  let q = num / bm;
  let e = a.e - b.e - k;
  if (num % bm !== 0n) {
    // Sticky digit: the quotient is inexact, so nudge it off any half-way point before rounding.
    q = q * 10n + 1n;
    e -= 1;
  }
  return fromDecimal({ m: negative ? -q : q, e });
}

const SAFE = Number.MAX_SAFE_INTEGER;

function isSafeInt(x: number): boolean {
  return Number.isInteger(x) && x <= SAFE && x >= -SAFE;
}

/** Exact powers of ten as doubles (10^0 .. 10^22 are all exactly representable). */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);
const SCALED_LIMIT = 1e15;

/**
 * Fast path without string conversion: the smallest k <= 15 with x == round(x * 10^k) / 10^k and a
 * mantissa below 1e15. Such m / 10^k is the unique decimal of at most 15 digits that rounds to x (the
 * same one the shortest text gives), and IEEE division by an exact power of ten rounds correctly.
 */
function scaled(x: number): [number, number] | undefined {
  for (let k = 0; k <= 15; k++) {
    const v = x * POW10[k];
    if (!(Math.abs(v) < SCALED_LIMIT)) return undefined;
    const m = Math.round(v);
    if (m / POW10[k] === x) return [m, k];
  }
  return undefined;
}

function scaledAdd(x: number, y: number): number | undefined {
  const a = scaled(x);
  const b = scaled(y);
  if (!a || !b) return undefined;
  const k = Math.max(a[1], b[1]);
  const m = a[0] * POW10[k - a[1]] + b[0] * POW10[k - b[1]];
  return Number.isSafeInteger(m) ? m / POW10[k] : undefined;
}

function scaledMul(x: number, y: number): number | undefined {
  const a = scaled(x);
  const b = scaled(y);
  if (!a || !b || a[1] + b[1] > 22) return undefined;
  const m = a[0] * b[0];
  return Number.isSafeInteger(m) ? m / POW10[a[1] + b[1]] : undefined;
}

/** Exact-decimal x + y (fast paths for safe integers and small decimals). */
export function addNumbers(x: number, y: number): number {
  const r = x + y;
  if (isSafeInt(x) && isSafeInt(y) && isSafeInt(r)) return r === 0 ? 0 : r;
  const fast = scaledAdd(x, y);
  if (fast !== undefined) return fast === 0 ? 0 : fast;
  if (!decimalOperands(x, y)) return r === 0 ? 0 : r;
  return fromDecimal(decAdd(toDecimal(x), toDecimal(y)));
}

export function subNumbers(x: number, y: number): number {
  return addNumbers(x, -y);
}

export function mulNumbers(x: number, y: number): number {
  const r = x * y;
  if (isSafeInt(x) && isSafeInt(y) && isSafeInt(r)) return r === 0 ? 0 : r;
  const fast = scaledMul(x, y);
  if (fast !== undefined) return fast === 0 ? 0 : fast;
  if (!decimalOperands(x, y)) return r === 0 ? 0 : r;
  return fromDecimal(decMul(toDecimal(x), toDecimal(y)));
}

/** x / y for y !== 0. */
export function divNumbers(x: number, y: number): number {
  if (isSafeInt(x) && isSafeInt(y) && x % y === 0) {
    const r = x / y;
    return r === 0 ? 0 : r;
  }
  if (!decimalOperands(x, y)) {
    const r = x / y;
    return r === 0 ? 0 : r;
  }
  return decDivToNumber(toDecimal(x), toDecimal(y));
}

/** sum() folds plus left to right, as OPA does (each step exact for short decimals). */
export function sumNumbers(xs: readonly number[]): number {
  let acc = 0;
  for (const x of xs) acc = addNumbers(acc, x);
  return acc;
}

/** product() folds mul left to right. */
export function productNumbers(xs: readonly number[]): number {
  let acc = 1;
  for (const x of xs) acc = mulNumbers(acc, x);
  return acc;
}
