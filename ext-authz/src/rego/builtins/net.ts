// Builtins: net. (Placeholder until the category is written; registers nothing.)
import type { BuiltinSpec } from './registry';

export const netBuiltins: readonly BuiltinSpec[] = [];
