// Compiler + interpreter through the public API (rego/engine.ts): evaluation semantics, `with`, errors
// with their codes, strict builtin errors, budgets, zero-copy input, tests listing.
import { compilePolicy, RegoError, toJSON, type EvalResult, type Value } from '../../ext-authz/src/rego/engine';

function policy(text: string, data?: unknown) {
  return compilePolicy([{ file: 'p.rego', text: `package t\nimport rego.v1\n${text}\n` }], { data });
}

function value(text: string, query: string, input?: unknown, data?: unknown): unknown {
  const r = policy(text, data).prepare(query).evaluate(input);
  return r.defined ? toJSON(r.value) : 'UNDEFINED';
}

function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof RegoError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('rules', () => {
  test('complete, default and else', () => {
    const src = `
default p := "none"
p := "admin" if input.role == "admin"
q := 1 if input.a else := 2 if input.b else := 3`;
    expect(value(src, 'data.t.p', { role: 'admin' })).toBe('admin');
    expect(value(src, 'data.t.p', {})).toBe('none');
    expect(value(src, 'data.t.q', { b: true })).toBe(2);
    expect(value(src, 'data.t.q', {})).toBe(3);
  });

  test('incremental definitions, partial sets and objects', () => {
    const src = `
allow if input.a
allow if input.b
s contains x if some x in input.xs
o[k] := v if some k, v in input.m
`;
    expect(value(src, 'data.t.allow', { b: true })).toBe(true);
    expect(value(src, 'data.t.allow', {})).toBe('UNDEFINED');
    expect(value(src, 'data.t.s', { xs: [3, 1, 3] })).toEqual([1, 3]);
    expect(value(src, 'data.t.o', { m: { b: 2, a: 1 } })).toEqual({ a: 1, b: 2 });
    expect(value(src, 'data.t.s', { xs: [] })).toEqual([]);
  });

  test('rule-head refs build nested objects', () => {
    const src = `
a.b.c := 1
a.b.d := 2
by[u.team][u.name] := u.email if some u in input.users`;
    expect(value(src, 'data.t.a')).toEqual({ b: { c: 1, d: 2 } });
    const users = [{ team: 'red', name: 'x', email: 'x@' }, { team: 'blue', name: 'y', email: 'y@' }];
    expect(value(src, 'data.t.by', { users })).toEqual({ blue: { y: 'y@' }, red: { x: 'x@' } });
  });

  test('package query includes every rule and sub-package', () => {
    const p = compilePolicy([
      { file: 'a.rego', text: 'package t\nimport rego.v1\np := 1\nf(x) := x\n' },
      { file: 'b.rego', text: 'package t.sub\nimport rego.v1\nv := 2\n' },
    ]);
    expect(toJSON((p.prepare('data.t').evaluate() as { value: Value }).value)).toEqual({ p: 1, sub: { v: 2 } });
  });
});

describe('functions', () => {
  test('multiple definitions, destructuring and conflicts', () => {
    const src = `
pair([a, b]) := a + b
sign(x) := "neg" if x < 0
sign(x) := "pos" if x > 0
bad(x) := y if some y in x
p := [pair([40, 2]), sign(-1), sign(1)]
q := bad([1, 2])`;
    expect(value(src, 'data.t.p')).toEqual([42, 'neg', 'pos']);
    expect(errorCode(() => policy(src).prepare('data.t.q').evaluate())).toBe('eval_conflict_error');
  });

  test('output-argument form', () => {
    expect(value('double(x) := x * 2\np if double(2, 4)', 'data.t.p')).toBe(true);
  });
});

