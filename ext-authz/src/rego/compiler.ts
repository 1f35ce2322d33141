// Rego compiler: merges parsed modules into one data tree of rule groups, resolves imports and names,
// orders bodies for safety and runs OPA's compile-time checks (recursion, types). Runs once per policy.
import type { Body, Module, Rule, Term, VarTerm, Loc } from './ast';
import { RegoError, RegoErrors } from './errors';
import { isObject, objGet, type Value } from './value';
import type { BuiltinRegistry, BuiltinSpec } from './builtins/registry';
import { RuleCompiler, type ImportTarget, type ModuleEnv } from './compiler-terms';
import { Scope, findNode } from './compiler-scope';
import { orderBody, orderTerm, checkBound, patternSlots } from './compiler-safety';
import { hoistNegations, hoistNegationsInTerm } from './compiler-negation';
import { checkRecursion, checkTypes, checkQueryRefs } from './compiler-checks';
import { markConstants, resolveBodyRefs, resolveProgramRefs, shapeBody, shapeProgram } from './compiler-plan';
import type { CClause, CQuery, CRule, CTerm, GroupKind, Program, RuleGroup, TreeNode } from './compiler-types';

export interface CompileOptions {
  registry: BuiltinRegistry;
  core: Map<string, BuiltinSpec>;
  data?: Value;
}

interface PendingRule {
  rule: Rule;
  env: ModuleEnv;
  group: RuleGroup;
  keys: Term[];
  setLeaf: boolean;
}

function pathText(path: readonly string[]): string {
  return ['data', ...path].join('.');
}

function refText(t: Term): string {
  if (t.type === 'var') return t.name;
  if (t.type === 'ref') {
    let s = refText(t.head);
    for (const p of t.path) s += p.type === 'string' ? '.' + p.value : '[...]';
    return s;
  }
  return '?';
}

/** Splits a rule head ref into its ground (string) prefix and the remaining key terms. */
function splitHead(rule: Rule): { prefix: string[]; rest: Term[] } {
  const ref = rule.head.ref;
  if (ref.type === 'var') return { prefix: [ref.name], rest: [] };
  const prefix = [(ref.head as VarTerm).name];
  let i = 0;
  for (; i < ref.path.length; i++) {
    const p = ref.path[i];
    if (p.type !== 'string') break;
    prefix.push(p.value);
  }
  return { prefix, rest: ref.path.slice(i) };
}

function moduleEnv(m: Module, tree: TreeNode, opts: CompileOptions, errors: RegoError[]): ModuleEnv {
  const imports = new Map<string, ImportTarget>();
  const importText = new Map<string, string>();
  let v1 = m.v1;
  for (const imp of m.imports) {
    const p = imp.path;
    const head = p.type === 'var' ? p.name : (p.head as VarTerm).name;
    const rest = p.type === 'var' ? [] : p.path.map((x) => (x.type === 'string' ? x.value : ''));
    if (head === 'rego') {
      if (rest[0] === 'v1') v1 = true;
      continue;
    }
    if (head === 'future') continue;
    if (head !== 'data' && head !== 'input') {
      errors.push(new RegoError('rego_parse_error', `unexpected import path, must begin with one of: {data, future, input, rego}, got: ${head}`, imp.loc));
      continue;
    }
    const alias = imp.alias ?? (rest.length ? rest[rest.length - 1] : head);
    const text = refText(p);
    if (importText.has(alias)) {
      errors.push(new RegoError('rego_compile_error', `import must not shadow import ${importText.get(alias)}`, imp.loc));
      continue;
    }
    importText.set(alias, text);
    imports.set(alias, { root: head, path: rest });
  }
  return { pkg: m.pkg, imports, tree, registry: opts.registry, core: opts.core, v1, errors };
}

function ensureNode(root: TreeNode, path: string[]): TreeNode {
  let n = root;
  for (let i = 0; i < path.length; i++) {
    let c = n.children.get(path[i]);
    if (!c) {
      c = { path: path.slice(0, i + 1), children: new Map(), group: undefined };
      n.children.set(path[i], c);
    }
    n = c;
  }
  return n;
}

