// Rego lexer/parser rejections: each must be a RegoError with code rego_parse_error and a location.
// Cases mirror what OPA 0.61 rejects (incl. the quirks recorded in the conformance corpus).
import { parseModule, parseQuery } from '../../ext-authz/src/rego/parser';
import { tokenize } from '../../ext-authz/src/rego/lexer';
import { RegoError } from '../../ext-authz/src/rego/errors';

const V1 = 'package t\nimport rego.v1\n';

function errorOf(f: () => unknown): RegoError {
  try {
    f();
  } catch (e) {
    if (e instanceof RegoError) return e;
    throw e;
  }
  throw new Error('expected a RegoError, parse succeeded');
}

function moduleError(src: string): RegoError {
  const e = errorOf(() => parseModule(src, 'bad.rego'));
  expect(e.code).toBe('rego_parse_error');
  expect(e.loc?.file).toBe('bad.rego');
  return e;
}

describe('lexer', () => {
  it('tokenizes with positions and adjacency flags', () => {
    const toks = tokenize('a.b  :=\n "x" # c\n`r`', 'f');
    expect(toks.map((t) => [t.kind, t.text, t.loc.row, t.loc.col, t.space, t.nl])).toEqual([
      ['ident', 'a', 1, 1, false, false],
      ['punct', '.', 1, 2, false, false],
      ['ident', 'b', 1, 3, false, false],
      ['punct', ':=', 1, 6, true, false],
      ['string', 'x', 2, 2, true, true],
      ['rawstring', 'r', 3, 1, true, true],
      ['eof', '', 3, 4, false, false],
    ]);
  });

  it.each([
    ['illegal character', 'p := $', 1, 6],
    ['lone !', 'p := !x', 1, 6],
    ['unterminated string', 'p := "abc', 1, 6],
    ['newline in string', 'p := "a\nb"', 1, 6],
    ['bad escape', String.raw`p := "a\qb"`, 1, 8],
    ['short \\u escape', String.raw`p := "\u12"`, 1, 7],
    ['unterminated raw string', 'p := `abc', 1, 6],
    ['exponent without digits', 'p := 1e+', 1, 7],
    ['double leading zero', 'p := 007', 1, 6],
  ])('rejects %s', (_what, src, row, col) => {
    const e = errorOf(() => tokenize(src, 'f'));
    expect(e.code).toBe('rego_parse_error');
    expect(e.loc).toEqual({ file: 'f', row, col });
  });
});

describe('module structure', () => {
  it.each([
    ['a missing package', 'p := 1'],
    ['a second package', 'package a\npackage b'],
    ['a keyword in the package path', 'package a.default'],
    ['an import of something other than data/input/future/rego', `${V1}import foo.bar`],
    ['an unknown future keyword', 'package t\nimport future.keywords.foo'],
    ['an unknown rego version', 'package t\nimport rego.v9'],
    ['an aliased rego.v1', 'package t\nimport rego.v1 as v'],
  ])('rejects %s', (_what, src) => {
    moduleError(src);
  });
});

describe('rule heads', () => {
  it.each([
    ['an array as rule name', `${V1}[h, _] := [1, 2]`],
    ['a bare name', `${V1}p`],
    ['contains on a function', `${V1}f(x) contains 1 if true`],
    ['with in a rule head', `${V1}p := input.x with input.x as 1`],
    ['with in an else value', `${V1}p := 1 if false else := input.x with input.x as 1`],
    ['else on a multi-value rule', `${V1}p contains 1 if {\n  false\n} else := 2`],
    ['else on a rule with a var in its ref', `${V1}p[k] := 1 if { k := "a" } else := 2`],
    ['a default value with a ref', `${V1}default p := input.x`],
    ['a default value with a var', `${V1}default p := [x]`],
    ['a default value with a call', `${V1}default p := count([])`],
    ['a default value with a comprehension', `${V1}default p := [1 | true]`],
    ['a default rule with a body', `${V1}default p := 1 if true`],
    ['a default rule without a value', `${V1}default p`],
    ['a body without `if` under rego.v1', `${V1}p {\n  true\n}`],
    ['a v0 partial set under rego.v1', `${V1}p["a"] {\n  true\n}`],
    ['an else body without `if` under rego.v1', `${V1}p := 1 if false else := 2 { true }`],
    ['several v0 bodies', 'package t\np { false } { true }'],
    ['`if` with nothing after it', `${V1}p if`],
    ['a keyword as rule name', `${V1}in := 1`],
  ])('rejects %s', (_what, src) => {
    moduleError(src);
  });

  it('reports the position of the offending token', () => {
    expect(moduleError(`${V1}\np := [1, 2`).loc).toMatchObject({ row: 4, col: 11 });
    expect(moduleError(`${V1}x := data.hours.default`).loc).toMatchObject({ row: 3, col: 17 });
  });
});

describe('bodies and terms', () => {
  it.each([
    ['a missing closing brace', `${V1}p if {\n\ttrue\n`],
    ['a dangling operator', `${V1}p := 1 +\n`],
    ['two literals on one line', `${V1}p if { x := 1 y := 2 }`],
    ['every without in', `${V1}p if every x { x }`],
    ['every with a non-var value', `${V1}p if every [a] in [[1]] { a }`],
    ['every without a body', `${V1}p if every x in [1]`],
    ['not every', `${V1}p if { not every x in [1] { x } }`],
    ['some with a non-var', `${V1}p if { some 1 }`],
    ['an unparenthesized arithmetic array comprehension head', `${V1}p := [x * 2 | some x in [1, 2, 3]]`],
    ['an unparenthesized arithmetic set comprehension head', `${V1}p := {x + 1 | some x in [1]}`],
    ['an arithmetic object comprehension value', `${V1}p := {k: v + 1 | some k, v in {"a": 1}}`],
    ['an empty comprehension body', `${V1}p := [x | ]`],
    ['`default` after a dot', `${V1}x := data.hours.default`],
    ['an object item without colon', `${V1}p := {"a" 1}`],
    ['an unclosed array', `${V1}p := [1, 2`],
    ['an if-then-else expression', `${V1}p := {"s": 200 if true else 403}`],
    ['a call on a call', `${V1}p := f(1)(2)`],
    ['a ref on a number', `${V1}p := 1.x`],
    ['a chained assignment', `${V1}p if { a = b = c }`],
    ['an unclosed parenthesis', `${V1}p := (1 + 2`],
    ['a with target that is not a path', `${V1}p if { true with 1 as 2 }`],
    ['with without as', `${V1}p if { true with input }`],
  ])('rejects %s', (_what, src) => {
    moduleError(src);
  });

  it('rejects an empty query and trailing garbage in a query', () => {
    expect(errorOf(() => parseQuery('')).code).toBe('rego_parse_error');
    expect(errorOf(() => parseQuery('x ]')).code).toBe('rego_parse_error');
  });

  it('turns absurd nesting into a parse error, not a stack overflow', () => {
    const deep = '['.repeat(50000) + ']'.repeat(50000);
    expect(moduleError(`${V1}p := ${deep}`).message).toMatch(/nested too deeply/);
  });

  it('parses deep nesting in linear time (regression: comprehension retry was exponential)', () => {
    const n = 300;
    const m = parseModule(`${V1}a := ${'['.repeat(n)}${']'.repeat(n)}\ns := ${'{'.repeat(n)}1${'}'.repeat(n)}\n`, 'deep.rego');
    expect(m.rules).toHaveLength(2);
  });
});
