// Coded Rego errors. Codes are OPA's (they are what the conformance corpus compares); messages are
// ours unless a test needs OPA's exact wording. Location is file:row:col where known.
import type { Loc } from './ast';

export type RegoErrorCode =
  | 'rego_parse_error'
  | 'rego_compile_error'
  | 'rego_type_error'
  | 'rego_unsafe_var_error'
  | 'rego_recursion_error'
  | 'eval_conflict_error'
  | 'eval_type_error'
  | 'eval_builtin_error'
  | 'eval_cancel_error'
  /** Our own: the step or time budget of one evaluation ran out. */
  | 'eval_budget_exceeded';

export const REGO_ERROR_CODES: readonly RegoErrorCode[] = [
  'rego_parse_error',
  'rego_compile_error',
  'rego_type_error',
  'rego_unsafe_var_error',
  'rego_recursion_error',
  'eval_conflict_error',
  'eval_type_error',
  'eval_builtin_error',
  'eval_cancel_error',
  'eval_budget_exceeded',
];

export class RegoError extends Error {
  readonly code: RegoErrorCode;
  readonly loc: Loc | undefined;

  constructor(code: RegoErrorCode, message: string, loc?: Loc) {
    super(message);
    this.name = 'RegoError';
    this.code = code;
    this.loc = loc;
  }

  /** `file:row:col: code: message`, like OPA's text output. */
  override toString(): string {
    const where = this.loc ? `${this.loc.file}:${this.loc.row}:${this.loc.col}: ` : '';
    return `${where}${this.code}: ${this.message}`;
  }
}

/** Several compile errors reported together; `errors[0]` is the first by file, row, col, message. */
export class RegoErrors extends RegoError {
  readonly errors: RegoError[];

  constructor(errors: RegoError[]) {
    const sorted = [...errors].sort(compareErrors);
    super(sorted[0].code, sorted[0].message, sorted[0].loc);
    this.name = 'RegoErrors';
    this.errors = sorted;
  }
}

function compareErrors(a: RegoError, b: RegoError): number {
  const la = a.loc;
  const lb = b.loc;
  if (la && lb) {
    if (la.file !== lb.file) return la.file < lb.file ? -1 : 1;
    if (la.row !== lb.row) return la.row - lb.row;
    if (la.col !== lb.col) return la.col - lb.col;
  }
  return a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
}

/**
 * Thrown by builtins. `type` errors are operand type errors (eval_type_error), the rest are
 * eval_builtin_error. In non-strict mode the interpreter turns both into "undefined".
 */
export class BuiltinError extends Error {
  readonly kind: 'type' | 'builtin';
  constructor(message: string, kind: 'type' | 'builtin' = 'builtin') {
    super(message);
    this.name = 'BuiltinError';
    this.kind = kind;
  }
}

/** Errors a builtin raises no matter the strict flag (e.g. conflicts surfaced through a call). */
export class BuiltinHaltError extends Error {
  constructor(readonly regoError: RegoError) {
    super(regoError.message);
    this.name = 'BuiltinHaltError';
  }
}
