import type { FileStore } from '../../core/ports.js';
import type { Policy } from '../../core/policy.js';
import { rememberValues } from '../../core/secret.js';
import { kindOf } from '../../kinds/index.js';
import { envManagedValues } from '../../kinds/env-values.js';
import type { ManagedValue } from '../../core/scan/types.js';
import { parseDotenv } from '../../core/dotenv.js';

export interface ManagedValuesDeps {
  files: Pick<FileStore, 'readTextIfExists'>;
}

/**
 * The current values of the policy's managed secrets, for literal search: each env value, the
 * DingTalk webhook's access token on its own, and the full htpasswd line of the managed user.
 */
export async function readManagedValues(policy: Policy, deps: ManagedValuesDeps): Promise<ManagedValue[]> {
  const envText = await deps.files.readTextIfExists(policy.envFile);
  const env = new Map(
    (envText === undefined ? [] : parseDotenv(envText, policy.envFile).entries).map((entry) => [
      entry.key,
      entry.value,
    ]),
  );
  const values: ManagedValue[] = [];
  const ctx = { policy, env, readTextIfExists: (path: string) => deps.files.readTextIfExists(path) };
  for (const { id, spec } of policy.secrets) {
    const kind = kindOf(spec);
    values.push(
      ...(kind.managedValues ? await kind.managedValues(id, spec, ctx) : envManagedValues(id, kind.envKeys(spec), env)),
    );
  }
  rememberValues(values.map((entry) => entry.value));
  return values;
}

/** Files where managed values live by design (never reported as leaks of themselves outside git). */
export function managedValueHomes(policy: Policy): string[] {
  const homes = [policy.envFile, policy.stateDir, policy.backupDir];
  for (const { spec } of policy.secrets) homes.push(...(kindOf(spec).valueHomes?.(spec, policy) ?? []));
  return homes;
}
