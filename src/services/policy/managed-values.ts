import type { FileStore } from '../../core/ports.js';
import type { Policy } from '../../core/policy.js';
import { kindOf } from '../../kinds/index.js';
import { envManagedValues } from '../../kinds/env-values.js';
import type { ManagedValue } from '../../core/scan/types.js';
import { errnoCode } from '../../core/errors.js';
import { parseDotenv } from '../../core/dotenv.js';

export interface ManagedValuesDeps {
  files: Pick<FileStore, 'readText'>;
}

async function readOptional(files: ManagedValuesDeps['files'], path: string): Promise<string | undefined> {
  try {
    return await files.readText(path);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The current values of the policy's managed secrets, for literal search: each env value, the
 * DingTalk webhook's access token on its own, and the full htpasswd line of the managed user.
 */
export async function readManagedValues(policy: Policy, deps: ManagedValuesDeps): Promise<ManagedValue[]> {
  const envText = await readOptional(deps.files, policy.envFile);
  const env = new Map(
    (envText === undefined ? [] : parseDotenv(envText, policy.envFile).entries).map((entry) => [
      entry.key,
      entry.value,
    ]),
  );
  const values: ManagedValue[] = [];
  const ctx = { policy, env, readOptional: (path: string) => readOptional(deps.files, path) };
  for (const { id, spec } of policy.secrets) {
    const kind = kindOf(spec);
    values.push(
      ...(kind.managedValues ? await kind.managedValues(id, spec, ctx) : envManagedValues(id, kind.envKeys(spec), env)),
    );
  }
  return values;
}

/** Files where managed values live by design (never reported as leaks of themselves outside git). */
export function managedValueHomes(policy: Policy): string[] {
  const homes = [policy.envFile, policy.stateDir, policy.backupDir];
  for (const { spec } of policy.secrets) homes.push(...(kindOf(spec).valueHomes?.(spec, policy) ?? []));
  return homes;
}
