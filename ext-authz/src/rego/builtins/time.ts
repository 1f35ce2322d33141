// Builtins: time. (Placeholder until the category is written; registers nothing.)
import type { BuiltinSpec } from './registry';

export const timeBuiltins: readonly BuiltinSpec[] = [];
