import type { FileStore } from '../../core/ports.js';
import { envKeysOfSecret, resolveIn, type Policy } from '../../core/policy.js';
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
  for (const { id, spec } of policy.secrets) {
    if (spec.kind === 'htpasswd') {
      const text = await deps.files.readTextIfExists(resolveIn(policy.root, spec.file));
      const line = text?.split(/\r?\n/).find((entry) => entry.startsWith(`${spec.user}:`));
      if (line) values.push({ id, value: line.trim() });
      continue;
    }
    for (const key of envKeysOfSecret(spec)) {
      const value = env.get(key);
      if (!value) continue;
      values.push({ id, value });
      const token = /[?&]access_token=([^&#\s]+)/.exec(value)?.[1];
      if (spec.kind === 'dingtalk' && token) values.push({ id, value: token });
    }
  }
  return values;
}

/** Files where managed values live by design (never reported as leaks of themselves outside git). */
export function managedValueHomes(policy: Policy): string[] {
  const homes = [policy.envFile, policy.stateDir, policy.backupDir];
  for (const { spec } of policy.secrets) if (spec.kind === 'htpasswd') homes.push(resolveIn(policy.root, spec.file));
  return homes;
}
