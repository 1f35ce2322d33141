// CLI exit codes and the one error type commands throw for "tell the user and exit" (no stack traces).
import { CodedError } from '../model/errors';
export const EXIT_OK = 0;
/** `check` denied, `config validate` found a problem. */
export const EXIT_DENY_OR_INVALID = 1;
/** Bad usage or a start-up failure (unreadable file, bad policy, port in use). */
export const EXIT_USAGE = 2;

export type CliErrorCode = 'cli_usage' | 'cli_input' | 'cli_startup' | 'cli_remote';

export class CliError extends CodedError<CliErrorCode> {
  readonly exitCode: number;
  constructor(code: CliErrorCode, message: string, exitCode: number = EXIT_USAGE) {
    super(code, message);
    this.exitCode = exitCode;
  }
}

/** A one-line description of a start-up error: coded errors keep their code, others their name. */
export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${e.message}` : `${e.name}: ${e.message}`;
  }
  return String(e);
}
