import type { FileStore } from '../core/ports.js';
import { envKeysOfSecret, resolveIn, type Policy } from '../core/policy.js';
import type { ManagedValue } from '../core/scan/types.js';
import { errnoCode } from '../core/errors.js';

export interface ManagedValuesDeps {
  files: Pick<FileStore, 'readText'>;
}

/**
 * Minimal dotenv reading for the scanner: KEY=value lines, optional `export`, single or
 * double quotes, `#` comments after unquoted values. (A full parser belongs to core/dotenv.)
 */
function readEnvValues(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(raw);
    if (!match) continue;
    let value = match[2]!.trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.lastIndexOf(quote) > 0) value = value.slice(1, value.lastIndexOf(quote));
    else value = value.replace(/\s+#.*$/, '');
    values.set(match[1]!, value);
  }
  return values;
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
  const env = readEnvValues((await readOptional(deps.files, policy.envFile)) ?? '');
  const values: ManagedValue[] = [];
  for (const { id, spec } of policy.secrets) {
    if (spec.kind === 'htpasswd') {
      const text = await readOptional(deps.files, resolveIn(policy.root, spec.file));
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
