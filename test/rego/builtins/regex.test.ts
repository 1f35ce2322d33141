// regex builtins and the RE2 -> JavaScript translation; vectors from builtins_regex_glob and OPA's
// regexmatch/regexfind/regexsplit/regexreplace cases, plus RE2 syntax edge cases.
import { defaultRegistry } from '../../../ext-authz/src/rego/builtins/index';
import type { Value } from '../../../ext-authz/src/rego/value';
import { call, errorOf, json } from './harness';

describe('regex.match (RE2 syntax)', () => {
  test.each<[string, string, boolean]>([
    ['^a.c$', 'abc', true],
    ['b', 'abc', true],
    ['^\\d{3}-\\d{4}$', '555-1234', true],
    ['^\\w+@\\w+\\.com$', 'a@b.com', true],
    ['(?i)^hello$', 'HeLLo', true],
    ['', 'anything', true],
    ['^.{3}$', 'é☃x', true],
    ['^(GET|HEAD)$', 'HEAD', true],
    ['(?m)^b$', 'a\nb\nc', true],
    ['^b$', 'a\nb\nc', false],
    ['(?i)abc(?-i)D', 'ABCD', true],
    ['(?i)abc(?-i)D', 'ABCd', false],
    ['a(?i:b)c', 'aBc', true],
    ['a(?i:b)c', 'aBC', false],
    ['^[[:alpha:]]+$', 'abcXYZ', true],
    ['^[[:^digit:]]+$', 'abc1', false],
    ['\\Aab\\z', 'ab', true],
    ['^\\pL+$', 'héllo', true],
    ['^\\p{Greek}+$', 'αβγ', true],
    ['(?P<year>\\d{4})', '2024', true],
    ['[]a]+$', ']a', true],
    ['\\.\\-\\@', 'x.-@', true],
    ['^.$', '\n', false],
    ['(?s)^.$', '\n', true],
    ['^\\s$', '\u00a0', false],
    ['a{,3}', 'a{,3}', true],
    ['a{2}b}', 'aab}', true],
    ['^\\x41\\x{263a}$', 'A☺', true],
    ['^*a', 'a', true],
    ['\\Qa.b\\E+', 'a.bb', true],
  ])('regex.match(%j, %j) = %j', (re, s, want) => {
    expect(call('regex.match', re, s)).toBe(want);
    expect(call('re_match', re, s)).toBe(want);
  });

  test.each<[string, string]>([
    ['[a-', 'missing closing ]: `[a-`'],
    ['((', 'missing closing ): `((`'],
    ['*', 'missing argument to repetition operator: `*`'],
    ['a(?<', 'invalid or unsupported Perl syntax: `(?<`'],
    ['a(?=b)', 'invalid or unsupported Perl syntax: `(?=`'],
    ['a**', 'invalid nested repetition operator: `**`'],
    ['x{1001}', 'invalid repeat count: `{1001}`'],
    ['\\1', 'invalid escape sequence: `\\1`'],
    ['[z-a]', 'invalid character class range: `z-a`'],
    ['a)', 'unexpected ): `a)`'],
    ['[[:foo:]]', 'invalid character class range: `[:foo:]`'],
  ])('invalid pattern %j', (re, msg) => {
    expect(errorOf('regex.match', re, 'x').message).toBe(`regex.match: error parsing regexp: ${msg}`);
    expect(call('regex.is_valid', re)).toBe(false);
  });

  test('regex.is_valid is false for non-strings', () => {
    expect(call('regex.is_valid', 5)).toBe(false);
    expect(call('regex.is_valid', '^[a-z]+$')).toBe(true);
  });

  test('re_match is deprecated', () => {
    expect(defaultRegistry.get('re_match')!.deprecated).toBe(true);
  });
});

describe('regex find/split/replace', () => {
  test.each<[string, Value[], unknown]>([
    ['regex.find_n', ['[0-9]+', 'a1b22c333', -1], ['1', '22', '333']],
    ['regex.find_n', ['[0-9]+', 'a1b22c333', 2], ['1', '22']],
    ['regex.find_n', ['[0-9]+', 'a1b22c333', 0], []],
    ['regex.find_n', ['a*', 'baaac', -1], ['', 'aaa', '']],
    ['regex.find_n', ['(?U)a+', 'aaa', -1], ['a', 'a', 'a']],
    ['regex.find_all_string_submatch_n', ['(\\w+)=(\\w+)', 'a=1 b=2 c', -1], [['a=1', 'a', '1'], ['b=2', 'b', '2']]],
    ['regex.find_all_string_submatch_n', ['(\\w)(\\d)', 'a1 b2 c3', 1], [['a1', 'a', '1']]],
    ['regex.find_all_string_submatch_n', ['z(\\d)', 'abc', -1], []],
    ['regex.find_all_string_submatch_n', ['a(x)?', 'a', -1], [['a', '']]],
    ['regex.split', [',\\s*', 'a, b,c,  d'], ['a', 'b', 'c', 'd']],
    ['regex.split', ['x', 'abc'], ['abc']],
    ['regex.split', [',', ''], ['']],
    ['regex.split', ['/', '/a/b/'], ['', 'a', 'b', '']],
    ['regex.split', ['', 'abc'], ['a', 'b', 'c']],
    ['regex.replace', ['abc123def', '[0-9]+', '#'], 'abc#def'],
    ['regex.replace', ['john smith', '(\\w+) (\\w+)', '$2, $1'], 'smith, john'],
    ['regex.replace', ['abc', 'x', 'y'], 'abc'],
    ['regex.replace', ['ab', '(a)', '$1x'], 'b'],
    ['regex.replace', ['ab', '(a)', '${1}x$$'], 'ax$b'],
    ['regex.replace', ['2024-05', '(?P<year>\\d{4})-(?P<m>\\d\\d)', '${m}/$year'], '05/2024'],
    ['regex.replace', ['abc', 'x*', '-'], '-a-b-c-'],
  ])('%s(%j) = %j', (name, args, want) => {
    expect(json(name, ...args)).toEqual(want);
  });

  test('pattern errors name the builtin', () => {
    expect(errorOf('regex.find_n', '((', 'abc', -1).message).toBe('regex.find_n: error parsing regexp: missing closing ): `((`');
    expect(errorOf('regex.split', '*', 'abc').message).toBe(
      'regex.split: error parsing regexp: missing argument to repetition operator: `*`',
    );
    expect(errorOf('regex.match', 'a', 1).kind).toBe('type');
  });
});

describe('regex.globs_match / regex.template_match', () => {
  test.each<[string, string, boolean]>([
    ['a[0-9]', 'b[0-9]', false],
    ['a.a.', 'a*b', true],
    ['[a-c]+', 'b*', true],
    ['a.*', 'ab', true],
    ['a+', 'b+', false],
    ['\\.', '.', true],
  ])('globs_match(%j, %j) = %j', (a, b, want) => {
    expect(call('regex.globs_match', a, b)).toBe(want);
  });

  test.each<[string, string, boolean]>([
    ['urn:foo:{.*}', 'urn:foo:bar:baz', true],
    ['urn:foo:{[0-9]+}', 'urn:foo:bar', false],
    ['urn:foo:{[0-9]+}:x', 'urn:foo:123:x', true],
  ])('template_match(%j, %j) = %j', (t, v, want) => {
    expect(call('regex.template_match', t, v, '{', '}')).toBe(want);
  });

  test('unbalanced template braces', () => {
    expect(errorOf('regex.template_match', 'urn:{.*', 'urn:x', '{', '}').message).toBe(
      'regex.template_match: unbalanced braces in "urn:{.*"',
    );
  });
});
