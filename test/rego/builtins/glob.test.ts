// glob builtins: delimiter rules ([] = ".", null = none), wildcards, classes, alternatives, quoting;
// vectors from builtins_regex_glob and OPA's globmatch/globquotemeta cases.
import type { Value } from '../../../ext-authz/src/rego/value';
import { call, errorOf } from './harness';

describe('glob.match', () => {
  test.each<[string, Value, string, boolean]>([
    ['*.github.com', ['.'], 'api.github.com', true],
    ['*.github.com', ['.'], 'a.b.github.com', false],
    ['**.github.com', ['.'], 'a.b.github.com', true],
    ['*', [], 'a.b', false],
    ['*', null, 'a.b', true],
    ['/api/*/users', ['/'], '/api/v1/users', true],
    ['v?', [], 'v10', false],
    ['v?', [], 'v1', true],
    ['[abc]x', [], 'bx', true],
    ['[!abc]x', [], 'bx', false],
    ['[a-c]x', [], 'cx', true],
    ['{api,www}.example.com', ['.'], 'www.example.com', true],
    ['{api,www}.example.com', ['.'], 'cdn.example.com', false],
    ['abc', [], 'abc', true],
    ['ABC', [], 'abc', false],
    ['*:*', [':', '.'], 'a:b', true],
    ['*:*', [':', '.'], 'a.x:b', false],
    ['a\\*b', [], 'a*b', true],
    ['a\\*b', [], 'axb', false],
    ['', [], '', true],
    ['a*', ['.'], 'a', true],
    ['api.*.internal', ['.'], 'api.eu.internal', true],
  ])('glob.match(%j, %j, %j) = %j', (pattern, delims, s, want) => {
    expect(call('glob.match', pattern, delims, s)).toBe(want);
  });

  test('errors', () => {
    expect(errorOf('glob.match', '[a', [], 'a').message).toBe('glob.match: unexpected end of input');
    const e = errorOf('glob.match', '*', [1], 'a');
    expect(e.message).toBe('glob.match: operand 2 must be array of strings but got array containing number');
    expect(e.kind).toBe('type');
  });
});

describe('glob.quote_meta', () => {
  test('escapes glob metacharacters', () => {
    expect(call('glob.quote_meta', '*.foo[1]?')).toBe('\\*.foo\\[1\\]\\?');
    expect(call('glob.quote_meta', '{a,b}\\')).toBe('\\{a,b\\}\\\\');
  });
  test('round trip', () => {
    expect(call('glob.match', call('glob.quote_meta', 'a*b')!, [], 'a*b')).toBe(true);
  });
});
