// Rego parser, term level (parse phase 2a): scalars, collections, comprehensions, refs, calls and
// the infix operator ladder, with OPA's precedence (policy reference "Grammar" + observed OPA 0.61).
import type {
  ArrayComprehension,
  Body,
  CallTerm,
  Loc,
  ObjectComprehension,
  SetComprehension,
  Term,
  VarTerm,
} from './ast';
import { RegoError } from './errors';
import type { Token } from './lexer';

/** Infix operator → OPA builtin name (see ast.ts CallTerm). */
export const INFIX_BUILTINS: Readonly<Record<string, string>> = {
  '==': 'equal', '!=': 'neq', '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte',
  '+': 'plus', '-': 'minus', '*': 'mul', '/': 'div', '%': 'rem',
  '&': 'and', '|': 'or', '=': 'eq', ':=': 'assign',
};
export const MEMBER_2 = 'internal.member_2';
export const MEMBER_3 = 'internal.member_3';

const RELATION_OPS = new Set(['==', '!=', '<', '<=', '>', '>=']);
const ARITH_OPS = new Set(['+', '-']);
const FACTOR_OPS = new Set(['*', '/', '%']);
const UNION_OPS = new Set(['|']);
const INTERSECTION_OPS = new Set(['&']);

/** Token cursor, error helpers and the term grammar; statements are added by subclasses. */
export abstract class TermParser {
  protected pos = 0;
  private readonly postfixCache = new Map<number, { term?: Term; error?: RegoError; end: number }>();

  constructor(
    protected readonly toks: Token[],
    protected readonly file: string,
  ) {}

  /** Parses literals up to (not including) the `end` punctuation or end of input. */
  protected abstract parseQueryUntil(end: string, allowEmpty: boolean): Body;

  // ---- cursor ---------------------------------------------------------------------------------

  protected get tok(): Token {
    return this.toks[this.pos];
  }