describe('iteration, unification, negation', () => {
  test('some/every/in and refs with variables', () => {
    const src = `
names contains n if { some i; input.flags[i]; n := input.names[i] }
all_pos if every x in input.xs { x > 0 }
has := "b" in input.names
idx := 1, "b" in input.names
keys contains k if input.m[k]`;
    const input = { names: ['a', 'b'], flags: [false, true], xs: [1, 2], m: { x: true, y: false } };
    expect(value(src, 'data.t.names', input)).toEqual(['b']);
    expect(value(src, 'data.t.all_pos', input)).toBe(true);
    expect(value(src, 'data.t.has', input)).toBe(true);
    expect(value(src, 'data.t.idx', input)).toBe(true);
    expect(value(src, 'data.t.keys', input)).toEqual(['x']);
  });

  test('destructuring unification both ways', () => {
    expect(value('p := [b, a] if [a, b] = [1, 2]', 'data.t.p')).toEqual([2, 1]);
    expect(value('p := x if { [1, x] = [y, 5]; y == 1 }', 'data.t.p')).toBe(5);
    expect(value('p := n if {"name": n} := {"name": "z"}', 'data.t.p')).toBe('z');
  });

  test('not and undefined propagation', () => {
    const src = 'p if not input.deny\nq if not input.x == 1';
    expect(value(src, 'data.t.p', {})).toBe(true);
    expect(value(src, 'data.t.p', { deny: true })).toBe('UNDEFINED');
    expect(value(src, 'data.t.q')).toBe(true);
  });

  test('comprehensions', () => {
    const src = `
a := [(x * 2) | some x in [1, 2, 3]]
s := {x | some x in [1, 1, 2]}
o := {k: v | some k, v in {"a": 1}}`;
    expect(value(src, 'data.t.a')).toEqual([2, 4, 6]);
    expect(value(src, 'data.t.s')).toEqual([1, 2]);
    expect(value(src, 'data.t.o')).toEqual({ a: 1 });
  });
});

describe('with', () => {
  test('input, data, functions and builtins', () => {
    const src = `
q := input.k
lim := 10
real(x) := x + 1
fake(x) := x - 1
p1 := y if y := q with input as {"k": 1}
p2 if input.n < lim with lim as 100
p3 := y if y := real(10) with real as fake
p4 := y if y := count([1, 2]) with count as 7
p5 := y if y := data.cfg.v with data.cfg.v as "mocked"`;
    expect(value(src, 'data.t.p1')).toBe(1);
    expect(value(src, 'data.t.p2', { n: 50 })).toBe(true);
    expect(value(src, 'data.t.p3')).toBe(9);
    expect(value(src, 'data.t.p4')).toBe(7);
    expect(value(src, 'data.t.p5', undefined, { cfg: { v: 'base' } })).toBe('mocked');
  });
});

describe('compile errors carry OPA codes', () => {
  test.each([
    ['p contains x if { true }', 'rego_unsafe_var_error'],
    ['p if { x > 1 }', 'rego_unsafe_var_error'],
    ['p := q\nq := p', 'rego_recursion_error'],
    ['p := count(1)', 'rego_type_error'],
    ['p := concat(",")', 'rego_type_error'],
    ['p := foo.bar(1)', 'rego_type_error'],
    ['q := {"a": 1}\np := q.b', 'rego_type_error'],
    ['p if { x := 1; x := 2 }', 'rego_compile_error'],
    ['p if { some y; true }', 'rego_compile_error'],
    ['default p := 1\ndefault p := 2', 'rego_type_error'],
    ['p := any([true])', 'rego_type_error'],
  ])('%s', (src, code) => {
    expect(errorCode(() => policy(src))).toBe(code);
  });

  test('errors carry a file location', () => {
    try {
      policy('p if { x > 1 }');
      throw new Error('expected an error');
    } catch (e) {
      expect((e as RegoError).loc?.file).toBe('p.rego');
      expect((e as RegoError).loc?.row).toBe(3);
    }
  });

  test('query refs into constant values are type errors', () => {
    expect(errorCode(() => policy('p := {"a": 1}').prepare('data.t.p.b'))).toBe('rego_type_error');
  });
});

describe('evaluation errors and modes', () => {
  test('complete rule conflict', () => {
    expect(errorCode(() => policy('p := x if some x in [1, 2]').prepare('data.t.p').evaluate())).toBe('eval_conflict_error');
  });

  test('builtin errors: undefined by default, coded when strict', () => {
    const q = policy('p := to_number(input.v)').prepare('data.t.p');
    expect(q.evaluate({ v: 'x' }).defined).toBe(false);
    expect(errorCode(() => q.evaluate({ v: 'x' }, { strict: true }))).toBe('eval_builtin_error');
    const strictPolicy = compilePolicy([{ file: 'a.rego', text: 'package t\np := lower(input.v)\n' }], { strictBuiltinErrors: true });
    expect(errorCode(() => strictPolicy.prepare('data.t.p').evaluate({ v: 1 }))).toBe('eval_type_error');
  });

  test('step budget ends runaway evaluations', () => {
    const q = policy('p := count([x | some x in numbers.range(1, 100000)])').prepare('data.t.p');
    expect(errorCode(() => q.evaluate(undefined, { maxSteps: 1000 }))).toBe('eval_budget_exceeded');
    expect(q.evaluate(undefined, {}).defined).toBe(true);
  });

  test('time.now_ns is fixed within one evaluation', () => {
    const q = policy('p := [time.now_ns(), time.now_ns()]').prepare('data.t.p');
    const r = q.evaluate(undefined, { nowNs: 1234n }) as { value: Value };
    expect(toJSON(r.value)).toEqual([1234, 1234]);
    const live = q.evaluate() as { value: number[] };
    expect(live.value[0]).toBe(live.value[1]);
  });

  test('print goes to the sink', () => {
    const lines: string[] = [];
    policy('p if { print("x is", input.x, input.missing) }').prepare('data.t.p').evaluate({ x: [1] }, { print: (s) => lines.push(s) });
    expect(lines).toEqual(['x is [1] <undefined>']);
  });
});

