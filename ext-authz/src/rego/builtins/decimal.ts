// Exact-decimal arithmetic over JS doubles, so `+ - * /`, sum and product agree with OPA's
// arbitrary-precision numbers for the decimals people actually write (`0.1 + 0.2 == 0.3` is true in OPA).
//
// The rule: every finite double is read as its shortest round-trip decimal (`String(x)`: 0.1 -> "0.1"),
// which is the literal or JSON text OPA kept for any number with at most 17 significant digits. The
// operation is then done exactly on (BigInt mantissa, base-10 exponent) pairs and the exact result is
// rounded once to the nearest double (`Number("<m>e<e>")` is correctly rounded). Division is carried to
// 25+ significant digits with a sticky digit, so it is correctly rounded too (0.3 / 0.1 == 3).
// Known gap: integers beyond 2^53 and literals with more than 17 significant digits are already rounded
// when they reach us, and results beyond ±1.8e308 cannot be represented (OPA prints 1e300 * 1e300).

/** value = m * 10^e */
interface Decimal {
  m: bigint;
  e: number;
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

/** Exact-decimal x + y (fast path for safe integers). */
export function addNumbers(x: number, y: number): number {
  const r = x + y;
  if (isSafeInt(x) && isSafeInt(y) && isSafeInt(r)) return r;
  return fromDecimal(decAdd(toDecimal(x), toDecimal(y)));
}

export function subNumbers(x: number, y: number): number {
  return addNumbers(x, -y);
}

export function mulNumbers(x: number, y: number): number {
  const r = x * y;
  if (isSafeInt(x) && isSafeInt(y) && isSafeInt(r)) return r === 0 ? 0 : r;
  return fromDecimal(decMul(toDecimal(x), toDecimal(y)));
}

/** x / y for y !== 0. */
export function divNumbers(x: number, y: number): number {
  if (isSafeInt(x) && isSafeInt(y) && x % y === 0) {
    const r = x / y;
    return r === 0 ? 0 : r;
  }
  return decDivToNumber(toDecimal(x), toDecimal(y));
}

/** Exact sum of many numbers, rounded once (OPA's sum over big decimals). */
export function sumNumbers(xs: readonly number[]): number {
  let acc: Decimal = { m: 0n, e: 0 };
  let fast = 0;
  let allSafe = true;
  for (const x of xs) {
    if (allSafe && isSafeInt(x) && isSafeInt(fast + x)) {
      fast += x;
      continue;
    }
    if (allSafe) {
      allSafe = false;
      acc = toDecimal(fast);
    }
    acc = decAdd(acc, toDecimal(x));
  }
  return allSafe ? fast : fromDecimal(acc);
}

/** Exact product of many numbers, rounded once. */
export function productNumbers(xs: readonly number[]): number {
  let acc: Decimal = { m: 1n, e: 0 };
  for (const x of xs) acc = decMul(acc, toDecimal(x));
  return fromDecimal(acc);
}
