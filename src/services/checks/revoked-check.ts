import { checkRevocations } from '../../core/checks/revoked.js';
import type { Finding } from '../../core/checks/types.js';
import { readAuditEntries } from '../state/audit-trail.js';
import type { CheckInput } from '../check.js';
import type { Deps } from '../deps.js';

/** The `revoked` check of `secrets check`: revoked by `secrets revoke` and not replaced since. */
export async function checkRevokedSecrets(input: CheckInput, deps: Deps): Promise<Finding[]> {
  const { entries } = await readAuditEntries(input.policy.stateDir, deps);
  return checkRevocations(entries, new Set(input.policy.secrets.map((secret) => secret.id)));
}
