// strictDecode's all-ASCII fast path must agree with the general byte-wise decoder (facts/params.ts).
import fc from 'fast-check';
import { decodeGeneral, strictDecode } from '../../../ext-authz/src/pipeline/facts/params';

/** The general algorithm on its own, for any input (the fast path only takes all-ASCII ones). */
function reference(s: string): string | null {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s; // nothing to decode: returned as is
  return decodeGeneral(s);
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
