// RE2's character class tables (ASCII Perl and POSIX classes, Unicode general categories) as code
// point ranges, with complement for negated forms like \D and [[:^alpha:]].
export type Range = [number, number];
export const MAX_RUNE = 0x10ffff;
const R = (s: string): Range[] => {
  const out: Range[] = [];
  for (let i = 0; i < s.length; ) {
    const lo = s.charCodeAt(i);
    if (s[i + 1] === '-' && i + 2 < s.length) {
      out.push([lo, s.charCodeAt(i + 2)]);
      i += 3;
    } else {
      out.push([lo, lo]);
      i += 1;
    }
  }
  return out;
};

// ASCII classes: Perl (\d \s \w) and POSIX ([[:alpha:]]), as RE2 defines them.
export const PERL: Record<string, Range[]> = { d: R('0-9'), s: R('\t\n\f\r '), w: R('0-9A-Za-z_') };
export const POSIX: Record<string, Range[]> = {
  alnum: R('0-9A-Za-z'), alpha: R('A-Za-z'), ascii: [[0, 0x7f]], blank: R('\t '), cntrl: [[0, 0x1f], [0x7f, 0x7f]],
  digit: R('0-9'), graph: R('!-~'), lower: R('a-z'), print: R(' -~'), punct: R('!-/:-@[-`{-~'),
  space: R('\t\n\v\f\r '), upper: R('A-Z'), word: R('0-9A-Za-z_'), xdigit: R('0-9A-Fa-f'),
};
export const GENERAL_CATEGORIES = new Set(
  'L Lu Ll Lt Lm Lo M Mn Mc Me N Nd Nl No P Pc Pd Ps Pe Pi Pf Po S Sm Sc Sk So Z Zs Zl Zp C Cc Cf Cs Co Any'.split(' '),
);

export function complement(rs: Range[]): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of [...rs].sort((a, b) => a[0] - b[0])) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= MAX_RUNE) out.push([next, MAX_RUNE]);
  return out;
}
