// Registry load errors: one class, a union of codes, messages that name the file and the field
// path (`registry.yaml: connections[0].stage: …`) and never a secret value.
import { CodedError } from '../model/errors';

export type ConfigErrorCode = 'config_invalid' | 'config_unreadable' | 'config_yaml';

export interface ConfigIssue {
  /** `connections[0].stage` */
  path: string;
  message: string;
}

export class ConfigError extends CodedError<ConfigErrorCode> {
  readonly file: string;
  readonly issues: ConfigIssue[];

  constructor(code: ConfigErrorCode, file: string, issues: ConfigIssue[]) {
    super(code, issues.map((i) => (i.path ? `${file}: ${i.path}: ${i.message}` : `${file}: ${i.message}`)).join('\n'));
    this.file = file;
    this.issues = issues;
  }
}

/** `['connections', 0, 'stage']` → `connections[0].stage` */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}
