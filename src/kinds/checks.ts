/**
 * The per-secret compliance checks of `secrets check`: the loop over the policy's secrets, each
 * asking its kind (Kind.compliance). Pure: the service reads the files and hands them in.
 */
import { basename } from 'node:path';
import type { Finding } from '../core/checks/types.js';
import { envValue, type EnvDocument } from '../core/dotenv.js';
import type { Policy } from '../core/policy.js';
import { kindOf } from './index.js';

/** A managed value that is empty or holds a placeholder is critical: the deployment runs on a dummy. */
export function checkPlaceholders(policy: Policy, env: EnvDocument | undefined): Finding[] {
  if (!env) return [];
  const findings: Finding[] = [];
  const placeholders = policy.doc.compliance.placeholders.map((text) => text.toLowerCase());
  for (const { id, spec } of policy.secrets) {
    const kind = kindOf(spec);
    for (const key of kind.envKeys(spec)) {
      const value = envValue(env, key);
      if (value === undefined) {
        // Every kind, manual included: a policy key the file lacks means the app reads another one.
        findings.push({
          check: 'placeholder',
          severity: 'critical',
          secret: id,
          path: policy.envFile,
          message: `${id}: ${key} is not in ${basename(policy.envFile)}; fix env_key in the policy if the app reads another key`,
        });
        continue;
      }
      if (value.trim() === '') {
        findings.push({
          check: 'placeholder',
          severity: 'critical',
          secret: id,
          path: policy.envFile,
          message: `${id}: ${key} is empty`,
        });
        continue;
      }
      const lower = value.toLowerCase();
      const hit = placeholders.find((placeholder) => lower.includes(placeholder.toLowerCase()));
      if (hit)
        findings.push({
          check: 'placeholder',
          severity: 'critical',
          secret: id,
          path: policy.envFile,
          message: `${id}: ${key} holds the placeholder "${hit}"; set a real value`,
        });
    }
  }
  return findings;
}

/** Values in the wrong shape: a DingTalk pair that cannot work, a short random key, a weak htpasswd line. */
export function checkFormats(
  policy: Policy,
  env: EnvDocument | undefined,
  parsed: ReadonlyMap<string, unknown>,
): Finding[] {
  const findings: Finding[] = [];
  for (const { id, spec } of policy.secrets) {
    const formats = kindOf(spec).compliance.formats;
    if (formats) findings.push(...formats(id, spec, { policy, env, parsed }));
  }
  return findings;
}
