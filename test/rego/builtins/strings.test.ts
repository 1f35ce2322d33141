// strings builtins (incl. sprintf's Go verbs and render_template); vectors from builtins_strings and
// OPA's strings/sprintf/trim/replacen cases.
import { defaultRegistry } from '../../../ext-authz/src/rego/builtins/index';
import type { Value } from '../../../ext-authz/src/rego/value';
import { call, errorOf, json, set } from './harness';

describe('strings', () => {
  test.each<[string, Value[], unknown]>([
    ['concat', [',', ['a', 'b', 'c']], 'a,b,c'],
    ['concat', [',', []], ''],
    ['concat', ['-', set('b', 'a', 'c')], 'a-b-c'],
    ['concat', [', ', ['x', 'y']], 'x, y'],
    ['contains', ['abcdef', 'xyz'], false],
    ['contains', ['abc', ''], true],
    ['contains', ['', 'a'], false],
    ['startswith', ['/api/v1', '/api'], true],
    ['startswith', ['/api/v1', 'api'], false],
    ['startswith', ['x', ''], true],
    ['endswith', ['file.json', '.yaml'], false],
    ['lower', ['HeLLo'], 'hello'],
    ['lower', ['ÄÖÜ ÉCOLE'], 'äöü école'],
    ['lower', ['ΟΔΟΣ'], 'οδοσ'],
    ['upper', ['straße'], 'STRAßE'],
    ['split', ['a,b,c', ','], ['a', 'b', 'c']],
    ['split', ['a,,b,', ','], ['a', '', 'b', '']],
    ['split', ['abc', ''], ['a', 'b', 'c']],
    ['split', ['', ','], ['']],
    ['split', ['a::b::c', '::'], ['a', 'b', 'c']],
    ['split', ['hé☃', ''], ['h', 'é', '☃']],
    ['strings.split_n', ['a.b.c.d', '.', 2], ['a', 'b']],
    ['strings.split_n', ['a.b.c.d', '.', -2], ['c', 'd']],
    ['strings.split_n', ['a.b.c.d', '.', 0], []],
    ['replace', ['abc', '', '-'], '-a-b-c-'],
    ['replace', ['a-b-c', '-', ''], 'abc'],
    ['strings.replace_n', [{}, 'abc'], 'abc'],
    ['strings.replace_n', [{ ab: 'X', a: 'Y' }, 'aab'], 'YYb'],
    ['strings.replace_n', [{ a: 'b', b: 'c' }, 'ab'], 'bc'],
    ['strings.replace_n', [{ '': '-', a: 'X' }, 'ab'], '-X-b-'],
    ['substring', ['hello', 1, 3], 'ell'],
    ['substring', ['hello', 1, -1], 'ello'],
    ['substring', ['hello', 5, 2], ''],
    ['substring', ['hello', 10, 2], ''],
    ['substring', ['hello', 1, 0], ''],
    ['substring', ['héllo☃', 1, 3], 'éll'],
    ['substring', ['héllo☃', 5, 1], '☃'],
    ['trim', ['xxhixx', 'x'], 'hi'],
    ['trim', ['abcHIcba', 'abc'], 'HI'],
    ['trim', ['  x  ', ''], '  x  '],
    ['trim_left', ['aabcaa', 'a'], 'bcaa'],
    ['trim_right', ['aabcaa', 'a'], 'aabc'],
    ['trim_prefix', ['foobarfoo', 'foo'], 'barfoo'],
    ['trim_suffix', ['foobarbar', 'bar'], 'foobar'],
    ['trim_suffix', ['foo', 'bar'], 'foo'],
    ['trim_space', [' \t\n hi there \r\n'], 'hi there'],
    ['trim_space', ['\u00a0x\u2003'], 'x'],
    ['trim_space', ['\ufeffx'], '\ufeffx'],
    ['indexof', ['abcabc', 'ca'], 2],
    ['indexof', ['abc', 'z'], -1],
    ['indexof', ['é☃x', 'x'], 2],
    ['indexof_n', ['hello', 'l'], [2, 3]],
    ['indexof_n', ['hello', 'z'], []],
    ['indexof_n', ['aaaa', 'aa'], [0, 1, 2]],
    ['indexof_n', ['é-é-é', 'é'], [0, 2, 4]],
    ['format_int', [5, 2], '101'],
    ['format_int', [-255, 16], '-ff'],
    ['format_int', [3.9, 10], '3'],
    ['format_int', [-3.9, 10], '-3'],
    ['format_int', [8, 8], '10'],
    ['strings.reverse', ['hé☃'], '☃éh'],
    ['strings.reverse', [''], ''],
    ['strings.count', ['cheese', 'e'], 3],
    ['strings.count', ['five', ''], 5],
    ['strings.any_prefix_match', ['foobar', ['x', 'foo']], true],
    ['strings.any_prefix_match', ['foobar', ['bar']], false],
    ['strings.any_prefix_match', ['foobar', set('fo')], true],
    ['strings.any_prefix_match', ['foobar', 'foo'], true],
    ['strings.any_prefix_match', [['x', 'foobar'], ['foo']], true],
    ['strings.any_suffix_match', ['file.txt', set('.zip', '.gz')], false],
    ['strings.any_suffix_match', [set('a.gz', 'b.txt'), '.txt'], true],
    ['cast_string', ['s'], 's'],
  ])('%s(%j) = %j', (name, args, want) => {
    expect(json(name, ...args)).toEqual(want);
  });

  test.each<[string, Value[], string, 'type' | 'builtin']>([
    ['concat', [',', 'ab'], 'concat: operand 2 must be one of {set, array} but got string', 'type'],
    ['concat', [',', ['a', 1]], 'concat: operand 2 must be array of strings but got array containing number', 'type'],
    ['substring', ['hello', -1, 2], 'substring: negative offset', 'builtin'],
    ['substring', [12, 0, 1], 'substring: operand 1 must be string but got number', 'type'],
    ['substring', ['hello', 1.5, 1], 'substring: operand 2 must be integer number but got floating-point number', 'type'],
    ['format_int', [5, 3], 'format_int: operand 2 must be one of {2, 8, 10, 16}', 'type'],
    ['format_int', ['5', 10], 'format_int: operand 1 must be number but got string', 'type'],
    ['strings.replace_n', [{ a: 1 }, 'abc'], 'strings.replace_n: operand 1 non-string value found in pattern object', 'type'],
    ['strings.replace_n', [{ a: 'b' }, 1], 'strings.replace_n: operand 2 must be string but got number', 'type'],
    ['indexof', ['hello', ''], 'indexof: empty search character', 'builtin'],
    ['indexof', [1, 'a'], 'indexof: operand 1 must be string but got number', 'type'],
    ['lower', [null], 'lower: operand 1 must be string but got null', 'type'],
    ['contains', [{ a: 1 }, 'a'], 'contains: operand 1 must be string but got object', 'type'],
    ['strings.any_prefix_match', [1, ['a']], 'strings.any_prefix_match: operand 1 must be one of {string, set, array} but got number', 'type'],
    ['strings.any_suffix_match', ['a', [1]], 'strings.any_suffix_match: operand 2 must be array of strings but got array containing number', 'type'],
    ['strings.reverse', [1], 'strings.reverse: operand 1 must be string but got number', 'type'],
    ['sprintf', ['%s', 'x'], 'sprintf: operand 2 must be array but got string', 'type'],
  ])('%s(%j) fails', (name, args, message, kind) => {
    const e = errorOf(name, ...args);
    expect(e.message).toBe(message);
    expect(e.kind).toBe(kind);
  });

  test('cast_string is deprecated', () => {
    expect(defaultRegistry.get('cast_string')!.deprecated).toBe(true);
  });
});

