// The one header collector every adapter uses: lower-cased names, repeats joined with "," and named
// once in duplicates (docs/threat-model.md T-H2), no prototype tricks.
import { addHeader, emptyHeaders } from '../../ext-authz/src/check/header-collect';

test('names are lower-cased; a repeat is joined and recorded once', () => {
  const c = emptyHeaders();
  addHeader(c, 'Host', 'a.example');
  addHeader(c, 'X-Thing', '1');
  addHeader(c, 'host', 'b.example');
  addHeader(c, 'HOST', 'c.example');
  expect({ ...c.headers }).toEqual({ host: 'a.example,b.example,c.example', 'x-thing': '1' });
  expect(c.duplicates).toEqual(['host']);
});

test('a header named __proto__ or constructor is an ordinary header', () => {
  const c = emptyHeaders();
  addHeader(c, '__proto__', 'x');
  addHeader(c, 'constructor', 'y');
  expect(c.headers['__proto__']).toBe('x');
  expect(c.headers.constructor).toBe('y');
  expect(c.duplicates).toEqual([]);
});
