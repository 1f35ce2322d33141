// Rego parser entry points (parse phase 2c): modules (package, imports, rules) and ad-hoc queries,
// producing the shapes of ast.ts. Accepts OPA v1 syntax and v0 files (`rego.v1`/`future.keywords`).
//
// Notes for the compiler (how the less obvious forms come out):
// * Rule heads: `ref` is a VarTerm for a plain name, else a RefTerm on a VarTerm (`a.b[x]` ->
//   path [string "b", var x]). `p contains x` -> ref p, key x. `p[x] := v` -> ref p[x], value v,
//   no key. `p[x] if {...}` (with `if`) -> ref p[x], value undefined: an object entry whose value is
//   true. A v0 rule `p[x] { ... }` (no `if`, no value, in a file without `import rego.v1`) is a
//   partial set: ref p, key x — with `import rego.v1` it is a parse error, as in OPA.
// * A missing value (head or `else`) means `true`. `assign` is true only for `:=`.
// * `else` without a body (`else := 2`) has body [] (unconditionally true), like a rule body [].
// * `if` followed by one literal without braces gives a one-expression body; `if { }` gives [].
// * Functions: head.args holds the argument terms as written (patterns and `_` allowed).
// * `some x in xs` -> somein {value x, collection xs}; `some k, v in xs` adds key. Key/value are
//   arbitrary terms (array/object patterns destructure, `_` is a wildcard).
// * Every `_` is VarTerm "_" (rename per occurrence). `-x` on a non-literal is minus(0, x).
// * Default rules: isDefault, body [], value checked here to contain no var/ref/call/comprehension.
// * Calls keep the dotted name as written in `op` (import aliases unresolved). `set()` is an empty
//   SetTerm, `{}` an empty ObjectTerm. Top-level `x := e` / `a = b` are CallTerms assign / eq.
// * Precedence is OPA's, loosest first: := =, in, comparisons, |, &, + -, * / %, unary minus.
//   Note comparisons bind looser than `|`/`&` (`a == b | c` is `a == (b | c)`).
// * `contains` is a keyword only in rule heads; elsewhere it parses as a var (as in OPA).
// * `with` targets are a VarTerm or RefTerm; which ones are legal is the compiler's check.
import type { Body, ElseClause, Import, Loc, Module, RefTerm, Rule, RuleHead, Term, VarTerm } from './ast';
import { RegoError } from './errors';
import { tokenize } from './lexer';
import { BodyParser } from './parser-body';

const IMPORT_ROOTS = ['data', 'future', 'input', 'rego'];
const FUTURE_KEYWORDS = new Set(['in', 'if', 'contains', 'every']);

/** How a module is read. */
export interface ParseOptions {
  /**
   * Accept Rego v0 (OPA 0.x) syntax, as OPA 1.x's `--v0-compatible`: `if` and `contains` are optional
   * unless the module imports rego.v1. Default false: every module is v1, as in OPA 1.x.
   */
  v0Compatible?: boolean;
}

class ModuleParser extends BodyParser {
  /** Rego v1 rules apply (the default, or `import rego.v1`): `if` and `contains` are mandatory, as in OPA. */
  private v1 = true;

  /** Reads v0 syntax until the module imports rego.v1. */
  allowV0(): this {
    this.v1 = false;
    return this;
  }

  parseModule(): Module {
    if (!this.is('package')) this.fail('expected "package" declaration');
    const pkgLoc = this.next().loc;
    const pkg = refNames(this.parsePathRef(false));
    const imports: Import[] = [];
    const rules: Rule[] = [];
    while (this.tok.kind !== 'eof') {
      if (this.is('import')) imports.push(this.parseImport());
      else if (this.is('package')) this.fail('a module has exactly one package declaration');
      else rules.push(this.parseRule());
    }
    return {
      file: this.file,
      pkg,
      pkgLoc,
      imports,
      rules,
      v1: this.v1,
    };
  }

  parseWholeQuery(): Body {
    const body = this.parseQueryUntil('', false);
    if (this.tok.kind !== 'eof') this.fail('expected end of query');
    return body;
  }

  parseWholeTerm(): Term {
    const term = this.parseMembership(true);
    if (this.tok.kind !== 'eof') this.fail('expected end of term');
    return term;
  }

