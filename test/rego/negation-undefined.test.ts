// Undefined through `not` and `else`, beyond the corpus cases (test/rego/conformance/lang_undefined.json):
// the forms of OPA's rewriting that the corpus does not reach — nested calls and composite literals,
// comprehension and `every` bodies, `with`, `==` in a query, else-chains on the general path.
import { compilePolicy, toJSON } from '../../ext-authz/src/rego/engine';

function value(rules: string, input?: unknown, query = 'data.t.p'): unknown {
  const p = compilePolicy([{ file: 'p.rego', text: `package t\nimport rego.v1\n\n${rules}\n` }]);
  const r = p.prepare(query).evaluate(input);
  return r.defined ? toJSON(r.value) : 'UNDEFINED';
}

describe('not: operands evaluated before the negation', () => {
  test('a ref operand of a ref (a lookup key) is evaluated first; the looked-up ref is not', () => {
    const rule = 'p := 1 if { not input.a[input.k] }';
    expect(value(rule, { a: { x: true } })).toBe('UNDEFINED');
    expect(value(rule, { a: { x: true }, k: 'y' })).toBe(1);
    expect(value(rule, { a: { x: true }, k: 'x' })).toBe('UNDEFINED');
  });

  test('a call nested in a lookup key is evaluated first', () => {
    const rule = 'p := 1 if { not input.m[lower(input.k)] }';
    expect(value(rule, { m: {} })).toBe('UNDEFINED');
    expect(value(rule, { m: {}, k: 'A' })).toBe(1);
  });

  test('refs inside an array side of == are evaluated first, a bare ref side is not', () => {
    expect(value('p := 1 if { not [input.a] == [1] }', {})).toBe('UNDEFINED');
    expect(value('p := 1 if { not [input.a] == [1] }', { a: 2 })).toBe(1);
    expect(value('p := 1 if { not input.a = 1 }', {})).toBe(1);
    expect(value('p := 1 if { not input.a == input.b }', {})).toBe(1);
  });

  test('an indexed composite literal is evaluated first', () => {
    expect(value('p := 1 if { not [input.a, 1][1] == 2 }', {})).toBe('UNDEFINED');
    expect(value('p := 1 if { not [input.a, 1][1] == 2 }', { a: 0 })).toBe(1);
  });

  test('in a query, == stays a call: its ref operands are evaluated first', () => {
    const p = compilePolicy([{ file: 'p.rego', text: 'package t\nimport rego.v1\nq := 1\n' }]);
    expect(p.prepare('not input.a == 1').evaluate({}).defined).toBe(false);
    expect(p.prepare('not input.a == 1').evaluate({ a: 2 }).defined).toBe(true);
    expect(p.prepare('not input.a = 1').evaluate({}).defined).toBe(true);
  });

  test('comprehension and every bodies are rewritten like rule bodies', () => {
    expect(value('p := [x | some x in [1, 2]; not startswith(input.p, "a")]', {})).toEqual([]);
    expect(value('p := [x | some x in [1, 2]; not startswith(input.p, "a")]', { p: 'b' })).toEqual([1, 2]);
    expect(value('p if { every x in [1] { x == 1; not startswith(input.p, "/") } }', {})).toBe('UNDEFINED');
    expect(value('p if { every x in [1] { x == 1; not startswith(input.p, "/") } }', { p: 'x' })).toBe(true);
  });

  test('the operands are evaluated under the expression\'s `with`', () => {
    const rule = 'p := 1 if { not startswith(input.p, "/") with input as {"p": "x"} }';
    expect(value(rule, {})).toBe(1);
    expect(value('p := 1 if { not startswith(input.p, "/") with input as {"q": "x"} }', { p: 'y' })).toBe('UNDEFINED');
  });

  test('a function that fails for its argument still makes `not` succeed once the argument is defined', () => {
    const rules = 'blocked(u) if u in data.blocked\np := true if { not blocked(input.user) }';
    const p = compilePolicy([{ file: 'p.rego', text: `package t\nimport rego.v1\n${rules}\n` }], { data: { blocked: ['eve'] } });
    const q = p.prepare('data.t.p');
    expect(q.evaluate({ user: 'bob' })).toEqual({ defined: true, value: true });
    expect(q.evaluate({ user: 'eve' }).defined).toBe(false);
    expect(q.evaluate({}).defined).toBe(false);
  });
});

describe('else: a clause whose head value is undefined gives way to the next', () => {
  test('function else-chain', () => {
    const rules = 'f(m) := m.v if { m.ok } else := "no"\np := f(input.m)';
    expect(value(rules, { m: { ok: true } })).toBe('no');
    expect(value(rules, { m: { ok: true, v: 1 } })).toBe(1);
    expect(value(rules, { m: { ok: false, v: 1 } })).toBe('no');
  });

  test('the general evaluation path (a body with `with`) falls through too', () => {
    const rule = 'p := input.v if { input.ok with input.ok as true } else := "e"';
    expect(value(rule, {})).toBe('e');
    expect(value(rule, { v: 3 })).toBe(3);
  });

  test('null is a value, not undefined', () => {
    expect(value('p := input.v if { true } else := "e"', { v: null })).toBeNull();
    expect(value('p := input.v if { true } else := "e"', { v: false })).toBe(false);
  });

  test('three clauses: each undefined head moves on', () => {
    const rule = 'p := input.a if { true } else := input.b if { true } else := "c"';
    expect(value(rule, {})).toBe('c');
    expect(value(rule, { b: 2 })).toBe(2);
    expect(value(rule, { a: 1, b: 2 })).toBe(1);
  });
});
