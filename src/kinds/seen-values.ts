import { fingerprint, type Secret } from '../core/secret.js';
import type { RotationContext } from './kind.js';

/**
 * Whether the audit trail has seen `value` for this secret (as a new or a replaced value): the
 * fingerprints are keyed HMACs, so the comparison never needs a stored value.
 */
export async function seenBefore(ctx: RotationContext, value: Secret): Promise<boolean> {
  const seen = new Set<string>();
  const collect = (item: unknown): void => {
    if (typeof item === 'string' && item.startsWith('hmac-sha256:')) seen.add(item);
    else if (item && typeof item === 'object') for (const inner of Object.values(item)) collect(inner);
  };
  for (const entry of await ctx.audit.entries()) if (entry.secret === ctx.id) collect(entry);
  if (seen.size === 0) return false;
  return seen.has(fingerprint(value, await ctx.audit.fingerprintKey()));
}
