import type { Finding } from '../../core/checks/types.js';
import { dingtalkSecretProblem, dingtalkUrlProblem } from '../../core/checks/compliance.js';
import { envValue } from '../../core/dotenv.js';
import type { FormatCheckContext } from '../kind.js';
import type { DingtalkSpec } from './schema.js';

/** A pair that cannot work: a URL that is no robot webhook, a secret that is no SEC… signing secret. */
export function dingtalkFormats(id: string, spec: DingtalkSpec, { policy, env }: FormatCheckContext): Finding[] {
  if (!env) return [];
  const findings: Finding[] = [];
  const url = envValue(env, spec.url_key);
  if (url) {
    const problem = dingtalkUrlProblem(url);
    if (problem)
      findings.push({
        check: 'format',
        severity: 'critical',
        secret: id,
        path: policy.envFile,
        message: `${id}: ${spec.url_key} is not a DingTalk robot URL (${problem})`,
      });
  }
  const secret = spec.secret_key ? envValue(env, spec.secret_key) : undefined;
  if (spec.secret_key && secret) {
    const problem = dingtalkSecretProblem(secret);
    if (problem)
      findings.push({
        check: 'format',
        severity: 'critical',
        secret: id,
        path: policy.envFile,
        message: `${id}: ${spec.secret_key} is not a DingTalk signing secret (${problem})`,
      });
  }
  return findings;
}
