import { CommanderError } from 'commander';
import { ExitCode, isSecretsError, type ErrorJson, type ExitCodeValue } from '../core/errors.js';
import { maskRemembered } from '../core/secret.js';
import { CliContext } from './context.js';
import { buildProgram } from './program.js';

/**
 * Runs the CLI and returns the exit code. This is the one place that turns outcomes and errors
 * into an exit code; commands throw SecretsError or report through the context. Every error is
 * printed with its code (`secrets: [env-syntax] .env:4: …`), and with --json also as the `error`
 * of the one JSON document on stdout.
 */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<ExitCodeValue> {
  const ctx = new CliContext(env);
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    if (ctx.jsonOut !== undefined) process.stdout.write(maskRemembered(ctx.jsonOut));
    return ctx.exitCode;
  } catch (error) {
    const failure = describeFailure(error, env);
    if (!failure) return ExitCode.ok; // --help, --version
    if (ctx.jsonOut !== undefined || wantsJson(argv))
      process.stdout.write(maskRemembered(jsonFailure(ctx.jsonOut ?? '', failure)));
    return failure.exitCode;
  }
}

/** Prints the error line to stderr and returns what --json reports; undefined for --help and --version. */
function describeFailure(error: unknown, env: NodeJS.ProcessEnv): ErrorJson | undefined {
  if (error instanceof CommanderError) {
    // --help and --version end here with exit 0; usage errors were already printed by commander.
    if (error.exitCode === 0) return undefined;
    const message = error.message.replace(/^error: /, '');
    return { code: 'usage', message, where: null, hint: null, exitCode: ExitCode.failed };
  }
  if (isSecretsError(error)) {
    process.stderr.write(`secrets: ${maskRemembered(error.toLine())}\n`);
    const json = error.toJson();
    return {
      ...json,
      message: maskRemembered(json.message),
      ...(json.hint ? { hint: maskRemembered(json.hint) } : {}),
    };
  }
  // Whatever an unexpected error quotes (a server's answer, a path) passes the mask of known values.
  const message = maskRemembered((error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '');
  process.stderr.write(`secrets: [unexpected] ${message}\n`);
  if (env.SECRETS_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return { code: 'unexpected', message, where: null, hint: null, exitCode: ExitCode.failed };
}

/**
 * The one JSON document of a failed --json run: what the command had printed (a partial outcome,
 * e.g. the secrets rotated before one failed) with `error` added, or the error alone.
 */
function jsonFailure(printed: string, error: ErrorJson): string {
  let document: Record<string, unknown> = {};
  if (printed.trim() !== '') {
    try {
      const value: unknown = JSON.parse(printed);
      document = value && typeof value === 'object' && !Array.isArray(value) ? { ...value } : { result: value };
    } catch {
      // Not JSON (a bug of the command): keep it readable on stderr rather than corrupt stdout.
      process.stderr.write(printed);
    }
  }
  return `${JSON.stringify({ ...document, error }, null, 2)}\n`;
}

/** --json among the global options, for failures before a command ran (usage errors). */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

export async function main(): Promise<void> {
  // `secrets check --help | head`: the reader went away; what was left unprinted has no reader, so
  // stop quietly instead of dying on an unhandled EPIPE with a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    // An errno code, not one of ours: named `streamError` so the catalogue test does not read it as one.
    stream.on('error', (streamError: NodeJS.ErrnoException) => {
      if (streamError.code !== 'EPIPE') throw streamError;
      process.exit(process.exitCode ?? 0);
    });
  }
  process.exitCode = await runCli(process.argv.slice(2));
}
