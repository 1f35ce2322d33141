// Builtins: regex. (Placeholder until the category is written; registers nothing.)
import type { BuiltinSpec } from './registry';

export const regexBuiltins: readonly BuiltinSpec[] = [];
