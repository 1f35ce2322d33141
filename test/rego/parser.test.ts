// Rego parser: terms, operators and query literals (shapes of ast.ts), incl. OPA precedence.
import { parseQuery, parseTerm } from '../../ext-authz/src/rego/parser';
import { RegoError } from '../../ext-authz/src/rego/errors';
import { show, showExpr } from './parser-show';

const term = (s: string): string => show(parseTerm(s));
const query = (s: string): string[] => parseQuery(s).map(showExpr);

function parseErrorOf(f: () => unknown): RegoError {
  try {
    f();
  } catch (e) {
    if (e instanceof RegoError) return e;
    throw e;
  }
  throw new Error('expected a parse error');
}

describe('scalars', () => {
  it('parses null, booleans and numbers keeping the literal text', () => {
    expect(parseTerm('null')).toMatchObject({ type: 'null' });
    expect(parseTerm('true')).toMatchObject({ type: 'boolean', value: true });
    expect(parseTerm('false')).toMatchObject({ type: 'boolean', value: false });
    expect(parseTerm('1.0')).toMatchObject({ type: 'number', value: 1, text: '1.0' });
    expect(parseTerm('1e3')).toMatchObject({ type: 'number', value: 1000, text: '1e3' });
    expect(parseTerm('2.5E-3')).toMatchObject({ type: 'number', value: 0.0025, text: '2.5E-3' });
    expect(parseTerm('-1')).toMatchObject({ type: 'number', value: -1, text: '-1' });
    expect(parseTerm('12345678901234567890123')).toMatchObject({ text: '12345678901234567890123' });
  });

  it('decodes string escapes including surrogate pairs', () => {
    const t = parseTerm(String.raw`"q\" b\\ s\/ \b\f\n\r\t \u00e9 \ud83d\ude00"`);
    expect(t).toMatchObject({ type: 'string', raw: false, value: 'q" b\\ s/ \b\f\n\r\t é 😀' });
  });

  it('turns a lone surrogate escape into U+FFFD', () => {
    expect(parseTerm(String.raw`"\ud83d x"`)).toMatchObject({ value: '\ufffd x' });
  });

  it('keeps raw strings verbatim, across lines', () => {
    expect(parseTerm('`a\\nb\n"c"`')).toMatchObject({ type: 'string', raw: true, value: 'a\\nb\n"c"' });
  });

  it('makes every `_` its own var named "_"', () => {
    expect(parseTerm('[_, _]')).toMatchObject({ items: [{ type: 'var', name: '_' }, { type: 'var', name: '_' }] });
  });
});

describe('collections and comprehensions', () => {
  it('parses arrays, objects, sets; {} is an empty object and set() the empty set', () => {
    expect(term('[1, "a", [true]]')).toBe('[1, "a", [true]]');
    expect(term('[]')).toBe('[]');
    expect(term('[1, 2,]')).toBe('[1, 2]');
    expect(term('{}')).toBe('obj{}');
    expect(term('set()')).toBe('set{}');
    expect(term('{1, 2}')).toBe('set{1, 2}');
    expect(term('{"a": 1, [1]: {2}, x: y,}')).toBe('obj{"a": 1, [1]: set{2}, x: y}');
  });

  it('parses comprehensions with `;`- or newline-separated bodies', () => {
    expect(term('[x | some x in xs; x > 1]')).toBe('[x | some x in xs; gt(x, 1)]');
    expect(term('{x | some x in xs\n x > 1\n}')).toBe('set{x | some x in xs; gt(x, 1)}');
    expect(term('{k: v | some k, v in o}')).toBe('obj{k: v | some k, v in o}');
    expect(term('[(x * 2) | some x in xs]')).toBe('[mul(x, 2) | some x in xs]');
    expect(term('[x.y[0] | x := xs[_]]')).toBe('[ref(x; "y", 0) | assign(x, ref(xs; _))]');
  });

  it('reads `[a | b, c]` as an array with a set union when no body parses', () => {
    expect(term('[a | b, c]')).toBe('[or(a, b), c]');
    expect(term('{a | b, c}')).toBe('set{or(a, b), c}');
  });
});

