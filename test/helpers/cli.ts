import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'secrets');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real bin/secrets (built dist/) as a child process, the way cron and operators do; `--`
 * as in its #! line, so node never takes one of our options (Node 20 reads --env-file anywhere).
 */
export function runSecrets(
  args: string[],
  options: {
    cwd?: string;
    env?: Record<string, string | undefined>;
    input?: string;
    timeoutMs?: number;
    /**
     * Honour file modes even when the tests run as root (root reads a mode-000 file otherwise): run
     * as root without the two capabilities that override them, so the checkout needs no permission
     * for anyone else (CI clones into a 700 folder).
     */
    honourFileModes?: boolean;
  } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', ...options.env };
    for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
    const command = [process.execPath, '--', BIN, ...args];
    if (options.honourFileModes && process.getuid?.() === 0)
      command.unshift('setpriv', '--inh-caps=-all', '--bounding-set=-dac_override,-dac_read_search');
    const child = spawn(command[0]!, command.slice(1), {
      cwd: options.cwd ?? process.cwd(),
      env: env as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