describe('sprintf', () => {
  test.each<[string, Value[], string]>([
    ['%v|%v|%v|%v|%v', ['s', 1, 1.5, true, null], 's|1|1.5|true|null'],
    ['%v', [[1, 'a']], '[1, "a"]'],
    ['%v', [{ b: 1, a: [2] }], '{"a": [2], "b": 1}'],
    ['%v', [set(3, 1, 2)], '{1, 2, 3}'],
    ['%v', [set()], 'set()'],
    ['%d items', [42], '42 items'],
    ['%d', [1.5], '%!d(float64=1.5)'],
    ['%s', [12], '%!s(int=12)'],
    ['%s', [['a', 'b']], '["a", "b"]'],
    ['%s', [{ a: 'b' }], '{"a": "b"}'],
    ['%s %s', [null, false], 'null false'],
    ['%q', ['a"b'], '"a\\"b"'],
    ['%q', ['é\n\u0001'], '"é\\n\\x01"'],
    ['%x', ['hi'], '6869'],
    ['%x', [255], 'ff'],
    ['%X', [255], 'FF'],
    ['%#x %o %b %c %U', [255, 8, 5, 65, 9731], '0xff 10 101 A U+2603'],
    ['%.1f', [2], '%!f(int=2)'],
    ['%t', [true], '%!t(string=true)'],
    ['[%5s][%-5s][%05d]', ['ab', 'cd', 42], '[   ab][cd   ][00042]'],
    ['%+d %08.3f %-6d|', [5, -3.14159, 42], '+5 -003.142 42    |'],
    ['100%%', [], '100%'],
    ['%s and %s', ['a'], 'a and %!s(MISSING)'],
    ['%d', [1, 2], '1%!(EXTRA int=2)'],
    ['plain', [], 'plain'],
    ['%e', [1234.5678], '1.234568e+03'],
    ['%g', [0.000001234], '1.234e-06'],
    ['%g %g %.3g', [100000.5, 123456789.5, 1234.5678], '100000.5 1.234567895e+08 1.23e+03'],
    ['%v', [1 / 3], '0.3333333333333333'],
    ['%v', [-0.5], '-0.5'],
    ['%v %v', [1e21, 1e-7], '1e+21 1e-07'],
    ['%.2f %.0f %.0f %.1f', [3.14159, 0.5, 2.5, 0.05], '3.14 0 2 0.1'],
    ['%.2s', ['abcdef'], 'ab'],
    ['%[2]s %[1]s %T %T', ['a', 'b', 1, 1.5], 'b a string int'],
    ['%[3]s', ['a'], '%!s(BADINDEX)'],
  ])('sprintf(%j, %j)', (format, args, want) => {
    expect(call('sprintf', format, args)).toBe(want);
  });
});

describe('strings.render_template', () => {
  test.each<[string, Value, string]>([
    ['hi {{.name}}!', { name: 'bob' }, 'hi bob!'],
    ['{{ .a.b }}-{{.n}}', { a: { b: 'x' }, n: 3 }, 'x-3'],
    ['{{if .ok}}yes{{else}}no{{end}}', { ok: false }, 'no'],
    ['{{range .xs}}[{{.}}]{{end}}', { xs: ['a', 'b'] }, '[a][b]'],
    ['a  {{- .x -}}  b', { x: 1 }, 'a1b'],
  ])('%j', (tmpl, vars, want) => {
    expect(call('strings.render_template', tmpl, vars)).toBe(want);
  });

  test('a missing key is an error with Go text/template wording', () => {
    expect(errorOf('strings.render_template', '{{.missing}}', {}).message).toBe(
      'strings.render_template: template: template:1:2: executing "template" at <.missing>: map has no entry for key "missing"',
    );
  });
});
