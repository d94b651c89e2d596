import type { Policy } from '../../core/policy.js';
import { envKeysOfSecret, kindOf } from '../../kinds/index.js';
import { SecretsError } from '../../core/errors.js';
import { maskKnown, rememberValues } from '../../core/secret.js';
import { timeoutMs } from '../../core/rotation/plan.js';
import type { Deps } from '../deps.js';

/** Variables a hook never sees, besides every managed key: our own test switches. */
const ALWAYS_STRIPPED = ['SECRETS_TEST_CRASH_AT'];

/**
 * The environment hooks run with: ours, less every key the policy manages, the backup
 * passphrase variables, and anything whose value is a managed value, so no secret reaches a child's environment (/proc/PID/environ).
 */
export function hookEnvironment(
  policy: Policy,
  env: Readonly<Record<string, string | undefined>>,
  managedValues: string[] = [],
): Record<string, string> {
  const stripped = new Set(ALWAYS_STRIPPED);
  for (const { spec } of policy.secrets) {
    for (const key of envKeysOfSecret(spec)) stripped.add(key);
    // The admin URL of a database or cache kind is a credential too: no hook inherits it.
    for (const key of kindOf(spec).secretEnv?.(spec) ?? []) stripped.add(key);
  }
  // The backup passphrases are secrets too.
  // The etcd password of a fleet too: a hook has no business in the fleet's store.
  for (const key of [
    policy.doc.backup.passphrase_env,
    policy.doc.backup.key_passphrase_env,
    policy.doc.fleet?.etcd.password_env,
  ])
    if (key) stripped.add(key);
  const values = new Set(managedValues.filter((value) => value.length >= 8));
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || stripped.has(key) || values.has(value)) continue;
    result[key] = value;
  }
  return result;
}

export interface HookRun {
  command: string;
  ok: boolean;
  detail: string;
}

/**
 * Runs the after_change hooks in order, each with the secret's hook_timeout, stopping at the
 * first failure. Returns what ran; the caller decides to roll back. The commands are the
 * policy's text: no value is ever put into them.
 */
export async function runHooks(
  commands: string[],
  options: { policy: Policy; hookTimeout: string; managedValues?: string[] },
  deps: Pick<Deps, 'runner' | 'env' | 'output'>,
): Promise<HookRun[]> {
  const runs: HookRun[] = [];
  rememberValues(options.managedValues ?? []);
  const env = hookEnvironment(options.policy, deps.env, options.managedValues);
  const limit = timeoutMs(options.hookTimeout);
  for (const command of commands) {
    let run: HookRun;
    try {
      const result = await deps.runner.run(command, { cwd: options.policy.root, timeoutMs: limit, env });
      if (result.timedOut) run = { command, ok: false, detail: `timed out after ${options.hookTimeout}` };
      else if (result.code !== 0)
        run = {
          command,
          ok: false,
          detail: `exit ${result.code ?? result.signal}${lastLine(result.stderr || result.stdout)}`,
        };
      else run = { command, ok: true, detail: 'ok' };
    } catch (error) {
      run = {
        command,
        ok: false,
        detail: `could not start: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    // A hook's own output could echo a value (a `cat .env` while debugging): mask before it is shown or audited.
    run.detail = maskKnown(run.detail, options.managedValues ?? []);
    runs.push(run);
    if (!run.ok) break;
  }
  return runs;
}

function lastLine(text: string): string {
  const line = text.trim().split('\n').pop()?.trim();
  return line ? `: ${line.slice(0, 200)}` : '';
}

export function hookFailure(run: HookRun): SecretsError {
  return new SecretsError('hook-failed', `after_change hook "${run.command}" failed (${run.detail})`);
}
