import { approvalOf, needsApproval } from '../../core/approval/rule.js';
import { checkApprovals } from '../../core/checks/approval.js';
import type { Finding } from '../../core/checks/types.js';
import { parseDuration } from '../../core/duration.js';
import { isSecretsError } from '../../core/errors.js';
import type { CheckInput } from '../check.js';
import type { Deps } from '../deps.js';
import { loadApprovers } from '../approval/approvers.js';
import { readAuditEntries } from '../state/audit-trail.js';

/**
 * The `approval` check of `secrets check`. OpenPGP is loaded only when the policy has an
 * approval: section, so a daily check without one pays nothing for it.
 */
export async function checkApprovalState(input: CheckInput, deps: Deps): Promise<Finding[]> {
  const { policy } = input;
  const approval = approvalOf(policy);
  if (!approval) return [];
  const { entries } = await readAuditEntries(policy.stateDir, deps);
  let approvers;
  try {
    approvers = await loadApprovers(policy, await deps.loadPgp(), deps);
  } catch (error) {
    if (!isSecretsError(error)) throw error;
    return [
      {
        check: 'approval',
        severity: 'critical',
        ...(error.where ? { path: error.where } : {}),
        message: `${error.toLine()}: no rotation under approval can be approved until it is fixed`,
      },
    ];
  }
  return checkApprovals({
    entries,
    guarded: (id) => needsApproval(policy, id),
    knownSecrets: new Set(policy.secrets.map((secret) => secret.id)),
    approvers,
    warnBefore: parseDuration(approval.warn_before)!,
    now: input.now,
  });
}
