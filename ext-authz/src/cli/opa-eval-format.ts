// `rego eval --format json`: the result in `opa eval --format json`'s shape (docs/opa-compatibility.md):
//   {"result": [{"expressions": [{"value": v, "text": "<source>", "location": {"row": r, "col": c}}, ...],
//                "bindings": {"x": ...}}, ...]}
// one entry per solution, one expression per query expression, `bindings` only when the query binds
// named variables, and `{}` when the query is undefined. A term or call expression's value is what it
// evaluates to; an assignment, a unification, `not`, `some` or `every` is `true` (as OPA prints them). The
// values are captured by rewriting the query: each captured expression `e` becomes `__v := e` followed by
// `__v`, which succeeds and fails exactly where `e` does (false fails).
import type { Body, CompiledPolicy, EvaluateOptions, Expr, Value } from '../rego/engine';

/** Engine functions this needs (passed in, so the engine loads only when a command runs). */
export interface EvalDeps {
  parseQuery(text: string): Body;
  toJSON(v: Value): unknown;
}

export interface OpaExpression {
  value: unknown;
  text: string;
  location: { row: number; col: number };
}

export interface OpaResultRow {
  expressions: OpaExpression[];
  bindings?: Record<string, unknown>;
}

export type OpaEvalOutput = { result: OpaResultRow[] } | Record<string, never>;

const HIDDEN = (i: number): string => `__callback_proxy_expr_${i}__`;

/** Offset of a 1-based row/col in `text`. */
function offsetOf(text: string, row: number, col: number): number {
  let off = 0;
  for (let r = 1; r < row; r++) {
    const nl = text.indexOf('\n', off);
    if (nl < 0) return text.length;
    off = nl + 1;
  }
  return Math.min(text.length, off + col - 1);
}

/** Whether OPA prints the expression's own value (true: term or call) rather than `true`. */
function captured(e: Expr): boolean {
  if (e.negated || e.expr.type !== 'term') return false;
  const t = e.expr.term;
  return !(t.type === 'call' && (t.op === 'assign' || t.op === 'eq'));
}

/** The source text of each expression: from its start to the next one's, without separators. */
export function expressionTexts(query: string, body: Body): string[] {
  const starts = body.map((e) => offsetOf(query, e.loc.row, e.loc.col));
  return starts.map((s, i) => query.slice(s, i + 1 < starts.length ? starts[i + 1] : query.length).replace(/[\s;]+$/, ''));
}

export function opaEvalJson(policy: CompiledPolicy, query: string, input: Value | undefined, opts: EvaluateOptions, deps: EvalDeps): OpaEvalOutput {
  const body = deps.parseQuery(query);
  const texts = expressionTexts(query, body);
  const capture = body.map(captured);
  const rewritten = body
    .map((_, i) => (capture[i] ? `${HIDDEN(i)} := ${texts[i]}\n${HIDDEN(i)}` : texts[i]))
    .join('\n');
  const rows = policy.prepare(rewritten).evaluateAll(input, opts);
  if (rows.length === 0) return {};
  const hidden = new Set(body.map((_, i) => HIDDEN(i)));
  return {
    result: rows.map((row) => {
      const expressions = body.map((e, i) => ({
        value: capture[i] ? deps.toJSON(row[HIDDEN(i)]) : true,
        text: texts[i],
        location: { row: e.loc.row, col: e.loc.col },
      }));
      const bindings: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row)) if (!hidden.has(k)) bindings[k] = deps.toJSON(v);
      return Object.keys(bindings).length > 0 ? { expressions, bindings } : { expressions };
    }),
  };
}
