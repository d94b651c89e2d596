/** The env file as the env kinds (dingtalk, random, manual) read and write it. */
import type { Finding } from '../core/checks/types.js';
import { envValue, parseDotenv, setDotenvValues, type EnvDocument } from '../core/dotenv.js';
import { SecretsError } from '../core/errors.js';
import { Secret } from '../core/secret.js';
import type { Policy } from '../core/policy.js';
import type { ManagedValue } from '../core/scan/types.js';
import type { CurrentFiles, FileChange, RotationContext } from './kind.js';

/** The current values of `keys` in the env file (undefined when missing or unreadable). */
export function currentEnvValues(
  policy: Policy,
  current: CurrentFiles,
  keys: string[],
): Record<string, Secret | undefined> {
  const text = current.get(policy.envFile);
  const result: Record<string, Secret | undefined> = {};
  let doc;
  try {
    doc = text === undefined ? undefined : parseDotenv(text, policy.envFile);
  } catch {
    doc = undefined;
  }
  for (const key of keys) {
    const value = doc ? envValue(doc, key) : undefined;
    result[key] = value === undefined ? undefined : Secret.known(value);
  }
  return result;
}

/** The env file with `values` set in place (format kept byte for byte, see core/dotenv.ts). */
export function planEnvChange(policy: Policy, current: CurrentFiles, values: Record<string, Secret>): FileChange[] {
  const text = current.get(policy.envFile);
  if (text === undefined) {
    throw new SecretsError(
      'env-missing',
      'the env file does not exist; create it (mode 600) with the managed keys first',
      { where: policy.envFile },
    );
  }
  const doc = parseDotenv(text, policy.envFile);
  return [{ path: policy.envFile, content: setDotenvValues(doc, values, policy.envFile) }];
}

export interface AskedValue {
  /** The env key; also the name expected on standard input. */
  key: string;
  /** What the prompt asks for ("the new robot's webhook URL"). */
  label: string;
  /** Hidden prompt asked twice (a typo in a secret would only show at the test send). */
  twice: boolean;
  /** Why a value is not acceptable, or undefined; checked before anything is sent. */
  problem(value: string): string | undefined;
}

/**
 * New values from the operator: hidden prompts on a terminal, otherwise standard input in
 * dotenv form with the policy's key names (`DINGTALK_WEBHOOK_URL=...`). Never argv or env:
 * `ps` and shell history would keep them.
 */
export async function askNewValues(ctx: RotationContext, asked: AskedValue[]): Promise<Record<string, Secret>> {
  const values: Record<string, Secret> = {};
  const { deps } = ctx;
  if (deps.interactive) {
    for (const item of asked) {
      const first = await deps.prompts.password(`${ctx.id}: ${item.label} (${item.key}, hidden)`);
      if (item.twice) {
        const again = await deps.prompts.password(`${ctx.id}: ${item.label} again`);
        if (again !== first)
          throw new SecretsError('values-differ', `the two entries of ${item.key} differ; nothing was changed`);
      }
      values[item.key] = Secret.known(first.trim());
    }
  } else {
    const text = await deps.readStdin();
    if (text.trim() === '') {
      throw new SecretsError('no-input', `${ctx.id}: no terminal to ask on and nothing on standard input`, {
        hint: `pipe the new values in dotenv form: ${asked.map((item) => `${item.key}=...`).join(' and ')}, one a line`,
      });
    }
    const doc = parseDotenv(text, '<stdin>');
    for (const item of asked) {
      const value = envValue(doc, item.key);
      if (value === undefined)
        throw new SecretsError('no-input', `${ctx.id}: standard input lacks ${item.key}=...`, { where: '<stdin>' });
      values[item.key] = Secret.known(value.trim());
    }
  }
  for (const item of asked) {
    const problem = item.problem(values[item.key]!.reveal());
    if (problem)
      throw new SecretsError(
        'bad-value',
        `${ctx.id}: the new ${item.key} is not acceptable: ${problem}; nothing was changed`,
      );
  }
  return values;
}

/** A value of an env kind shorter than the policy allows: a critical finding of `secrets check`. */
export function minLengthFindings(
  id: string,
  key: string,
  minimum: number | undefined,
  ctx: { policy: Policy; env: EnvDocument | undefined },
): Finding[] {
  if (!ctx.env) return [];
  const value = envValue(ctx.env, key);
  if (!value || minimum === undefined || value.length >= minimum) return [];
  return [
    {
      check: 'format',
      severity: 'critical',
      secret: id,
      path: ctx.policy.envFile,
      message: `${id}: ${key} has ${value.length} characters; the policy asks for at least ${minimum}`,
    },
  ];
}

/** The current values of a secret's env keys, for the literal leak search. */
export function envManagedValues(id: string, keys: string[], env: ReadonlyMap<string, string>): ManagedValue[] {
  const values: ManagedValue[] = [];
  for (const key of keys) {
    const value = env.get(key);
    if (value) values.push({ id, value });
  }
  return values;
}
