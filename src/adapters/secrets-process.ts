import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SecretsError } from '../core/errors.js';

export interface SecretsProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * bin/secrets of this installation. Built code sits two folders below the package root
 * (dist/cli-bundle/, dist/adapters/) as does this source file (src/adapters/), so one relative
 * path finds it; else the script node was started with.
 */
function secretsExecutable(): string {
  const beside = fileURLToPath(new URL('../../bin/secrets', import.meta.url));
  return existsSync(beside) ? beside : (process.argv[1] ?? beside);
}

/**
 * Runs `secrets ARGS` in a child process with exactly `env` (nothing else of ours leaks in) and
 * `input` on standard input, the way an operator's shell would. `signal` stops it (Ctrl+C).
 */
export function runSecretsProcess(
  args: string[],
  options: { cwd: string; env: Record<string, string>; input?: string; signal?: AbortSignal },
): Promise<SecretsProcessResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(new SecretsError('interrupted', 'interrupted'));
    const child = spawn(process.execPath, ['--', secretsExecutable(), ...args], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const stop = () => child.kill('SIGTERM');
    options.signal?.addEventListener('abort', stop, { once: true });
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', (error) => {
      options.signal?.removeEventListener('abort', stop);
      reject(error);
    });
    child.on('close', (code) => {
      options.signal?.removeEventListener('abort', stop);
      resolve({ code, stdout, stderr });
    });
    // A child that exits before reading its input must not crash us with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}