export function compileModules(modules: Module[], opts: CompileOptions): Program {
  const errors: RegoError[] = [];
  const tree: TreeNode = { path: [], children: new Map(), group: undefined };
  const groups: RuleGroup[] = [];
  const pending: PendingRule[] = [];
  const envs = modules.map((m) => moduleEnv(m, tree, opts, errors));
  // Packages exist as (possibly empty) documents even without rules.
  for (const m of modules) ensureNode(tree, m.pkg);

  modules.forEach((m, mi) => {
    for (const rule of m.rules) {
      const { prefix, rest } = splitHead(rule);
      const path = [...m.pkg, ...prefix];
      let kind: GroupKind = 'complete';
      let keys: Term[] = [];
      if (rule.head.args) kind = 'function';
      else if (rule.head.key && rule.head.value === undefined) {
        kind = 'set';
        keys = [...rest, rule.head.key];
        if (rest.length) kind = 'object';
      } else if (rest.length) {
        kind = 'object';
        keys = rest;
      }
      const node = ensureNode(tree, path);
      let g = node.group;
      if (!g) {
        g = { id: groups.length, kind, path, name: pathText(path), rules: [], defaultRule: undefined, arity: undefined, extra: undefined, constant: false };
        if (kind === 'function') g.arity = rule.head.args!.length;
        node.group = g;
        groups.push(g);
      } else if (g.kind !== kind || (kind === 'function' && g.arity !== rule.head.args!.length)) {
        errors.push(new RegoError('rego_type_error', `conflicting rules ${g.name} found`, rule.loc));
        continue;
      }
      pending.push({ rule, env: envs[mi], group: g, keys, setLeaf: kind === 'object' && !!rule.head.key && rule.head.value === undefined });
    }
  });

  // A rule may not sit where base data already has a document, nor below another rule.
  for (const g of groups) {
    let v: Value | undefined = opts.data;
    for (const p of g.path) v = v !== undefined && isObject(v) ? objGet(v, p) : undefined;
    if (v !== undefined) {
      errors.push(new RegoError('rego_compile_error', `conflicting rule for data path ${g.path.join('/')} found`, pending.find((r) => r.group === g)!.rule.loc));
    }
  }

  // Rules below another rule's path: merged into a partial object, a conflict for anything else.
  for (const g of groups) {
    const node = findNode(tree, g.path)!;
    if (node.children.size === 0) continue;
    if (g.kind === 'object') g.extra = node.children;
    else {
      const below: string[] = [];
      const walk = (n: TreeNode): void => {
        for (const c of n.children.values()) {
          if (c.group) below.push(c.group.name);
          walk(c);
        }
      };
      walk(node);
      const loc = pending.find((r) => r.group === g)!.rule.loc;
      errors.push(new RegoError('rego_type_error', `rule ${g.name} conflicts with [${below.sort().join(' ')}]`, loc));
    }
  }

  for (const pr of pending) compileRule(pr, errors);
  if (errors.length === 0) {
    checkRecursion(groups, tree, errors);
  }
  if (errors.length === 0) checkTypes(groups, tree, errors);
  if (errors.length) throw new RegoErrors(errors);
  resolveProgramRefs(groups, tree, opts.data);
  markConstants(groups, tree);
  shapeProgram(groups);
  return { tree, groups, registry: opts.registry, core: opts.core, files: modules.map((m) => m.file), data: opts.data };
}

