// Rego parser: modules — package, imports, every rule-head form, bodies, else chains, defaults.
import { parseModule } from '../../ext-authz/src/rego/parser';
import type { Module, Rule } from '../../ext-authz/src/rego/ast';
import { show, showExpr } from './parser-show';

const V1 = 'package t\nimport rego.v1\n';

function mod(src: string): Module {
  return parseModule(src, 'm.rego');
}
function rules(body: string): Rule[] {
  return mod(V1 + body).rules;
}
function one(body: string): Rule {
  const rs = rules(body);
  expect(rs).toHaveLength(1);
  return rs[0];
}
/** A compact head rendering: ref, args, key, value and operator. */
function head(r: Rule): string {
  const h = r.head;
  let s = show(h.ref);
  if (h.args) s += `(${h.args.map(show).join(', ')})`;
  if (h.key) s += ` contains ${show(h.key)}`;
  if (h.value) s += ` ${h.assign ? ':=' : '='} ${show(h.value)}`;
  return s;
}
const body = (r: Rule): string[] => r.body.map(showExpr);

describe('package and imports', () => {
  it('parses dotted and bracketed package paths without the data prefix', () => {
    expect(mod('package envoy.authz').pkg).toEqual(['envoy', 'authz']);
    expect(mod('package a["b-c"].d').pkg).toEqual(['a', 'b-c', 'd']);
    expect(mod('\n# c\npackage t').pkgLoc).toEqual({ file: 'm.rego', row: 3, col: 1 });
  });

  it('parses imports with and without aliases', () => {
    const m = mod(`${V1}import data.lib.x as y\nimport input.a\nimport future.keywords.in\nimport future.keywords\n`);
    expect(m.imports.map((i) => [show(i.path), i.alias])).toEqual([
      ['ref(rego; "v1")', undefined],
      ['ref(data; "lib", "x")', 'y'],
      ['ref(input; "a")', undefined],
      ['ref(future; "keywords", "in")', undefined],
      ['ref(future; "keywords")', undefined],
    ]);
    expect(m.imports[1].loc).toEqual({ file: 'm.rego', row: 3, col: 1 });
  });

  it('accepts an empty module', () => {
    expect(mod('package t\n').rules).toEqual([]);
  });
});

describe('rule heads', () => {
  it('parses constants with := and =', () => {
    expect(head(one('p := 1'))).toBe('p := 1');
    expect(head(one('p = {"a": [1]}'))).toBe('p = obj{"a": [1]}');
    expect(one('p := 1').body).toEqual([]);
  });

  it('parses `if` rules with and without a value', () => {
    const r = one('p if {\n  input.x == 1\n  input.y\n}');
    expect(head(r)).toBe('p');
    expect(r.head.value).toBeUndefined();
    expect(body(r)).toEqual(['equal(ref(input; "x"), 1)', 'ref(input; "y")']);
    expect(head(one('p := v if { v := 2 }'))).toBe('p := v');
  });

  it('accepts `if` with a single literal and `if { }` as an empty body', () => {
    expect(body(one('p if input.x == 1'))).toEqual(['equal(ref(input; "x"), 1)']);
    expect(body(one('p if not input.x with input.x as 1'))).toEqual(['not ref(input; "x") with ref(input; "x") as 1']);
    expect(body(one('p if { }'))).toEqual([]);
    expect(body(one('p if {x: 1 | true}[_] == 1'))).toEqual(['equal(ref(obj{x: 1 | true}; _), 1)']);
  });

  it('parses multi-value `contains` rules', () => {
    const r = one('p contains x if { some x in input.xs }');
    expect(show(r.head.ref)).toBe('p');
    expect(show(r.head.key!)).toBe('x');
    expect(r.head.value).toBeUndefined();
    expect(head(one('deny contains "no" if not input.ok'))).toBe('deny contains "no"');
    expect(head(one('a.b contains 1'))).toBe('ref(a; "b") contains 1');
  });

  it('parses partial objects and ref heads', () => {
    expect(head(one('p[k] := v if { some k, v in input }'))).toBe('ref(p; k) := v');
    expect(head(one('a.b.c := 1'))).toBe('ref(a; "b", "c") := 1');
    expect(head(one('a.b[x] := y if { x := 1; y := 2 }'))).toBe('ref(a; "b", x) := y');
    expect(head(one('p["x-y"].z = 1'))).toBe('ref(p; "x-y", "z") = 1');
    const r = one('p[x] if { some x in [1, 2] }');
    expect(head(r)).toBe('ref(p; x)');
    expect(r.head.key).toBeUndefined();
  });

  it('parses functions', () => {
    expect(head(one('f(x, y) := r if { r := x + y }'))).toBe('f(x, y) := r');
    expect(head(one('f(x) if x > 1'))).toBe('f(x)');
    expect(head(one('f([a, _], {"k": v}) := a + v'))).toBe('f([a, _], obj{"k": v}) := plus(a, v)');
    expect(head(one('lib.f(x) := x'))).toBe('ref(lib; "f")(x) := x');
    expect(head(one('foo["bar"](x) := x + 1'))).toBe('ref(foo; "bar")(x) := plus(x, 1)');
  });

  it('gives rules and heads locations', () => {
    const [a, b] = rules('p := 1\n\ndefault q := 2');
    expect(a.loc).toEqual({ file: 'm.rego', row: 3, col: 1 });
    expect(b.loc).toEqual({ file: 'm.rego', row: 5, col: 1 });
    expect(b.head.loc).toEqual({ file: 'm.rego', row: 5, col: 9 });
  });
});

