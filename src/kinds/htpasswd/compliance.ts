import type { Finding } from '../../core/checks/types.js';
import type { HtpasswdDocument } from '../../core/htpasswd.js';
import { resolveIn } from '../../core/policy.js';
import type { FormatCheckContext } from '../kind.js';
import type { HtpasswdSpec } from './schema.js';

/** The user's line must exist, be bcrypt, and at no less than the policy's cost. */
export function htpasswdFormats(id: string, spec: HtpasswdSpec, { policy, parsed }: FormatCheckContext): Finding[] {
  const file = resolveIn(policy.root, spec.file);
  const doc = parsed.get(file) as HtpasswdDocument | undefined;
  if (!doc) return [];
  const entry = doc.entries.find((candidate) => candidate.user === spec.user);
  if (!entry) {
    return [
      {
        check: 'format',
        severity: 'critical',
        secret: id,
        path: file,
        message: `${id}: no line for user ${spec.user} in ${file}`,
      },
    ];
  }
  if (entry.scheme !== 'bcrypt') {
    return [
      {
        check: 'format',
        severity: 'critical',
        secret: id,
        path: `${file}:${entry.line}`,
        message: `${id}: the line for ${spec.user} uses ${entry.scheme}, not bcrypt; rotate it (secrets rotate ${id})`,
      },
    ];
  }
  if ((entry.cost ?? 0) < spec.bcrypt_cost) {
    return [
      {
        check: 'format',
        severity: 'critical',
        secret: id,
        path: `${file}:${entry.line}`,
        message: `${id}: bcrypt cost ${entry.cost} is below the policy's ${spec.bcrypt_cost}; rotate it (secrets rotate ${id})`,
      },
    ];
  }
  return [];
}
