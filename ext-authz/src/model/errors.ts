// The service's coded-error base: start-up, admin and client failures are subclasses with a
// union of stable codes, and tests assert the code, never the prose. Request-path failures are not
// thrown at all: they become deny decisions with a reason code (pipeline/reasons.ts). The Rego engine
// keeps its own hierarchy (rego/errors.ts) because its codes are OPA's.
export abstract class CodedError<C extends string = string> extends Error {
  readonly code: C;

  constructor(code: C, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * The errno code of a failed file or socket call (`ENOENT`, `EACCES`, …), else `fallback`: messages
 * about unreadable files say why with it, and never quote the file's content.
 */
export function errnoCode(e: unknown, fallback = 'error'): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9_]+$/.test(code) ? code : fallback;
}
