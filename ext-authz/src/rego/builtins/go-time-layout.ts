// Go reference-time layouts ("2006-01-02T15:04:05Z07:00") for time.parse_ns / time.format: the
// chunk tokenizer and the formatter, mirroring Go's time package (parsing is in go-time-parse.ts).
import { daysFromCivil, toCivil, zoneAbbr, zoneOffset, type Instant } from './go-time-zone';

export const RFC3339 = '2006-01-02T15:04:05Z07:00';
export const RFC3339_NANO = '2006-01-02T15:04:05.999999999Z07:00';

/** Go's named layout constants, which OPA's time.format also accepts by name. */
export const NAMED_LAYOUTS: ReadonlyMap<string, string> = new Map([
  ['ANSIC', 'Mon Jan _2 15:04:05 2006'],
  ['UnixDate', 'Mon Jan _2 15:04:05 MST 2006'],
  ['RubyDate', 'Mon Jan 02 15:04:05 -0700 2006'],
  ['RFC822', '02 Jan 06 15:04 MST'],
  ['RFC822Z', '02 Jan 06 15:04 -0700'],
  ['RFC850', 'Monday, 02-Jan-06 15:04:05 MST'],
  ['RFC1123', 'Mon, 02 Jan 2006 15:04:05 MST'],
  ['RFC1123Z', 'Mon, 02 Jan 2006 15:04:05 -0700'],
  ['RFC3339', RFC3339],
  ['RFC3339Nano', RFC3339_NANO],
  ['Kitchen', '3:04PM'],
  ['Stamp', 'Jan _2 15:04:05'],
  ['StampMilli', 'Jan _2 15:04:05.000'],
  ['StampMicro', 'Jan _2 15:04:05.000000'],
  ['StampNano', 'Jan _2 15:04:05.000000000'],
  ['DateTime', '2006-01-02 15:04:05'],
  ['DateOnly', '2006-01-02'],
  ['TimeOnly', '15:04:05'],
]);

export const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
export const LONG_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
  'October', 'November', 'December'];

/** One layout element; `frac` carries the digit count of `.000` / `.999` elements. */
export type Std =
  | 'Jan' | 'January' | '1' | '01' | 'Mon' | 'Monday' | '2' | '_2' | '02' | '__2' | '002' | '15' | '3' | '03'
  | '4' | '04' | '5' | '05' | '2006' | '06' | 'PM' | 'pm' | 'MST'
  | 'Z0700' | 'Z070000' | 'Z07' | 'Z07:00' | 'Z07:00:00' | '-0700' | '-070000' | '-07' | '-07:00' | '-07:00:00'
  | 'frac0' | 'frac9';
export interface Chunk { prefix: string; std: Std | undefined; text: string; frac: number; suffix: string }

const isLower = (s: string, i: number): boolean => i < s.length && s[i] >= 'a' && s[i] <= 'z';
export const isDigitAt = (s: string, i: number): boolean => i < s.length && s[i] >= '0' && s[i] <= '9';

/** Splits off the text before the first layout element, the element, and the rest (Go's nextStdChunk). */
export function nextChunk(layout: string): Chunk {
  const mk = (i: number, len: number, std: Std, frac = 0): Chunk => ({
    prefix: layout.slice(0, i), std, text: layout.slice(i, i + len), frac, suffix: layout.slice(i + len),
  });
  for (let i = 0; i < layout.length; i++) {
    const rest = layout.slice(i);
    switch (layout[i]) {
      case 'J':
        if (rest.startsWith('January')) return mk(i, 7, 'January');
        if (rest.startsWith('Jan') && !isLower(layout, i + 3)) return mk(i, 3, 'Jan');
        break;
      case 'M':
        if (rest.startsWith('Monday')) return mk(i, 6, 'Monday');
        if (rest.startsWith('Mon') && !isLower(layout, i + 3)) return mk(i, 3, 'Mon');
        if (rest.startsWith('MST')) return mk(i, 3, 'MST');
        break;
      case '0':
        if (rest.startsWith('002')) return mk(i, 3, '002');
        if (layout[i + 1] >= '1' && layout[i + 1] <= '6') return mk(i, 2, rest.slice(0, 2) as Std);
        break;
      case '1':
        return rest.startsWith('15') ? mk(i, 2, '15') : mk(i, 1, '1');
      case '2':
        return rest.startsWith('2006') ? mk(i, 4, '2006') : mk(i, 1, '2');
      case '_':
        if (layout[i + 1] === '2') {
          // `_2006` is a literal underscore followed by the long year.
          if (layout.slice(i + 1, i + 5) === '2006') return mk(i + 1, 4, '2006');
          return mk(i, 2, '_2');
        }
        if (rest.startsWith('__2')) return mk(i, 3, '__2');
        break;
      case '3': case '4': case '5':
        return mk(i, 1, layout[i] as Std);
      case 'P':
        if (layout[i + 1] === 'M') return mk(i, 2, 'PM');
        break;
      case 'p':
        if (layout[i + 1] === 'm') return mk(i, 2, 'pm');
        break;
      case '-': case 'Z': {
        const z = layout[i];
        for (const tail of ['07:00:00', '070000', '0700', '07:00', '07']) {
          if (rest.startsWith(z + tail)) return mk(i, 1 + tail.length, (z + tail) as Std);
        }
        break;
      }
      case '.': case ',': {
        const ch = layout[i + 1];
        if (ch === '0' || ch === '9') {
          let j = i + 1;
          while (j < layout.length && layout[j] === ch) j++;
          if (!isDigitAt(layout, j)) return mk(i, j - i, ch === '0' ? 'frac0' : 'frac9', j - i - 1);
        }
        break;
      }
    }
  }
  return { prefix: layout, std: undefined, text: '', frac: 0, suffix: '' };
}

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