  protected next(): Token {
    const t = this.toks[this.pos];
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  /** True when the current token is the punctuation or keyword `text`. */
  protected is(text: string): boolean {
    const t = this.tok;
    return (t.kind === 'punct' || t.kind === 'keyword') && t.text === text;
  }

  protected expect(text: string): Token {
    if (!this.is(text)) this.fail(`expected ${JSON.stringify(text)}`);
    return this.next();
  }

  protected fail(expected: string, t: Token = this.tok): never {
    throw new RegoError('rego_parse_error', `unexpected ${describe(t)} token: ${expected}`, t.loc);
  }

  protected error(message: string, loc: Loc = this.tok.loc): never {
    throw new RegoError('rego_parse_error', message, loc);
  }

  /**
   * Runs `attempt`; on a parse error rewinds and runs `fallback`. If the fallback fails too, the
   * first error is the more useful one and is rethrown. Only used where OPA itself backtracks.
   */
  protected orElse<T>(attempt: () => T, fallback: () => T): T {
    const save = this.pos;
    try {
      return attempt();
    } catch (first) {
      if (!(first instanceof RegoError)) throw first;
      this.pos = save;
      try {
        return fallback();
      } catch (second) {
        if (!(second instanceof RegoError)) throw second;
        throw first;
      }
    }
  }

  // ---- operator ladder (lowest first) ---------------------------------------------------------

  /**
   * `x in xs` (left-assoc) and, when `keyVal`, `k, v in xs`. `keyVal` is false inside lists
   * (call args, array/set/object items) so that `f(a, b in c)` is f(a, member_2(b, c)).
   */
  parseMembership(keyVal: boolean): Term {
    let lhs = this.parseRelation();
    if (keyVal && this.is(',')) {
      const save = this.pos;
      this.next();
      let mhs: Term | undefined;
      try {
        mhs = this.parseRelation();
      } catch (e) {
        if (!(e instanceof RegoError)) throw e;
      }
      if (mhs && this.is('in')) {
        const opLoc = this.next().loc;
        const rhs = this.parseRelation();
        lhs = call(MEMBER_3, [lhs, mhs, rhs], lhs.loc, opLoc);
      } else {
        this.pos = save;
        return lhs;
      }
    }
    while (this.is('in')) {
      const opLoc = this.next().loc;
      const rhs = this.parseRelation();
      lhs = call(MEMBER_2, [lhs, rhs], lhs.loc, opLoc);
    }
    return lhs;
  }

  // In OPA comparisons bind looser than `|` and `&`: `a == b | c` is `a == (b | c)`.
  protected parseRelation(): Term {
    return this.binaryLevel(RELATION_OPS, () => this.parseUnion());
  }
  protected parseUnion(): Term {
    return this.binaryLevel(UNION_OPS, () => this.parseIntersection());
  }
  protected parseIntersection(): Term {
    return this.binaryLevel(INTERSECTION_OPS, () => this.parseArith());
  }
  protected parseArith(): Term {
    return this.binaryLevel(ARITH_OPS, () => this.parseFactor());
  }
  protected parseFactor(): Term {
    return this.binaryLevel(FACTOR_OPS, () => this.parsePostfix());
  }

  private binaryLevel(ops: ReadonlySet<string>, operand: () => Term): Term {
    let lhs = operand();
    while (this.tok.kind === 'punct' && ops.has(this.tok.text)) {
      const opTok = this.next();
      const rhs = operand();
      lhs = call(INFIX_BUILTINS[opTok.text], [lhs, rhs], lhs.loc, opTok.loc);
    }
    return lhs;
  }

  // ---- primaries and refs ---------------------------------------------------------------------

  /**
   * A primary term followed by adjacent `.name`, `[index]` and `(args)` suffixes. Memoised by
   * start position: collection parsing tries a comprehension head first and re-parses on a miss,
   * which without the cache is exponential in nesting depth (`[[[[...]]]]`).
   */
  parsePostfix(): Term {
    const start = this.pos;
    const hit = this.postfixCache.get(start);
    if (hit) {
      if (hit.error) throw hit.error;
      this.pos = hit.end;
      return hit.term as Term;
    }
    try {
      const term = this.parseRefTail(this.parsePrimary());
      this.postfixCache.set(start, { term, end: this.pos });
      return term;
    } catch (e) {
      if (e instanceof RegoError) this.postfixCache.set(start, { error: e, end: this.pos });
      throw e;
    }
  }

  protected parsePrimary(): Term {
    const t = this.tok;
    const loc = t.loc;
    switch (t.kind) {
      case 'number':
        this.next();
        return { type: 'number', value: Number(t.text), text: t.text, loc };
      case 'string':
      case 'rawstring':
        this.next();
        return { type: 'string', value: t.text, raw: t.kind === 'rawstring', loc };
      case 'ident':
        this.next();
        return { type: 'var', name: t.text, loc };
      case 'keyword':
        switch (t.text) {
          case 'null':
            this.next();
            return { type: 'null', loc };
          case 'true':
          case 'false':
            this.next();
            return { type: 'boolean', value: t.text === 'true', loc };
          case 'contains':
            // Only a keyword in rule heads; elsewhere it is an ordinary name (as in OPA).
            this.next();
            return { type: 'var', name: t.text, loc };
        }
        return this.fail('expected term');
      case 'punct':
        switch (t.text) {
          case '[':
            return this.parseArrayLike();
          case '{':
            return this.parseBraceLike();
          case '(': {
            this.next();
            // Parentheses admit the three-operand `in`: `(k, v in xs)`.
            const inner = this.parseMembership(true);
            if (!this.is(')')) this.fail('non-terminated expression, expected ")"');
            this.next();
            return inner;
          }
          case '-': {
            this.next();
            const n = this.tok;
            if (n.kind === 'number') {
              this.next();
              return { type: 'number', value: -Number(n.text), text: `-${n.text}`, loc };
            }
            // Unary minus on a non-literal is 0 - x (ast.ts contract).
            const operand = this.parsePostfix();
            const zero: Term = { type: 'number', value: 0, text: '0', loc };
            return call('minus', [zero, operand], loc, loc);
          }
        }
        return this.fail('expected term');
      default:
        return this.fail('expected term');
    }
  }

  /** Adds suffixes to `head`. Suffixes must touch the previous token: `a [0]` is two terms. */
  protected parseRefTail(head: Term): Term {
    let cur = head;
    let path: Term[] = [];
    if (cur.type === 'ref' && this.atSuffix()) {
      path = [...cur.path];
      cur = cur.head;
    }
    while (this.atSuffix()) {
      const t = this.tok;
      if (path.length === 0) this.checkRefHead(cur, t);
      if (t.text === '.') {
        this.next();
        const name = this.tok;
        if (name.kind !== 'ident' || name.space) this.fail('expected ident after "."', name);
        this.next();
        path.push({ type: 'string', value: name.text, raw: false, loc: name.loc });
      } else if (t.text === '[') {
        this.next();
        const index = this.parseMembership(true);
        if (!this.is(']')) this.fail('expected "]"');
        this.next();
        path.push(index);
      } else {
        cur = this.parseCallSuffix(cur, path);
        path = [];
      }
    }
    return path.length > 0 ? { type: 'ref', head: cur, path, loc: cur.loc } : cur;
  }

  private atSuffix(): boolean {
    const t = this.tok;
    return t.kind === 'punct' && !t.space && (t.text === '.' || t.text === '[' || t.text === '(');
  }

  private checkRefHead(head: Term, at: Token): void {
    switch (head.type) {
      case 'var':
      case 'array':
      case 'object':
      case 'set':
      case 'arraycompr':
      case 'setcompr':
      case 'objectcompr':
      case 'call':
        return;
      default:
        this.fail(`illegal ref (head cannot be ${head.type})`, at);
    }
  }

  /** `name(args)`: the operator is a dotted name (`count`, `strings.replace_n`, `data.lib.f`). */
  private parseCallSuffix(head: Term, path: Term[]): Term {
    const open = this.tok;
    if (head.type !== 'var' || path.some((p) => p.type !== 'string')) {
      this.fail('illegal call (operator must be a name or a dotted path)', open);
    }
    const op = [head.name, ...path.map((p) => (p.type === 'string' ? p.value : ''))].join('.');
    this.next();
    const args = this.parseList(')');
    if (op === 'set' && args.length === 0) return { type: 'set', items: [], loc: head.loc };
    return { type: 'call', op, args, loc: head.loc, opLoc: head.loc };
  }

  /** Comma-separated items up to `end` (consumed); a trailing comma is allowed. */
  protected parseList(end: string): Term[] {
    const items: Term[] = [];
    while (!this.is(end)) {
      items.push(this.parseMembership(false));
      if (this.is(',')) {
        this.next();
      } else if (!this.is(end)) {
        this.fail(`expected "," or ${JSON.stringify(end)}`);
      }
    }
    this.next();
    return items;
  }

  // ---- collections and comprehensions ---------------------------------------------------------

  /*
   * A comprehension head is a single postfix term, not an operator expression, because `|` is also
   * set union: OPA reads `[x * 2 | ...]` as a list and fails; `[(x * 2) | ...]` is a comprehension.
   */
  private parseArrayLike(): Term {
    const loc = this.next().loc;
    if (this.is(']')) {
      this.next();
      return { type: 'array', items: [], loc };
    }
    const asList = (): Term => ({ type: 'array', items: this.parseList(']'), loc });
    if (this.is(',')) {
      // OPA tolerates a leading comma (`[, x]`), which also rules out a comprehension.
      this.next();
      return asList();
    }
    const start = this.pos;
    const head = this.parsePostfix();
    if (!this.is('|')) {
      this.pos = start;
      return asList();
    }
    return this.orElse(
      (): ArrayComprehension => {
        this.next();
        const body = this.parseQueryUntil(']', false);
        this.next();
        return { type: 'arraycompr', term: head, body, loc };
      },
      () => {
        this.pos = start;
        return asList();
      },
    );
  }

  private parseBraceLike(): Term {
    const loc = this.next().loc;
    if (this.is('}')) {
      this.next();
      return { type: 'object', items: [], loc };
    }
    if (this.is(',')) {
      this.next();
      return this.parseSetOrObjectItems(loc);
    }
    const start = this.pos;
    const head = this.parsePostfix();
    const generic = (): Term => {
      this.pos = start;
      return this.parseSetOrObjectItems(loc);
    };
    if (this.is('|')) {
      return this.orElse((): SetComprehension => {
        this.next();
        const body = this.parseQueryUntil('}', false);
        this.next();
        return { type: 'setcompr', term: head, body, loc };
      }, generic);
    }
    if (this.is(':')) {
      this.next();
      const value = this.parsePostfix();
      if (this.is('|')) {
        return this.orElse((): ObjectComprehension => {
          this.next();
          const body = this.parseQueryUntil('}', false);
          this.next();
          return { type: 'objectcompr', key: head, value, body, loc };
        }, generic);
      }
    }
    return generic();
  }

  /** `{a, b}` or `{k: v, ...}`, decided by the first item. */
  private parseSetOrObjectItems(loc: Loc): Term {
    if (this.is('}')) this.fail('expected term');
    const first = this.parseMembership(false);
    if (!this.is(':')) {
      const items = [first];
      if (this.is(',')) {
        this.next();
        items.push(...this.parseList('}'));
      } else {
        this.expect('}');
      }
      return { type: 'set', items, loc };
    }
    const items: [Term, Term][] = [];
    let key = first;
    for (;;) {
      this.expect(':');
      items.push([key, this.parseMembership(false)]);
      if (this.is(',')) {
        this.next();
        if (this.is('}')) break;
        key = this.parseMembership(false);
        continue;
      }
      if (!this.is('}')) this.fail('expected "," or "}"');
      break;
    }
    this.next();
    return { type: 'object', items, loc };
  }

  /** A plain variable name (ident token). */
  protected parseVarName(what: string): VarTerm {
    const t = this.tok;
    if (t.kind !== 'ident') this.fail(`expected ${what}`);
    this.next();
    return { type: 'var', name: t.text, loc: t.loc };
  }
}

export function call(op: string, args: Term[], loc: Loc, opLoc?: Loc): CallTerm {
  return opLoc ? { type: 'call', op, args, loc, opLoc } : { type: 'call', op, args, loc };
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'eof';
    case 'ident':
      return 'ident';
    case 'number':
      return 'number';
    case 'string':
    case 'rawstring':
      return 'string';
    default:
      return JSON.stringify(t.text);
  }
}
