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

export interface SecretsErrorOptions {
  /** 3 (nothing changed, the default) or 4 (a human must act). */
  exitCode?: typeof ExitCode.failed | typeof ExitCode.mustAct;
  /** file:line:col or file, when the problem has a place. */
  where?: string;
  /** What to do next, in one short sentence. */
  hint?: string;
  cause?: unknown;
}

/**
 * The one error type commands throw. It carries a stable code (for scripts and docs),
 * the exit code, the place and a remedy. Messages never contain secret values.
 */
export class SecretsError extends Error {
  readonly code: string;
  readonly exitCode: typeof ExitCode.failed | typeof ExitCode.mustAct;
  readonly where: string | undefined;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: SecretsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SecretsError';
    this.code = code;
    this.exitCode = options.exitCode ?? ExitCode.failed;
    this.where = options.where;
    this.hint = options.hint;
  }

  /** The single line printed to stderr: `where: message (hint)`. */
  toLine(): string {
    const place = this.where ? `${this.where}: ` : '';
    const hint = this.hint ? ` (${this.hint})` : '';
    return `${place}${this.message}${hint}`;
  }
}

export function isSecretsError(value: unknown): value is SecretsError {
  return value instanceof SecretsError;
}

/** Node's errno errors, narrowed. */
export function errnoCode(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error && typeof (error as { code: unknown }).code === 'string') {
    return (error as { code: string }).code;
  }
  return undefined;
}
