// Go duration strings ("1h30m", "1.5s", "-300ms", "2µs") as used by time.parse_duration_ns: the
// grammar and error texts of Go's time.ParseDuration, computed exactly with BigInt.

const UNITS: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n], // MICRO SIGN
  ['\u03bcs', 1_000n], // GREEK SMALL LETTER MU
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);

const MAX_DURATION = 2n ** 63n - 1n;

/** Nanoseconds, or Go's error text ("time: invalid duration \"x\"") when the string is not a duration. */
export function parseGoDuration(orig: string): bigint | string {
  const q = JSON.stringify;
  const invalid = `time: invalid duration ${q(orig)}`;
  let s = orig;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') return invalid;
  let total = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || (s[0] >= '0' && s[0] <= '9'))) return invalid;
    const int = /^\d*/.exec(s)![0];
    s = s.slice(int.length);
    let frac = '';
    let post = false;
    if (s[0] === '.') {
      frac = /^\d*/.exec(s.slice(1))![0];
      s = s.slice(1 + frac.length);
      post = frac.length > 0;
    }
    if (int === '' && !post) return invalid;
    let i = 0;
    while (i < s.length && !(s[i] === '.' || (s[i] >= '0' && s[i] <= '9'))) i++;
    if (i === 0) return `time: missing unit in duration ${q(orig)}`;
    const u = s.slice(0, i);
    s = s.slice(i);
    const unit = UNITS.get(u);
    if (unit === undefined) return `time: unknown unit ${q(u)} in duration ${q(orig)}`;
    let v = BigInt(int === '' ? '0' : int) * unit;
    if (frac !== '') v += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    total += v;
    if (total > MAX_DURATION + (neg ? 1n : 0n)) return invalid;
  }
  return neg ? -total : total;
}
