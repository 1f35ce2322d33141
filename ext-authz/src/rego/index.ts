// Public surface of the TypeScript Rego engine (issue #2): compile modules once, prepare queries once,
// evaluate many times. Everything else in rego/ is internal and imported only through this file.
export { compilePolicy, DEFAULT_MAX_STEPS } from './compiler-policy';
export type {
  PolicyModule, CompilePolicyOptions, EvaluateOptions, EvalResult, Bindings, PreparedQuery, TestRule, CompiledPolicy,
} from './compiler-policy';
export { RegoError, RegoErrors, BuiltinError } from './errors';
export type { RegoErrorCode } from './errors';
export { REGO_ERROR_CODES } from './errors';
export { toJSON, fromJSON, compare, equals, RegoSet, RegoObject, typeName } from './value';
export type { Value } from './value';
export { parseModule, parseQuery } from './parser';
export type { Module, Loc } from './ast';
export { defaultRegistry, BuiltinRegistry } from './builtins/index';
export type { BuiltinSpec, BuiltinContext } from './builtins/index';
export { runCases, runCase, loadCases, summarize, runOpaSuite } from './conformance';
export type { CaseResult, ConformanceCase, ConformanceSummary, OpaSuiteReport } from './conformance';
