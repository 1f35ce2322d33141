// Builtins: semver. (Placeholder until the category is written; registers nothing.)
import type { BuiltinSpec } from './registry';

export const semverBuiltins: readonly BuiltinSpec[] = [];
