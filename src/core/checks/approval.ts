import type { ApproverKey } from '../approval/decision.js';
import { approvalRecordOf } from '../approval/rule.js';
import type { AuditEntry } from '../audit.js';
import { addDuration, type Duration } from '../duration.js';
import type { Finding } from './types.js';

const day = (date: Date) => date.toISOString().slice(0, 10);

export interface ApprovalCheckInput {
  entries: readonly AuditEntry[];
  /** Whether a secret is under approval.applies_to. */
  guarded: (id: string) => boolean;
  knownSecrets: ReadonlySet<string>;
  approvers: ApproverKey[];
  warnBefore: Duration;
  now: Date;
}

/**
 * The `approval` check: approver keys that are revoked, expired or expire within warn_before;
 * revocations still awaiting their post-incident approval (critical); and secrets under
 * applies_to whose last rotation carried no approval (warning).
 */
export function checkApprovals(input: ApprovalCheckInput): Finding[] {
  const findings: Finding[] = [];
  const soon = addDuration(input.now, input.warnBefore);
  for (const key of input.approvers) {
    const who = `approver key ${key.file} (${key.label}, ${key.fingerprint.toUpperCase()})`;
    if (key.revoked)
      findings.push({
        check: 'approval',
        severity: 'critical',
        path: key.file,
        message: `${who} was revoked ${day(key.revoked)}: its signatures no longer count; replace it in approval.approvers`,
      });
    else if (key.expires && key.expires <= input.now)
      findings.push({
        check: 'approval',
        severity: 'critical',
        path: key.file,
        message: `${who} expired ${day(key.expires)}: its signatures no longer count; extend it (gpg --quick-set-expire) and export it again`,
      });
    else if (key.expires && key.expires <= soon)
      findings.push({
        check: 'approval',
        severity: 'warning',
        path: key.file,
        message: `${who} expires ${day(key.expires)}: extend it (gpg --quick-set-expire) and export it again`,
      });
  }

  const approvedAfter = new Set<number>();
  for (const entry of input.entries)
    if (entry.action === 'approved-after' && typeof entry.details?.revocation === 'number')
      approvedAfter.add(entry.details.revocation);
  const lastRotated = new Map<string, AuditEntry>();
  for (const entry of input.entries) {
    if (!entry.secret || !input.knownSecrets.has(entry.secret)) continue;
    if (entry.action === 'revoked' && entry.details?.approval === 'pending' && !approvedAfter.has(entry.seq))
      findings.push({
        check: 'approval',
        severity: 'critical',
        secret: entry.secret,
        message: `${entry.secret} was revoked on ${entry.time.slice(0, 10)} (audit #${entry.seq}) without approval: a pinned approver records it with secrets approve --after ${entry.seq} --key KEY`,
      });
    if (entry.action === 'rotated') lastRotated.set(entry.secret, entry);
  }
  for (const [secret, entry] of lastRotated) {
    if (!input.guarded(secret)) continue;
    // A rotation that replaced a revoked value is covered by that revocation's approval.
    if (approvalRecordOf(entry.details) || typeof entry.details?.revocation === 'number') continue;
    findings.push({
      check: 'approval',
      severity: 'warning',
      secret,
      message: `${secret} was last rotated on ${entry.time.slice(0, 10)} (audit #${entry.seq}) without an approval, though approval.applies_to covers it`,
    });
  }
  return findings;
}
