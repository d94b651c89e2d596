import { errorCatalogue, type ErrorCode, type ExitOf } from './error-catalogue.js';

export { errorCatalogue, type ErrorCode } from './error-catalogue.js';

/**
 * Exit codes shared by every command (Nagios-style, so monitoring can read them).
 * Only src/cli/main.ts turns one of these into the process exit code.
 */
export const ExitCode = {
  ok: 0,
  warning: 1,
  critical: 2,
  /** Could not run, or failed with nothing changed. */
  failed: 3,
  /** Failed part-way and could not roll back: a human must act. */
  mustAct: 4,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface SecretsErrorOptions<C extends ErrorCode = ErrorCode> {
  /**
   * The catalogue's exit code for this code, if a site wants to say it; any other value fails
   * typecheck: a failure with another exit code is another code (src/core/error-catalogue.ts).
   */
  exitCode?: ExitOf<C>;
  /** file:line:col or file, when the problem has a place. */
  where?: string;
  /** What to do next, in one short sentence. */
  hint?: string;
  cause?: unknown;
}

/** An error as `--json` prints it: `where` is file:line[:col] or a file when known, else null. */
export interface ErrorJson {
  code: ErrorCode;
  message: string;
  where: string | null;
  hint: string | null;
  exitCode: ExitCodeValue;
}

/**
 * The one error type commands throw. It carries a stable code from the catalogue (for scripts
 * and docs), the exit code the catalogue gives that code, the place and a remedy. Messages never
 * contain secret values.
 */
export class SecretsError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly exitCode: ExitOf<C>;
  readonly where: string | undefined;
  readonly hint: string | undefined;

  constructor(code: C, message: string, options: SecretsErrorOptions<C> = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SecretsError';
    this.code = code;
    this.exitCode = errorCatalogue[code].exit as ExitOf<C>;
    this.where = options.where;
    this.hint = options.hint;
  }

  /** The single line printed to stderr: `[code] where: message (hint)`. */
  toLine(): string {
    return `[${this.code}] ${this.describe()}`;
  }

  /** What `--json` prints under `error` (docs/errors.md). */
  toJson(): ErrorJson {
    return {
      code: this.code,
      message: this.message,
      where: this.where ?? null,
      hint: this.hint ?? null,
      exitCode: this.exitCode,
    };
  }

  /** The line without its code, for a message that quotes another error: `where: message (hint)`. */
  describe(): string {
    const place = this.where ? `${this.where}: ` : '';
    const hint = this.hint ? ` (${this.hint})` : '';
    return `${place}${this.message}${hint}`;
  }
}

/** Narrows to a SecretsError, and with a code to that code (a typo'd code fails typecheck). */
export function isSecretsError(value: unknown): value is SecretsError;
export function isSecretsError<C extends ErrorCode>(value: unknown, code: C): value is SecretsError<C>;
export function isSecretsError(value: unknown, code?: ErrorCode): boolean {
  return value instanceof SecretsError && (code === undefined || value.code === code);
}

/** Node's errno errors, narrowed. */
export function errnoCode(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error && typeof (error as { code: unknown }).code === 'string') {
    return (error as { code: string }).code;
  }
  return undefined;
}
