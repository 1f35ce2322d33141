// decimal.ts: the exact-decimal rule behind plus/minus/mul/div, sum and product.
// Property: for short decimals (what literals and JSON carry) the result is the double nearest to the
// exact decimal result, as OPA's arbitrary-precision arithmetic would print it.
import fc from 'fast-check';
import {
  addNumbers, divNumbers, mulNumbers, significantDigits, subNumbers, toDecimal,
} from '../../../ext-authz/src/rego/builtins/decimal';

/** m / 10^k as a double, plus its exact (mantissa, exponent). */
const shortDecimal = fc
  .tuple(fc.integer({ min: -999_999_999, max: 999_999_999 }), fc.integer({ min: 0, max: 6 }))
  .map(([m, k]) => ({ x: Number(`${m}e-${k}`), m: BigInt(m), e: -k }));

/** Up to 15 digits and 14 decimal places: exercises both the scaled fast path and the BigInt path. */
const wideDecimal = fc
  .tuple(fc.bigInt({ min: -(10n ** 15n) + 1n, max: 10n ** 15n - 1n }), fc.integer({ min: 0, max: 14 }))
  .map(([m, k]) => ({ x: Number(`${m}e-${k}`), m, e: -k }));

/** Up to 7 digits, so a product of two has at most 14 and is itself a short decimal. */
const smallDecimal = fc
  .tuple(fc.integer({ min: -9_999_999, max: 9_999_999 }), fc.integer({ min: 0, max: 6 }))
  .map(([m, k]) => ({ x: Number(`${m}e-${k}`), m: BigInt(m), e: -k }));

function exact(m: bigint, e: number): number {
  const n = Number(`${m}e${e}`);
  return n === 0 ? 0 : n;
}

describe('decimal arithmetic', () => {
  test('toDecimal reads the shortest round-trip text', () => {
    expect(toDecimal(0.1)).toEqual({ m: 1n, e: -1 });
    expect(toDecimal(-123.45)).toEqual({ m: -12345n, e: -2 });
    expect(toDecimal(1e21)).toEqual({ m: 1n, e: 21 });
    expect(toDecimal(2.5e-7)).toEqual({ m: 25n, e: -8 });
    expect(significantDigits(0.30000000000000004)).toBe(17);
    expect(significantDigits(1200)).toBe(2);
  });

  test('classic cases', () => {
    expect(addNumbers(0.1, 0.2)).toBe(0.3);
    expect(subNumbers(1, 0.9)).toBe(0.1);
    expect(mulNumbers(1.1, 1.1)).toBe(1.21);
    expect(divNumbers(0.3, 0.1)).toBe(3);
    expect(divNumbers(1, 3)).toBe(1 / 3);
    expect(divNumbers(-1, 8)).toBe(-0.125);
    expect(Object.is(mulNumbers(-0.5, 0), 0)).toBe(true);
  });

  test('plus, minus and mul of short decimals are the nearest double to the exact result', () => {
    fc.assert(
      fc.property(shortDecimal, shortDecimal, (a, b) => {
        const e = Math.min(a.e, b.e);
        const am = a.m * 10n ** BigInt(a.e - e);
        const bm = b.m * 10n ** BigInt(b.e - e);
        expect(addNumbers(a.x, b.x)).toBe(exact(am + bm, e));
        expect(subNumbers(a.x, b.x)).toBe(exact(am - bm, e));
        expect(mulNumbers(a.x, b.x)).toBe(exact(a.m * b.m, a.e + b.e));
      }),
    );
  });

  test('the same holds for wide decimals (up to 15 digits)', () => {
    fc.assert(
      fc.property(wideDecimal, wideDecimal, (a, b) => {
        const e = Math.min(a.e, b.e);
        const am = a.m * 10n ** BigInt(a.e - e);
        const bm = b.m * 10n ** BigInt(b.e - e);
        expect(addNumbers(a.x, b.x)).toBe(exact(am + bm, e));
        expect(mulNumbers(a.x, b.x)).toBe(exact(a.m * b.m, a.e + b.e));
      }),
      { numRuns: 500 },
    );
  });

  test('division is correctly rounded and exact quotients come out exact', () => {
    fc.assert(
      fc.property(smallDecimal, smallDecimal, (a, b) => {
        fc.pre(b.m !== 0n);
        // a*b is exact here, so (a*b)/b must give back a exactly.
        expect(divNumbers(mulNumbers(a.x, b.x), b.x)).toBe(a.x === 0 ? 0 : a.x);
      }),
    );
  });
});