  /**
   * `a.b["c-d"]`: a name followed by adjacent `.name` / `["string"]` parts. Keywords are accepted
   * after a dot only when `keywordNames` is set (`import future.keywords.in`).
   */
  private parsePathRef(keywordNames: boolean): VarTerm | RefTerm {
    const head = this.parseVarName('a path name');
    const path: Term[] = [];
    for (;;) {
      const t = this.tok;
      if (t.kind !== 'punct' || t.space) break;
      if (t.text === '.') {
        this.next();
        const id = this.tok;
        const ok = id.kind === 'ident' || (keywordNames && id.kind === 'keyword');
        if (!ok || id.space) this.fail('expected ident after "."');
        this.next();
        path.push({ type: 'string', value: id.text, raw: false, loc: id.loc });
      } else if (t.text === '[') {
        this.next();
        const s = this.tok;
        if (s.kind !== 'string' && s.kind !== 'rawstring') this.fail('expected a string in a path');
        this.next();
        path.push({ type: 'string', value: s.text, raw: s.kind === 'rawstring', loc: s.loc });
        this.expect(']');
      } else {
        break;
      }
    }
    return path.length > 0 ? { type: 'ref', head, path, loc: head.loc } : head;
  }

  private parseImport(): Import {
    const loc = this.next().loc;
    const path = this.parsePathRef(true);
    const names = refNames(path);
    const root = names[0];
    if (!IMPORT_ROOTS.includes(root)) {
      this.error(`unexpected import path, must begin with one of: {data, future, input, rego}, got: ${root}`, loc);
    }
    if (root === 'future') {
      const ok = names.length >= 2 && names[1] === 'keywords' &&
        (names.length === 2 || (names.length === 3 && FUTURE_KEYWORDS.has(names[2])));
      if (!ok) this.error(`invalid import ${names.join('.')}, must be future.keywords or future.keywords.<keyword>`, loc);
    }
    if (root === 'rego') {
      if (names.length !== 2 || names[1] !== 'v1') this.error(`invalid import ${names.join('.')}, must be rego.v1`, loc);
      this.v1 = true;
    }
    let alias: string | undefined;
    if (this.is('as')) {
      const asTok = this.next();
      if (root === 'future' || root === 'rego') this.error(`${root} imports cannot be aliased`, asTok.loc);
      alias = this.parseVarName('alias name after "as"').name;
    }
    const imp: Import = { path, loc };
    if (alias !== undefined) imp.alias = alias;
    return imp;
  }

  // ---- rules ----------------------------------------------------------------------------------

  private parseRule(): Rule {
    const loc = this.tok.loc;
    const isDefault = this.is('default');
    if (isDefault) this.next();
    const head = this.parseRuleHead();

    if (this.is('contains')) {
      if (head.args) this.error('the contains keyword can only be used with multi-value rule definitions', this.tok.loc);
      this.next();
      head.key = this.parseMembership(true);
    } else if (this.is(':=') || this.is('=')) {
      head.assign = this.next().text === ':=';
      head.value = this.parseMembership(true);
    }
    if (this.is('with')) this.error('expressions using with keyword cannot be used for rule head');

    if (isDefault) return this.finishDefault(head, loc);

    const usesIf = this.is('if');
    // v0 `p[x] { ... }`: a partial set (OPA keeps this meaning only without `if`).
    if (!usesIf && !head.args && head.value === undefined && head.key === undefined &&
        head.ref.type === 'ref' && head.ref.path.length === 1) {
      if (this.v1) this.error('`contains` keyword is required for partial set rules', head.loc);
      head.key = head.ref.path[0];
      head.ref = head.ref.head as VarTerm;
    }

    let body: Body = [];
    let hasBody = false;
    if (usesIf) {
      this.next();
      body = this.parseRuleBody();
      hasBody = true;
    } else if (this.is('{')) {
      if (this.v1) this.error('`if` keyword is required before rule body');
      body = this.parseBracedQuery();
      hasBody = true;
    }
    if (!hasBody && head.value === undefined && head.key === undefined) {
      this.error('rule must have a value or a body', head.loc);
    }
    if (this.is('{')) this.error('multiple rule bodies are not supported (v0 syntax)');

    const elses: ElseClause[] = [];
    while (this.is('else')) elses.push(this.parseElse(head));
    return { head, isDefault: false, body, elses, loc };
  }

  /** The rule name and its suffixes: `p`, `a.b.c`, `p[k]`, `a.b[x]`, `f(x, y)`, `foo["bar"](x)`. */
  private parseRuleHead(): RuleHead {
    const t = this.tok;
    if (t.kind !== 'ident') {
      const what = t.kind === 'punct' && t.text === '[' ? 'array' : t.kind === 'punct' && t.text === '{'
        ? 'object' : t.kind === 'eof' ? 'eof' : JSON.stringify(t.text);
      this.error(`${what} cannot be used for rule name`, t.loc);
    }
    const name = this.parseVarName('rule name');
    const path: Term[] = [];
    let args: Term[] | undefined;
    for (;;) {
      const s = this.tok;
      if (s.kind !== 'punct' || s.space) break;
      if (s.text === '.') {
        this.next();
        const id = this.tok;
        if (id.kind !== 'ident' || id.space) this.fail('expected ident after "."');
        this.next();
        path.push({ type: 'string', value: id.text, raw: false, loc: id.loc });
      } else if (s.text === '[') {
        this.next();
        path.push(this.parseMembership(true));
        this.expect(']');
      } else if (s.text === '(') {
        this.next();
        args = this.parseList(')');
        break;
      } else {
        break;
      }
    }
    const ref: VarTerm | RefTerm = path.length > 0 ? { type: 'ref', head: name, path, loc: name.loc } : name;
    const head: RuleHead = { ref, assign: false, loc: name.loc };
    if (args) head.args = args;
    return head;
  }

