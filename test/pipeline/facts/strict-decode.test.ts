// strictDecode's all-ASCII fast path must agree with the general byte-wise decoder (facts/params.ts).
import fc from 'fast-check';
import { strictDecode } from '../../../ext-authz/src/pipeline/facts/params';

/** The general algorithm on its own: bytes, then a fatal UTF-8 decode (which drops a leading BOM). */
function reference(s: string): string | null {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s; // nothing to decode: returned as is
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2b) bytes.push(0x20);
    else if (c === 0x25) {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c < 0x80) bytes.push(c);
    else {
      for (const b of Buffer.from(s[i] + (c >= 0xd800 && c <= 0xdbff ? s[i + 1] ?? '' : ''), 'utf8')) bytes.push(b);
      if (c >= 0xd800 && c <= 0xdbff) i++;
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return null;
  }
}

test('examples', () => {
  expect(strictDecode('https%3A%2F%2Fnew-idp.example.com')).toBe('https://new-idp.example.com');
  expect(strictDecode('a+b%20c')).toBe('a b c');
  expect(strictDecode('%zz')).toBeNull();
  expect(strictDecode('abc%4')).toBeNull();
  expect(strictDecode('%EF%BB%BFx')).toBe(reference('%EF%BB%BFx'));
  expect(strictDecode('%C3%A9')).toBe('é');
  expect(strictDecode('%C0%AF')).toBeNull();
});

test('property: same result as the byte-wise decoder', () => {
  const piece = fc.oneof(
    fc.constantFrom('%', '+', 'a', 'Z', '0', '9', 'f', 'G', '%2', '%41', '%7f', '%80', '%C3%A9', '%EF%BB%BF', '%ZZ', 'é', '\u{1F600}', '\uD800'),
    fc.string({ maxLength: 3 }),
  );
  fc.assert(fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
    const s = parts.join('');
    expect(strictDecode(s)).toBe(reference(s));
  }), { numRuns: 2000 });
});
