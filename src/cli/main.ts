import { CommanderError } from 'commander';
import { ExitCode, isSecretsError, type ExitCodeValue } from '../core/errors.js';
import { maskRemembered } from '../core/secret.js';
import { CliContext } from './context.js';
import { buildProgram } from './program.js';

/**
 * Runs the CLI and returns the exit code. This is the one place that turns outcomes and errors
 * into an exit code; commands throw SecretsError or report through the context.
 */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<ExitCodeValue> {
  const ctx = new CliContext(env);
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit 0; usage errors were already printed by commander.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.failed;
    }
    if (isSecretsError(error)) {
      process.stderr.write(`secrets: ${maskRemembered(error.toLine())}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`secrets: unexpected error: ${maskRemembered(message.split('\n')[0] ?? '')}\n`);
    if (env.SECRETS_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return ExitCode.failed;
  }
}

export async function main(): Promise<void> {
  process.exitCode = await runCli(process.argv.slice(2));
}
