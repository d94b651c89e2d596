import { basename, extname, relative } from 'node:path';
import type { ApproverKey } from '../../core/approval/decision.js';
import { approvalOf } from '../../core/approval/rule.js';
import { SecretsError, isSecretsError } from '../../core/errors.js';
import { resolveIn, type Policy } from '../../core/policy.js';
import type { Pgp } from '../../core/ports.js';
import type { Deps } from '../deps.js';

export interface PinnedApprover extends ApproverKey {
  armored: string;
}

/** The policy's pinned approver keys, read and described. An unreadable file stops the command (exit 3). */
export async function loadApprovers(policy: Policy, pgp: Pgp, deps: Pick<Deps, 'files'>): Promise<PinnedApprover[]> {
  const approval = approvalOf(policy);
  if (!approval) return [];
  const keys: PinnedApprover[] = [];
  for (const listed of approval.approvers) {
    const file = resolveIn(policy.root, listed);
    const shown = relative(policy.root, file) || file;
    let armored: string;
    try {
      armored = await deps.files.readText(file);
    } catch {
      throw new SecretsError('approver-key-missing', 'cannot read this approver key (listed in approval.approvers)', {
        where: shown,
      });
    }
    try {
      const facts = await pgp.readApproverKey(armored);
      keys.push({ ...facts, label: basename(file, extname(file)), file: shown, armored });
    } catch (error) {
      if (isSecretsError(error))
        throw new SecretsError(error.code, error.message, {
          where: shown,
          ...(error.hint ? { hint: error.hint } : {}),
        });
      throw error;
    }
  }
  return keys;
}