/** Formats an instant in a zone with a Go layout. */
export function formatLayout(t: Instant, tz: string, layout: string): string {
  const offset = zoneOffset(tz, t.sec);
  const { year, month, day, hour, min, sec, wday } = toCivil(t, tz);
  const yday = daysFromCivil(year, month, day) - daysFromCivil(year, 1, 1) + 1;
  let out = '';
  for (let rest = layout; rest !== '';) {
    const c = nextChunk(rest);
    out += c.prefix;
    if (c.std === undefined) break;
    rest = c.suffix;
    switch (c.std) {
      case '2006': out += year < 0 ? '-' + pad(-year, 4) : pad(year, 4); break;
      case '06': out += pad(((year % 100) + 100) % 100, 2); break;
      case 'Jan': out += LONG_MONTHS[month - 1].slice(0, 3); break;
      case 'January': out += LONG_MONTHS[month - 1]; break;
      case '1': out += month; break;
      case '01': out += pad(month, 2); break;
      case 'Mon': out += LONG_DAYS[wday].slice(0, 3); break;
      case 'Monday': out += LONG_DAYS[wday]; break;
      case '2': out += day; break;
      case '_2': out += day < 10 ? ' ' + day : String(day); break;
      case '02': out += pad(day, 2); break;
      case '__2': out += String(yday).padStart(3, ' '); break;
      case '002': out += pad(yday, 3); break;
      case '15': out += pad(hour, 2); break;
      case '3': out += hour % 12 === 0 ? 12 : hour % 12; break;
      case '03': out += pad(hour % 12 === 0 ? 12 : hour % 12, 2); break;
      case '4': out += min; break;
      case '04': out += pad(min, 2); break;
      case '5': out += sec; break;
      case '05': out += pad(sec, 2); break;
      case 'PM': out += hour >= 12 ? 'PM' : 'AM'; break;
      case 'pm': out += hour >= 12 ? 'pm' : 'am'; break;
      case 'MST': {
        // Zones without a letter abbreviation print tzdata's numeric one ("+04", "+0530").
        const abbr = zoneAbbr(tz, t.sec);
        out += abbr !== '' ? abbr : numericZone(offset, false, false, offset % 3600 === 0);
        break;
      }
      case 'frac0': case 'frac9': {
        let digits = pad(t.nsec, 9).slice(0, c.frac);
        if (c.std === 'frac9') {
          // `.999` drops trailing zeros, and the separator too when nothing is left.
          digits = digits.replace(/0+$/, '');
          if (digits === '') break;
        }
        out += c.text[0] + digits;
        break;
      }
      default: {
        // Numeric zones; the Z forms print `Z` for UTC.
        if (c.std[0] === 'Z' && offset === 0) {
          out += 'Z';
          break;
        }
        const tail = c.std.slice(1);
        out += numericZone(offset, tail.includes(':'), tail.length >= 6, tail === '07');
      }
    }
  }
  return out;
}

function numericZone(offset: number, colon: boolean, seconds: boolean, hoursOnly: boolean): string {
  const sign = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  const h = pad(Math.floor(a / 3600), 2);
  const m = pad(Math.floor((a % 3600) / 60), 2);
  const s = pad(a % 60, 2);
  if (hoursOnly) return sign + h;
  const sep = colon ? ':' : '';
  return sign + h + sep + m + (seconds ? sep + s : '');
}