describe('public API', () => {
  test('input is used as is (not copied)', () => {
    const input = { user: { name: 'a', roles: ['x'] } };
    const r = policy('p := input.user').prepare('data.t.p').evaluate(input) as EvalResult & { value: Value };
    expect(r.value).toBe(input.user);
  });

  test('object keys named like Object.prototype members stay plain data', () => {
    const v = value('p := {"__proto__": input.x, "constructor": input.x}\nq := p.constructor', 'data.t.p', { x: 2 }) as object;
    expect(Object.keys(v).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toBe(2);
    expect(value('q := input.o.constructor', 'data.t.q', { o: { a: 1 } })).toBe('UNDEFINED');
  });

  test('undefined input differs from null input', () => {
    const q = policy('p := "none" if not input\nq := type_name(input)').prepare('data.t.q');
    expect(q.evaluate().defined).toBe(false);
    expect(q.evaluate(null)).toEqual({ defined: true, value: 'null' });
  });

  test('evaluateAll returns bindings; multi-expression queries are boolean', () => {
    const p = policy('xs := [1, 2, 3]');
    expect(p.prepare('x := data.t.xs[_]; x > 1').evaluateAll().map((b) => b.x)).toEqual([2, 3]);
    expect(p.prepare('data.t.xs[_] > 2').evaluate()).toEqual({ defined: true, value: true });
  });

  test('prepared queries are reusable and evaluations independent', () => {
    const q = policy('p := input.n * 2').prepare('data.t.p');
    for (let i = 0; i < 5; i++) expect(q.evaluate({ n: i })).toEqual({ defined: true, value: i * 2 });
  });

  test('the compiled policy holds no evaluation state: queries and nested evaluations keep their own caches', () => {
    const p = policy('d := input.n * 2\nc := count([1, 2, 3])\ne if { print("n", input.n); d > 0 }');
    const d = p.prepare('data.t.d');
    const c = p.prepare('data.t.c');
    const e = p.prepare('data.t.e');
    // A print sink that evaluates other queries of the same policy while `e` is mid-evaluation.
    const seen: unknown[] = [];
    const sink = (): void => {
      seen.push(toJSON((d.evaluate({ n: 100 }) as { value: Value }).value), toJSON((e.evaluate({ n: -1 }) as EvalResult).defined));
    };
    expect(e.evaluate({ n: 3 }, { print: sink })).toEqual({ defined: true, value: true });
    expect(seen).toEqual([200, false]);
    expect(d.evaluate({ n: 4 })).toEqual({ defined: true, value: 8 });
    expect(c.evaluate()).toEqual({ defined: true, value: 3 });
    expect(c.evaluate(undefined, { strict: true })).toEqual({ defined: true, value: 3 });
  });

  test('listTests and ruleNames', () => {
    const p = compilePolicy([
      { file: 'a.rego', text: 'package t\nimport rego.v1\np := 1\n' },
      { file: 'a_test.rego', text: 'package t_test\nimport rego.v1\ntest_p if data.t.p == 1\ntest_fail if data.t.p == 2\n' },
    ]);
    expect(p.listTests().map((t) => t.query)).toEqual(['data.t_test.test_p', 'data.t_test.test_fail']);
    expect(p.prepare('data.t_test.test_p').evaluate()).toEqual({ defined: true, value: true });
    expect(p.prepare('data.t_test.test_fail').evaluate().defined).toBe(false);
    expect(p.ruleNames('data.t.')).toEqual(['data.t.p']);
    expect(p.modules()).toEqual(['a.rego', 'a_test.rego']);
  });

  test('parse errors surface as rego_parse_error', () => {
    expect(errorCode(() => compilePolicy([{ file: 'x.rego', text: 'package t\np := {' }]))).toBe('rego_parse_error');
    expect(errorCode(() => policy('p := 1').prepare('data.t.p +'))).toBe('rego_parse_error');
  });
});
