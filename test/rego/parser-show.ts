// Test helper for the Rego parser tests: a compact, location-free rendering of AST terms and
// expressions, so assertions read like Rego (`plus(x, 1)`, `ref(input; "a", x)`).
import type { Expr, Term } from '../../ext-authz/src/rego/ast';

export function show(t: Term): string {
  switch (t.type) {
    case 'null':
      return 'null';
    case 'boolean':
      return String(t.value);
    case 'number':
      return t.text;
    case 'string':
      return (t.raw ? 'raw' : '') + JSON.stringify(t.value);
    case 'var':
      return t.name;
    case 'ref':
      return `ref(${show(t.head)}; ${t.path.map(show).join(', ')})`;
    case 'call':
      return `${t.op}(${t.args.map(show).join(', ')})`;
    case 'array':
      return `[${t.items.map(show).join(', ')}]`;
    case 'set':
      return `set{${t.items.map(show).join(', ')}}`;
    case 'object':
      return `obj{${t.items.map(([k, v]) => `${show(k)}: ${show(v)}`).join(', ')}}`;
    case 'arraycompr':
      return `[${show(t.term)} | ${t.body.map(showExpr).join('; ')}]`;
    case 'setcompr':
      return `set{${show(t.term)} | ${t.body.map(showExpr).join('; ')}}`;
    case 'objectcompr':
      return `obj{${show(t.key)}: ${show(t.value)} | ${t.body.map(showExpr).join('; ')}}`;
  }
}

export function showExpr(e: Expr): string {
  let s: string;
  const x = e.expr;
  switch (x.type) {
    case 'term':
      s = show(x.term);
      break;
    case 'somedecl':
      s = `some ${x.vars.map(show).join(', ')}`;
      break;
    case 'somein':
      s = `some ${x.key ? `${show(x.key)}, ` : ''}${show(x.value)} in ${show(x.collection)}`;
      break;
    case 'every':
      s = `every ${x.key ? `${show(x.key)}, ` : ''}${show(x.value)} in ${show(x.domain)} { ${x.body
        .map(showExpr)
        .join('; ')} }`;
      break;
  }
  if (e.negated) s = `not ${s}`;
  for (const w of e.with) s += ` with ${show(w.target)} as ${show(w.value)}`;
  return s;
}
