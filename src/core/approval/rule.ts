import type { Policy } from '../policy.js';
import type { ApprovalSpec } from '../policy-schema.js';

/** The policy's approval section, or undefined when it has none. */
export function approvalOf(policy: Policy): ApprovalSpec | undefined {
  return policy.doc.approval;
}

/** Whether rotating this secret needs a signed change request. */
export function needsApproval(policy: Policy, id: string): boolean {
  const approval = approvalOf(policy);
  if (!approval) return false;
  return approval.applies_to === 'all' || approval.applies_to.includes(id);
}

/** What an approved rotation records in the audit trail (details.approval of `rotated`). */
export interface ApprovalRecord {
  request: string;
  ticket: string | null;
  approvers: string[];
}

/** The recorded approval of an audit entry's details, if it has one. */
export function approvalRecordOf(details: Record<string, unknown> | undefined): ApprovalRecord | undefined {
  const value = details?.approval;
  if (!value || typeof value !== 'object') return undefined;
  const record = value as Partial<ApprovalRecord>;
  return typeof record.request === 'string' && Array.isArray(record.approvers) ? (record as ApprovalRecord) : undefined;
}
