import type { Policy } from '../../core/policy.js';
import { fingerprint, type Secret } from '../../core/secret.js';
import type { Deps } from '../deps.js';
import { fingerprintKey, readAuditEntries } from '../state/audit-trail.js';

/**
 * Whether the audit trail has seen `value` for secret `id` (as a new or a replaced value): the
 * fingerprints are keyed HMACs, so the comparison never needs a stored value.
 */
export async function seenBefore(policy: Policy, id: string, value: Secret, deps: Deps): Promise<boolean> {
  const seen = new Set<string>();
  const collect = (item: unknown): void => {
    if (typeof item === 'string' && item.startsWith('hmac-sha256:')) seen.add(item);
    else if (item && typeof item === 'object') for (const inner of Object.values(item)) collect(inner);
  };
  for (const entry of (await readAuditEntries(policy.stateDir, deps)).entries) if (entry.secret === id) collect(entry);
  if (seen.size === 0) return false;
  return seen.has(fingerprint(value, await fingerprintKey(policy.stateDir, deps)));
}