function compileRule(pr: PendingRule, errors: RegoError[]): void {
  const { rule, env, group, keys } = pr;
  const rc = new RuleCompiler(env);
  const root = new Scope(undefined);
  rc.markArgScope(root);
  const argsAst = rule.head.args ?? [];
  for (const a of argsAst) declarePattern(rc, root, a);
  const args = argsAst.map((a) => rc.term(a, root));
  const trueTerm: Term = { type: 'boolean', value: true, loc: rule.head.loc };
  const clauses: CClause[] = [];
  let keyTerms: CTerm[] | undefined;

  // A set rule's clause value is its member term, so set rules evaluate like other clauses.
  const mainValue = group.kind === 'set' ? rule.head.key! : (rule.head.value ?? trueTerm);
  const mainScope = rc.openScope(root, rule.body, [mainValue, ...keys]);
  const mainBody = rc.body(rule.body, mainScope);
  clauses.push({ body: mainBody, value: rc.term(mainValue, mainScope), loc: rule.loc });
  if (keys.length) keyTerms = keys.map((k) => rc.term(k, mainScope));
  for (const ec of rule.elses) {
    const v = ec.value ?? trueTerm;
    const s = rc.openScope(root, ec.body, [v]);
    const body = rc.body(ec.body, s);
    clauses.push({ body, value: rc.term(v, s), loc: ec.loc });
  }

  const bound0 = patternSlots(args);
  const before = errors.length;
  clauses.forEach((c, i) => {
    const mark = errors.length;
    const after = orderBody(c.body, bound0, errors);
    const head = i === 0 && keyTerms ? [c.value, ...keyTerms] : [c.value];
    if (errors.length === mark) checkBound(head, after, errors);
    for (const t of head) orderTerm(t, after, errors);
  });
  if (errors.length === before) {
    const fresh = (): number => rc.nslots++;
    for (const c of clauses) {
      hoistNegations(c.body, fresh, false);
      hoistNegationsInTerm(c.value, fresh, false);
    }
    for (const k of keyTerms ?? []) hoistNegationsInTerm(k, fresh, false);
  }

  const cr: CRule = { clauses, args: undefined, keys: undefined, nslots: rc.nslots, loc: rule.loc, setLeaf: false, constValue: undefined };
  if (args.length || group.kind === 'function') cr.args = args;
  if (keyTerms) cr.keys = keyTerms;
  if (pr.setLeaf) cr.setLeaf = true;
  if (group.kind === 'complete' && clauses.length === 1 && clauses[0].body.length === 0 && clauses[0].value.k === 'val') {
    cr.constValue = clauses[0].value.v;
  }
  if (rule.isDefault) {
    if (group.defaultRule) {
      errors.push(new RegoError('rego_type_error', `multiple default rules ${group.name} found`, rule.loc));
    }
    group.defaultRule = cr;
  } else {
    group.rules.push(cr);
  }
}

function declarePattern(rc: RuleCompiler, s: Scope, t: Term): void {
  if (t.type === 'var') {
    if (t.name !== '_' && !s.slots.has(t.name)) rc.declare(s, t.name);
  } else if (t.type === 'array') for (const x of t.items) declarePattern(rc, s, x);
  else if (t.type === 'object') for (const [, v] of t.items) declarePattern(rc, s, v);
}

/** Compiles a query body (e.g. `data.callback.decision`) against a compiled program. */
export function compileQuery(program: Program, body: Body, loc?: Loc): CQuery {
  const errors: RegoError[] = [];
  const env: ModuleEnv = {
    pkg: ['\u0000query'],
    imports: new Map(),
    tree: program.tree,
    registry: program.registry,
    core: program.core,
    v1: true,
    errors,
  };
  const rc = new RuleCompiler(env);
  const scope = rc.openScope(undefined, body);
  const cbody = rc.body(body, scope);
  if (errors.length === 0) orderBody(cbody, new Set(), errors);
  if (errors.length === 0) checkQueryRefs(cbody, program.tree, errors);
  if (errors.length) throw new RegoErrors(errors);
  hoistNegations(cbody, () => rc.nslots++, true);
  resolveBodyRefs(cbody, program.tree, program.data);
  if (cbody.length === 0) throw new RegoError('rego_compile_error', 'empty query', loc);
  const vars: [string, number][] = [];
  for (const [name, slot] of scope.slots) if (!name.startsWith('$')) vars.push([name, slot]);
  const q: CQuery = { body: shapeBody(cbody), nslots: rc.nslots, vars };
  const only = q.body[0];
  if (cbody.length === 1 && !only.neg && !only.withs && only.e.k === 'term' && only.e.t.k !== 'call') q.single = only.e.t;
  return q;
}

