// Rego parser, statement level (parse phase 2b): queries and literals — `not`, `some`, `every`,
// `with` modifiers, `:=`/`=` — per the Rego policy reference grammar (query, literal, some-decl).
import type { Body, Expr, ExprBody, Term, VarTerm, With } from './ast';
import { RegoError } from './errors';
import { INFIX_BUILTINS, MEMBER_2, MEMBER_3, TermParser, call } from './parser-terms';

export abstract class BodyParser extends TermParser {
  /**
   * Literals separated by `;` or newlines, up to the `end` punctuation (not consumed) or, when
   * `end` is '', the end of input. Two literals on one line without `;` are an error, as in OPA.
   */
  protected parseQueryUntil(end: string, allowEmpty: boolean): Body {
    const atEnd = (): boolean => (end === '' ? this.tok.kind === 'eof' : this.is(end));
    const body: Body = [];
    if (atEnd()) {
      if (!allowEmpty) this.fail('expected query');
      return body;
    }
    const endName = end === '' ? 'eof' : end;
    for (;;) {
      body.push(this.parseLiteral());
      if (this.is(';')) {
        this.next();
        if (atEnd()) break;
        continue;
      }
      if (atEnd()) break;
      if (!this.tok.nl) this.fail(`expected \\n or ; or ${endName}`);
    }
    return body;
  }

  /** `{ query }` (possibly empty) after `if`/`else`, or a single literal without braces. */
  protected parseRuleBody(): Body {
    if (!this.is('{')) return [this.parseLiteral()];
    // `if {x: i | ...}` is a literal that starts with a brace: try the block first, as OPA does.
    return this.orElse(
      () => this.parseBracedQuery(),
      () => [this.parseLiteral()],
    );
  }

  protected parseBracedQuery(): Body {
    this.expect('{');
    const body = this.parseQueryUntil('}', true);
    this.next();
    return body;
  }

  protected parseLiteral(): Expr {
    const loc = this.tok.loc;
    let negated = false;
    let expr: ExprBody;
    if (this.is('not')) {
      this.next();
      negated = true;
      // `not some ...` / `not every ...` are rejected by OPA; parseExprTerm fails on the keyword.
      expr = { type: 'term', term: this.parseExprTerm() };
    } else if (this.is('some')) {
      expr = this.parseSome();
    } else if (this.is('every')) {
      expr = this.parseEvery();
    } else {
      expr = { type: 'term', term: this.parseExprTerm() };
    }
    const withs: With[] = [];
    while (this.is('with')) withs.push(this.parseWith());
    return { expr, negated, with: withs, loc };
  }

  /** `lhs (:= | =) rhs` or a lone term; assignment is the loosest operator and not chainable. */
  protected parseExprTerm(): Term {
    const lhs = this.parseMembership(true);
    if (this.is(':=') || this.is('=')) {
      const op = this.next();
      const rhs = this.parseMembership(true);
      return call(INFIX_BUILTINS[op.text], [lhs, rhs], lhs.loc, op.loc);
    }
    return lhs;
  }

  private parseWith(): With {
    const loc = this.next().loc;
    const target = this.parsePostfix();
    if (target.type !== 'var' && target.type !== 'ref') {
      this.error('expected with target path (input..., data... or a function name)', target.loc);
    }
    if (!this.is('as')) this.fail('expected "as" keyword');
    this.next();
    const value = this.parseMembership(false);
    return { target, value, loc };
  }

  /** `some x, y` declares vars; `some v in xs` / `some k, v in xs` iterate (patterns allowed). */
  private parseSome(): ExprBody {
    this.next();
    const start = this.pos;
    let firstError: RegoError | undefined;
    try {
      const t = this.parseMembership(true);
      if (t.type === 'call' && t.op === MEMBER_2) {
        return { type: 'somein', value: t.args[0], collection: t.args[1] };
      }
      if (t.type === 'call' && t.op === MEMBER_3) {
        return { type: 'somein', key: t.args[0], value: t.args[1], collection: t.args[2] };
      }
    } catch (e) {
      if (!(e instanceof RegoError)) throw e;
      firstError = e;
    }
    this.pos = start;
    const vars: VarTerm[] = [this.parseVarName('var after "some"')];
    while (this.is(',')) {
      this.next();
      vars.push(this.parseVarName('var after ","'));
    }
    // `some x in <bad>`: the error inside the collection is the one worth reporting.
    if (firstError && this.is('in')) throw firstError;
    return { type: 'somedecl', vars };
  }

  /** `every v in xs { ... }` / `every k, v in xs { ... }`; key and value must be plain vars. */
  private parseEvery(): ExprBody {
    const kw = this.next();
    const t = this.parseMembership(true);
    let key: Term | undefined;
    let value: Term;
    let domain: Term;
    if (t.type === 'call' && t.op === MEMBER_2) {
      [value, domain] = t.args;
    } else if (t.type === 'call' && t.op === MEMBER_3) {
      [key, value, domain] = t.args;
    } else {
      return this.error('expected `x[, y] in xs { ... }` expression after "every"', kw.loc);
    }
    if ((key && key.type !== 'var') || value.type !== 'var') {
      this.error('every: key and value must be variables', kw.loc);
    }
    if (!this.is('{')) this.fail('expected "{" after every domain');
    const body = this.parseBracedQuery();
    return {
      type: 'every',
      key: key as VarTerm | undefined,
      value: value as VarTerm,
      domain,
      body,
    };
  }
}
