import { join } from 'node:path';
import type { AuditEntry, AuditVerification } from '../core/audit.js';
import { findSecret, type Policy } from '../core/policy.js';
import { AUDIT_FILE, readAuditEntries, verifyAuditTrail } from './state/audit-trail.js';
import type { Deps } from './deps.js';

export interface LogOutcome {
  path: string;
  entries: AuditEntry[];
  verification?: AuditVerification;
}

/** `secrets log`: the trail, optionally filtered to one secret, and with --verify its chain check. */
export async function runLog(
  input: { policy: Policy; secret?: string; verify: boolean },
  deps: Deps,
): Promise<LogOutcome> {
  const path = join(input.policy.stateDir, AUDIT_FILE);
  const { entries } = await readAuditEntries(input.policy.stateDir, deps);
  const shown = input.secret ? entries.filter((entry) => entry.secret === input.secret) : entries;
  // A typo'd id would print an empty log that reads as "never touched"; a secret since removed
  // from the policy still shows its history.
  if (input.secret && shown.length === 0) findSecret(input.policy, input.secret);
  return {
    path,
    entries: shown,
    ...(input.verify ? { verification: await verifyAuditTrail(input.policy.stateDir, deps) } : {}),
  };
}