  private finishDefault(head: RuleHead, loc: Loc): Rule {
    if (head.value === undefined) this.error('default rules must have a value (default p := <value>)', head.loc);
    if (head.key !== undefined) this.error('default rules cannot be multi-value rules', head.loc);
    if (head.ref.type === 'ref' && head.ref.path.some((p) => p.type !== 'string')) {
      this.error('default rules cannot have variables in the rule ref', head.loc);
    }
    const bad = nonConstant(head.value);
    if (bad) this.error(`illegal default rule (value cannot contain ${bad})`, head.value.loc);
    if (this.is('if') || this.is('{')) this.error('default rules cannot have a body');
    return { head, isDefault: true, body: [], elses: [], loc };
  }

  private parseElse(head: RuleHead): ElseClause {
    const loc = this.next().loc;
    if (head.key !== undefined) this.error('else keyword cannot be used on multi-value rules', loc);
    if (head.ref.type === 'ref' && head.ref.path.some((p) => !isScalar(p))) {
      this.error('else keyword cannot be used on rules with variables in head', loc);
    }
    const clause: ElseClause = { body: [], loc };
    if (this.is(':=') || this.is('=')) {
      this.next();
      clause.value = this.parseMembership(true);
    }
    if (this.is('with')) this.error('expressions using with keyword cannot be used for rule head');
    if (this.is('if')) {
      this.next();
      clause.body = this.parseRuleBody();
    } else if (this.is('{')) {
      if (this.v1) this.error('`if` keyword is required before rule body');
      clause.body = this.parseBracedQuery();
    }
    return clause;
  }
}

function isScalar(t: Term): boolean {
  return t.type === 'string' || t.type === 'number' || t.type === 'boolean' || t.type === 'null';
}

/** The names of a path ref built by parsePathRef (all path elements are strings). */
function refNames(t: VarTerm | RefTerm): string[] {
  if (t.type === 'var') return [t.name];
  return [(t.head as VarTerm).name, ...t.path.map((p) => (p.type === 'string' ? p.value : ''))];
}

/** What makes a default value non-constant, in OPA's words ("var", "ref", ...), or undefined. */
function nonConstant(t: Term): string | undefined {
  switch (t.type) {
    case 'var':
      return 'var';
    case 'ref':
      return 'ref';
    case 'call':
      return 'call';
    case 'arraycompr':
    case 'setcompr':
    case 'objectcompr':
      return 'comprehension';
    case 'array':
    case 'set':
      for (const i of t.items) {
        const bad = nonConstant(i);
        if (bad) return bad;
      }
      return undefined;
    case 'object':
      for (const [k, v] of t.items) {
        const bad = nonConstant(k) ?? nonConstant(v);
        if (bad) return bad;
      }
      return undefined;
    default:
      return undefined;
  }
}

/**
 * Runs a parse; a stack overflow from absurd nesting (thousands of `[`) becomes a parse error
 * rather than a RangeError escaping the loader.
 */
function guarded<T>(file: string, run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof RangeError) {
      throw new RegoError('rego_parse_error', 'expression nested too deeply', { file, row: 1, col: 1 });
    }
    throw e;
  }
}

/** Parses one Rego module. Throws RegoError('rego_parse_error') with a location on bad input. */
export function parseModule(text: string, file: string, opts: ParseOptions = {}): Module {
  return guarded(file, () => {
    const p = new ModuleParser(tokenize(text, file), file);
    return (opts.v0Compatible ? p.allowV0() : p).parseModule();
  });
}

/** Parses a query such as `data.t.p` or `x := 1; y = x + 1` (literals split by `;` or newlines). */
export function parseQuery(text: string, file = 'query'): Body {
  return guarded(file, () => new ModuleParser(tokenize(text, file), file).parseWholeQuery());
}

/** Parses a single term/expression (no `:=`), e.g. `{"a": [1, x]}` or `f(x) + 1`. */
export function parseTerm(text: string, file = 'term'): Term {
  return guarded(file, () => new ModuleParser(tokenize(text, file), file).parseWholeTerm());
}