describe('refs and calls', () => {
  it('parses dotted and bracketed refs into one path', () => {
    expect(parseTerm('input.a[x]["b"]')).toMatchObject({
      type: 'ref',
      head: { type: 'var', name: 'input' },
      path: [
        { type: 'string', value: 'a' },
        { type: 'var', name: 'x' },
        { type: 'string', value: 'b' },
      ],
    });
    expect(term('a.b[c]["d"][0]')).toBe('ref(a; "b", c, "d", 0)');
    expect(term('data')).toBe('data');
  });

  it('allows composite and call heads', () => {
    expect(term('[1, 2][0]')).toBe('ref([1, 2]; 0)');
    expect(term('{"a": 1}.a')).toBe('ref(obj{"a": 1}; "a")');
    expect(term('f(x).y[0]')).toBe('ref(f(x); "y", 0)');
    expect(term('[x | x := 1][0]')).toBe('ref([x | assign(x, 1)]; 0)');
  });

  it('parses calls with dotted names and any expression as argument', () => {
    expect(term('count(xs)')).toBe('count(xs)');
    expect(term('strings.replace_n({"a": "b"}, s)')).toBe('strings.replace_n(obj{"a": "b"}, s)');
    expect(term('data.lib.f(x, y + 1)')).toBe('data.lib.f(x, plus(y, 1))');
    expect(term('f()')).toBe('f()');
    expect(term('f(a, b,)')).toBe('f(a, b)');
  });

  it('requires suffixes to touch: whitespace ends a ref', () => {
    expect(query('x := a\n[y] = z')).toEqual(['assign(x, a)', 'eq([y], z)']);
    expect(parseErrorOf(() => parseTerm('a [0]')).code).toBe('rego_parse_error');
  });

  it('treats `default` and other keywords after a dot as errors, brackets work', () => {
    expect(parseErrorOf(() => parseTerm('data.hours.default')).code).toBe('rego_parse_error');
    expect(parseErrorOf(() => parseTerm('input.in')).code).toBe('rego_parse_error');
    expect(term('data.hours["default"]')).toBe('ref(data; "hours", "default")');
  });

  it('rejects refs on scalars', () => {
    expect(parseErrorOf(() => parseTerm('"abc".x')).code).toBe('rego_parse_error');
  });
});

describe('operators', () => {
  it('maps infix operators to OPA builtin names', () => {
    const ops: [string, string][] = [
      ['==', 'equal'], ['!=', 'neq'], ['<', 'lt'], ['<=', 'lte'], ['>', 'gt'], ['>=', 'gte'],
      ['+', 'plus'], ['-', 'minus'], ['*', 'mul'], ['/', 'div'], ['%', 'rem'], ['&', 'and'], ['|', 'or'],
    ];
    for (const [op, name] of ops) expect(term(`a ${op} b`)).toBe(`${name}(a, b)`);
  });

  it('follows OPA precedence: in < comparison < | < & < + - < * / %', () => {
    expect(term('1 + 2 * 3 - 4 % 2')).toBe('minus(plus(1, mul(2, 3)), rem(4, 2))');
    expect(term('a & b | c & d')).toBe('or(and(a, b), and(c, d))');
    // Comparisons bind looser than set operators in OPA (not as in C).
    expect(term('a == b | c')).toBe('equal(a, or(b, c))');
    expect(term('a | b == c & d')).toBe('equal(or(a, b), and(c, d))');
    expect(term('a + b < c * d')).toBe('lt(plus(a, b), mul(c, d))');
    expect(term('x in xs == false')).toBe('internal.member_2(x, equal(xs, false))');
    expect(term('x == y in xs')).toBe('internal.member_2(equal(x, y), xs)');
  });

  it('is left-associative', () => {
    expect(term('a - b - c')).toBe('minus(minus(a, b), c)');
    expect(term('a / b * c')).toBe('mul(div(a, b), c)');
    expect(term('a < b < c')).toBe('lt(lt(a, b), c)');
    expect(term('a in b in c')).toBe('internal.member_2(internal.member_2(a, b), c)');
  });

  it('parses unary minus: -literal is a number, -x is minus(0, x)', () => {
    expect(term('-x * 2')).toBe('mul(minus(0, x), 2)');
    expect(term('x - -1')).toBe('minus(x, -1)');
    expect(term('x -1')).toBe('minus(x, 1)');
    expect(term('[-1, -a.b]')).toBe('[-1, minus(0, ref(a; "b"))]');
  });

  it('groups with parentheses', () => {
    expect(term('(1 + 2) * 3')).toBe('mul(plus(1, 2), 3)');
    expect(term('(a, b in c)')).toBe('internal.member_3(a, b, c)');
  });

  it('parses two- and three-operand `in`; in lists the comma binds first', () => {
    expect(term('x in xs')).toBe('internal.member_2(x, xs)');
    expect(term('k, v in xs')).toBe('internal.member_3(k, v, xs)');
    expect(term('f(a, b in c)')).toBe('f(a, internal.member_2(b, c))');
    expect(term('[a, b in c]')).toBe('[a, internal.member_2(b, c)]');
    expect(term('{a, b in c}')).toBe('set{a, internal.member_2(b, c)}');
  });

  it('records the operator location on infix calls', () => {
    const t = parseTerm('a  +  b');
    expect(t).toMatchObject({ type: 'call', op: 'plus', loc: { row: 1, col: 1 }, opLoc: { row: 1, col: 4 } });
  });
});