describe('default rules', () => {
  it('parses default rules and default functions', () => {
    const r = one('default allow := false');
    expect(r.isDefault).toBe(true);
    expect(head(r)).toBe('allow := false');
    expect(head(one('default f(_) := {"a": [1, -2]}'))).toBe('f(_) := obj{"a": [1, -2]}');
    expect(head(one('default p = 1'))).toBe('p = 1');
  });
});

describe('else chains', () => {
  it('parses else with values, bodies, single literals and no body', () => {
    const r = one('p := 1 if {\n  input.a\n} else := 2 if input.b else = 3 if {\n  input.c\n} else := 4');
    expect(head(r)).toBe('p := 1');
    expect(r.elses.map((e) => [e.value && show(e.value), e.body.map(showExpr)])).toEqual([
      ['2', ['ref(input; "b")']],
      ['3', ['ref(input; "c")']],
      ['4', []],
    ]);
  });

  it('leaves the value undefined for a bare else', () => {
    const r = one('p if { false } else if { true }');
    expect(r.elses).toHaveLength(1);
    expect(r.elses[0].value).toBeUndefined();
    expect(r.elses[0].body.map(showExpr)).toEqual(['true']);
  });

  it('parses else on functions and with a newline before it', () => {
    const r = one('f(x) := 1 if {\n  x > 0\n}\nelse := 0');
    expect(head(r)).toBe('f(x) := 1');
    expect(r.elses).toHaveLength(1);
  });
});

describe('v0 files (no rego.v1 import) with v0Compatible (OPA 1.x --v0-compatible)', () => {
  const v0 = (s: string): Rule[] => parseModule(`package t\nimport future.keywords.in\n${s}`, 'm.rego', { v0Compatible: true }).rules;

  it('are v1 by default, as in OPA 1.x: the same texts are parse errors without the option', () => {
    const plain = (s: string): Module => mod(`package t\n${s}`);
    expect(() => plain('p = x {\n  x := 1\n}')).toThrow('`if` keyword is required before rule body');
    expect(() => plain('p[x] { x := 1 }')).toThrow('`contains` keyword is required for partial set rules');
    expect(() => plain('p = 1 if { false } else = 2 { true }')).toThrow('`if` keyword is required before rule body');
    expect(plain('p := 1 if { true }').v1).toBe(true);
    // Read with the option, a module is v0 until it imports rego.v1.
    expect(parseModule('package t\np { true }', 'm.rego', { v0Compatible: true }).v1).toBe(false);
    expect(() => parseModule('package t\nimport rego.v1\np { true }', 'm.rego', { v0Compatible: true })).toThrow('`if` keyword is required');
    // import future.keywords stays accepted (and means nothing more) in v1.
    expect(mod('package t\nimport future.keywords\nimport future.keywords.in\np if 1 in [1]').rules).toHaveLength(1);
  });

  it('accepts bodies without `if`, with = heads', () => {
    const [p, f] = v0('p = x {\n  x := 1\n}\nf(x) = y { y := x }');
    expect(head(p)).toBe('p = x');
    expect(p.body.map(showExpr)).toEqual(['assign(x, 1)']);
    expect(head(f)).toBe('f(x) = y');
  });

  it('reads `p[x] { ... }` as a partial set', () => {
    const [r] = v0('p[x] { x := 1 }');
    expect(show(r.head.ref)).toBe('p');
    expect(show(r.head.key!)).toBe('x');
  });

  it('parses else with braces and `else = v {`', () => {
    const [r] = v0('p = 1 { false } else = 2 { true } else { true }');
    expect(r.elses.map((e) => e.value && show(e.value))).toEqual(['2', undefined]);
  });
});

describe('multi-rule modules', () => {
  it('parses a gateway-shaped policy', () => {
    const m = mod(`package envoy.authz
import rego.v1
import data.lib.helpers as h

default allow := false

http := input.attributes.request.http

allow if {
	http.method in {"GET", "POST"}
	not h.blocked(http.path)
	every seg in split(http.path, "/") { count(seg) < 64 }
}

reasons contains sprintf("bad %s", [http.method]) if not allow

result := {"allowed": allow, "headers": {k: v | some k, v in http.headers; startswith(k, "x-")}}
`);
    expect(m.pkg).toEqual(['envoy', 'authz']);
    expect(m.imports[1].alias).toBe('h');
    expect(m.rules.map(head)).toEqual([
      'allow := false',
      'http := ref(input; "attributes", "request", "http")',
      'allow',
      'reasons contains sprintf("bad %s", [ref(http; "method")])',
      'result := obj{"allowed": allow, "headers": obj{k: v | some k, v in ref(http; "headers"); startswith(k, "x-")}}',
    ]);
    expect(body(m.rules[2])).toEqual([
      'internal.member_2(ref(http; "method"), set{"GET", "POST"})',
      'not h.blocked(ref(http; "path"))',
      'every seg in split(ref(http; "path"), "/") { lt(count(seg), 64) }',
    ]);
  });
});
