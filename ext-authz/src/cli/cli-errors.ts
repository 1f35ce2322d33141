// CLI exit codes and the one error type commands throw for "tell the user and exit" (no stack traces).
// Every command keeps to the same three codes (docs/operations.md, "Exit codes"):
//   0  ok: it did what was asked, and the answer is yes (allow, valid, all tests pass, written);
//   1  it ran, and the answer is no (deny, invalid registry, lint findings, failing tests, refused);
//   2  it could not run: bad usage, an unreadable or unparseable input, a failed start-up.
import { CodedError } from '../model/errors';

export const EXIT_OK = 0;
/** The check ran and failed: `check` denied, `config validate` found a problem, a test failed. */
export const EXIT_DENY_OR_INVALID = 1;
/** Bad usage, an unreadable input, or a start-up failure (bad policy, port in use). */
export const EXIT_USAGE = 2;

export type CliErrorCode = 'cli_usage' | 'cli_input' | 'cli_startup' | 'cli_remote';

export class CliError extends CodedError<CliErrorCode> {
  readonly exitCode: number;
  constructor(code: CliErrorCode, message: string, exitCode: number = EXIT_USAGE) {
    super(code, message);
    this.exitCode = exitCode;
  }
}

/** What 0, 1 and 2 mean for one command, for its --help (2 defaults to the general meaning). */
export interface ExitCodeMeanings {
  ok: string;
  failed?: string;
  usage?: string;
}

/** The "Exit codes:" paragraph every command's --help ends with. */
export function exitCodesHelp(m: ExitCodeMeanings): string {
  const parts = [`0 ${m.ok}`];
  if (m.failed) parts.push(`1 ${m.failed}`);
  parts.push(`2 ${m.usage ?? 'bad usage or an unreadable input'}`);
  return `\nExit codes: ${parts.join('; ')}.`;
}

/** A one-line description of a start-up error: coded errors keep their code, others their name. */
export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${e.message}` : `${e.name}: ${e.message}`;
  }
  return String(e);
}