describe('queries and literals', () => {
  it('splits literals on `;` and newlines', () => {
    expect(query('x := 1; y = x + 1')).toEqual(['assign(x, 1)', 'eq(y, plus(x, 1))']);
    expect(query('input.a == 1\n\n  data.t.p')).toEqual(['equal(ref(input; "a"), 1)', 'ref(data; "t", "p")']);
    expect(query('data.t.p')).toEqual(['ref(data; "t", "p")']);
  });

  it('rejects two literals on one line without `;`', () => {
    expect(parseErrorOf(() => parseQuery('x := 1 y := 2')).code).toBe('rego_parse_error');
  });

  it('parses `not`, `some` declarations and `some ... in`', () => {
    expect(query('not input.x')).toEqual(['not ref(input; "x")']);
    expect(query('some x, y')).toEqual(['some x, y']);
    expect(query('some x in xs')).toEqual(['some x in xs']);
    expect(query('some k, v in input.o')).toEqual(['some k, v in ref(input; "o")']);
    expect(query('some [a, _] in xs')).toEqual(['some [a, _] in xs']);
    const [e] = parseQuery('some k, v in xs');
    expect(e.expr).toMatchObject({ type: 'somein', key: { name: 'k' }, value: { name: 'v' }, collection: { name: 'xs' } });
  });

  it('parses `every` with one or two vars', () => {
    expect(query('every x in xs { x > 0 }')).toEqual(['every x in xs { gt(x, 0) }']);
    expect(query('every k, v in o {\n k != v\n v > 1\n}')).toEqual(['every k, v in o { neq(k, v); gt(v, 1) }']);
    expect(query('every x in [] { }')).toEqual(['every x in [] {  }']);
  });

  it('parses chained `with` modifiers', () => {
    expect(query('data.t.p with input as {"a": 1} with data.x.f as g with count as 3')).toEqual([
      'ref(data; "t", "p") with input as obj{"a": 1} with ref(data; "x", "f") as g with count as 3',
    ]);
    expect(query('not p with input.x as 1')).toEqual(['not p with ref(input; "x") as 1']);
  });

  it('parses := and = as the loosest operators, with `in` on either side', () => {
    expect(query('x := k, v in xs')).toEqual(['assign(x, internal.member_3(k, v, xs))']);
    expect(query('[a, b] = [1, 2]')).toEqual(['eq([a, b], [1, 2])']);
    expect(parseErrorOf(() => parseQuery('a = b = c')).code).toBe('rego_parse_error');
  });

  it('rejects `not every` and `not some`', () => {
    expect(parseErrorOf(() => parseQuery('not every x in xs { x }')).code).toBe('rego_parse_error');
    expect(parseErrorOf(() => parseQuery('not some x in xs')).code).toBe('rego_parse_error');
  });

  it('rejects `every` without `in`', () => {
    expect(parseErrorOf(() => parseQuery('every x { x }')).code).toBe('rego_parse_error');
  });

  it('gives every expression a 1-based location', () => {
    const body = parseQuery('x := 1\n  not y', 'q.rego');
    expect(body[0].loc).toEqual({ file: 'q.rego', row: 1, col: 1 });
    expect(body[1].loc).toEqual({ file: 'q.rego', row: 2, col: 3 });
    expect(body[1].expr).toMatchObject({ term: { loc: { row: 2, col: 7 } } });
  });

  it('ignores comments', () => {
    expect(query('# lead\nx := 1 # trailing\n# end')).toEqual(['assign(x, 1)']);
  });
});
