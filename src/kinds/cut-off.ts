/**
 * What the cut-offs of `secrets revoke` share: each kind plans its own (Kind.revocation.planCutOff),
 * the rotation engine's one write path (services/rotation/apply-changes.ts) writes it.
 */
import type { Policy } from '../core/policy.js';
import type { Secret } from '../core/secret.js';
import { currentEnvValues } from './env-values.js';
import type { CurrentFiles, CutOffPlan } from './kind.js';

/** The values that are set (an empty value revokes nothing). */
export function definedValues(values: Record<string, Secret | undefined>): Record<string, Secret> {
  const result: Record<string, Secret> = {};
  for (const [key, value] of Object.entries(values)) if (value && !value.isEmpty()) result[key] = value;
  return result;
}

/**
 * A cut-off that writes nothing: the env values are recorded as revoked, and the replacement (or
 * a person) does the rest.
 */
export function recordOnlyCutOff(
  summary: string,
  files: string[],
  keys: string[],
  policy: Policy,
  current: CurrentFiles,
): CutOffPlan {
  return {
    summary,
    files,
    targets: keys,
    revoked: definedValues(currentEnvValues(policy, current, keys)),
    changes: [],
    after: [],
  };
}
