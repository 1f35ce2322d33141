// Property test for the Rego operator grammar: random expression trees, printed with the fewest
// parentheses OPA's precedence allows, must parse back to the same tree (precedence + associativity).
import fc from 'fast-check';
import { parseTerm } from '../../ext-authz/src/rego/parser';
import { show } from './parser-show';

/** A minimal expression tree; `op` names are OPA builtin names as the parser produces them. */
type Node =
  | { k: 'leaf'; text: string }
  | { k: 'neg'; name: string }
  | { k: 'bin'; op: string; sym: string; l: Node; r: Node }
  | { k: 'call'; args: Node[] }
  | { k: 'array'; items: Node[] };

// Binding strength, loosest first, as in OPA: in < comparison < | < & < + - < * / %.
const LEVELS: { sym: string; op: string; level: number }[] = [
  { sym: 'in', op: 'internal.member_2', level: 1 },
  ...['==:equal', '!=:neq', '<:lt', '<=:lte', '>:gt', '>=:gte'].map((s) => {
    const [sym, op] = s.split(':');
    return { sym, op, level: 2 };
  }),
  { sym: '|', op: 'or', level: 3 },
  { sym: '&', op: 'and', level: 4 },
  { sym: '+', op: 'plus', level: 5 },
  { sym: '-', op: 'minus', level: 5 },
  { sym: '*', op: 'mul', level: 6 },
  { sym: '/', op: 'div', level: 6 },
  { sym: '%', op: 'rem', level: 6 },
];
const ATOM = 7;

function level(n: Node): number {
  if (n.k !== 'bin') return ATOM;
  return LEVELS.find((l) => l.sym === n.sym)!.level;
}

/** Prints with parentheses only where needed: operators are left-associative. */
function print(n: Node): string {
  switch (n.k) {
    case 'leaf':
      return n.text;
    case 'neg':
      return `-${n.name}`;
    case 'call':
      return `f(${n.args.map(print).join(', ')})`;
    case 'array':
      // `[a | b]` is a comprehension in Rego, so an operator expression in front is parenthesised.
      return `[${n.items.map((it, i) => (i === 0 && it.k === 'bin' ? `(${print(it)})` : print(it))).join(', ')}]`;
    case 'bin': {
      const lv = level(n);
      const l = level(n.l) < lv ? `(${print(n.l)})` : print(n.l);
      const r = level(n.r) <= lv ? `(${print(n.r)})` : print(n.r);
      return `${l} ${n.sym} ${r}`;
    }
  }
}

/** The tree as parser-show renders the parser's AST. */
function expected(n: Node): string {
  switch (n.k) {
    case 'leaf':
      return n.text;
    case 'neg':
      return `minus(0, ${n.name})`;
    case 'call':
      return `f(${n.args.map(expected).join(', ')})`;
    case 'array':
      return `[${n.items.map(expected).join(', ')}]`;
    case 'bin':
      return `${n.op}(${expected(n.l)}, ${expected(n.r)})`;
  }
}

const leaf: fc.Arbitrary<Node> = fc.oneof(
  fc.constantFrom('a', 'b', 'x', 'input', '_').map((text): Node => ({ k: 'leaf', text })),
  fc.nat({ max: 99 }).map((i): Node => ({ k: 'leaf', text: String(i) })),
  fc.constantFrom('"s"', 'true', 'null').map((text): Node => ({ k: 'leaf', text })),
  fc.constantFrom('a', 'x').map((name): Node => ({ k: 'neg', name })),
);

const tree = fc.letrec<{ node: Node }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc
      .tuple(fc.constantFrom(...LEVELS), tie('node'), tie('node'))
      .map(([o, l, r]): Node => ({ k: 'bin', op: o.op, sym: o.sym, l, r })),
    fc.array(tie('node'), { maxLength: 3 }).map((args): Node => ({ k: 'call', args })),
    fc.array(tie('node'), { maxLength: 3 }).map((items): Node => ({ k: 'array', items })),
  ),
})).node;

describe('operator grammar round trip', () => {
  it('parses minimally parenthesised expressions back to the same tree', () => {
    fc.assert(
      fc.property(tree, (n) => {
        expect(show(parseTerm(print(n)))).toBe(expected(n));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps fully parenthesised right operands on the right', () => {
    expect(show(parseTerm('a - (b - c)'))).toBe('minus(a, minus(b, c))');
    expect(show(parseTerm('a in (b in c)'))).toBe('internal.member_2(a, internal.member_2(b, c))');
  });
});
