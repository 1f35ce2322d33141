// The strict form parser (docs/threat-model.md §7) and the RelayState / return-parameter rules (§4).
import { ambiguousNames, duplicateNames, isOpenRedirect, parseForm, relayStateViolations, strictDecode } from '../../../ext-authz/src/pipeline/facts/params';

describe('parseForm', () => {
  it('keeps every occurrence and is case-sensitive (T-Q1, T-Q5)', () => {
    const p = parseForm('state=a&state=b&State=c&%73tate=d', 20);
    expect(p.values.get('state')).toEqual(['a', 'b']);
    expect(p.values.get('State')).toEqual(['c']);
    expect(p.values.get('%73tate')).toEqual(['d']);
    expect(duplicateNames(p.values)).toEqual(['state']);
    expect(p.count).toBe(4);
  });
  it('parses literally: no array syntax, no nested split (T-Q4)', () => {
    const p = parseForm('state.x=1&state[]=2&state=A%26code%3DB', 20);
    expect(p.values.get('state')).toEqual(['A&code=B']);
    expect(p.values.get('state.x')).toEqual(['1']);
    expect(p.values.get('state[]')).toEqual(['2']);
    expect(p.values.has('code')).toBe(false);
  });
  it('treats + as space and skips empty pairs', () => {
    const p = parseForm('a=b+c&&d', 20);
    expect(p.values.get('a')).toEqual(['b c']);
    expect(p.values.get('d')).toEqual(['']);
    expect(p.count).toBe(2);
  });
  it.each(['a=%zz', 'a=%4', 'a=%C0%AF', 'a%=1', 'a=%FF'])('%s is malformed', (q) => {
    expect(parseForm(q, 20).malformed).toBe(true);
  });
  it('keeps a __proto__ name as data', () => {
    const p = parseForm('__proto__=x', 20);
    expect(p.values.get('__proto__')).toEqual(['x']);
  });
  it('bounds storage for floods but keeps counting', () => {
    const p = parseForm(Array.from({ length: 500 }, (_, i) => `p${i}=1`).join('&'), 20);
    expect(p.count).toBe(500);
    expect(p.values.size).toBeLessThanOrEqual(80);
  });
});

describe('strictDecode', () => {
  it('decodes UTF-8', () => expect(strictDecode('%C3%A9')).toBe('é'));
  it('refuses invalid UTF-8', () => expect(strictDecode('%E9')).toBeNull());
});

describe('ambiguousNames (T-C3, T-Q3)', () => {
  it('lists names in both query and body', () => {
    expect(ambiguousNames(parseForm('code=a&state=s', 20).values, parseForm('code=b', 20).values)).toEqual(['code']);
    expect(ambiguousNames(parseForm('code=a', 20).values, null)).toEqual([]);
  });
});

describe('isOpenRedirect (T-R3)', () => {
  const hosts = new Set(['auth.example.com']);
  it.each(['//evil.example', 'https:evil.example', '/\\evil.example', 'https://evil.example/x', 'javascript:alert(1)', '\t//evil', 'http://auth.example.com.evil.example/'])(
    '%s is off-site',
    (v) => {
      expect(isOpenRedirect(v, hosts)).toBe(true);
    },
  );
  it.each(['/account', '/a?b=c', 'account', 'https://auth.example.com/home'])('%s stays on site', (v) => {
    expect(isOpenRedirect(v, hosts)).toBe(false);
  });
});

describe('relayStateViolations (T-R1, T-R2)', () => {
  it.each([
    ['https://evil.example/', ['relaystate_not_opaque']],
    ['//evil.example', ['relaystate_not_opaque']],
    ['x'.repeat(81), ['relaystate_too_long']],
    ['x'.repeat(80), []],
    ['opaque-handle-123', []],
  ])('%s', (v, want) => {
    expect(relayStateViolations(v as string, 80)).toEqual(want);
  });
});
