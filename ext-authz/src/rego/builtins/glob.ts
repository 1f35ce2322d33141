// Builtins: glob. (Placeholder until the category is written; registers nothing.)
import type { BuiltinSpec } from './registry';

export const globBuiltins: readonly BuiltinSpec[] = [];
