import type { AuditEntry } from '../audit.js';
import type { Finding } from './types.js';

/**
 * The `revoked` check: a secret whose last `revoked` event has no `rotated` (or `recorded`) event
 * after it was cut off (or only recorded as leaked) and not replaced: critical until it is.
 * Order is the trail's own (seq), not the clock, so a revocation and its replacement in the same
 * second still read right.
 */
export function checkRevocations(entries: readonly AuditEntry[], knownSecrets: ReadonlySet<string>): Finding[] {
  const lastRevoked = new Map<string, AuditEntry>();
  const lastReplaced = new Map<string, number>();
  for (const entry of entries) {
    if (!entry.secret) continue;
    if (entry.action === 'revoked') lastRevoked.set(entry.secret, entry);
    if (entry.action === 'rotated' || entry.action === 'recorded') lastReplaced.set(entry.secret, entry.seq);
  }
  const findings: Finding[] = [];
  for (const [secret, revoked] of lastRevoked) {
    if ((lastReplaced.get(secret) ?? 0) > revoked.seq || !knownSecrets.has(secret)) continue;
    const incident = typeof revoked.details?.incident === 'string' ? `, incident ${revoked.details.incident}` : '';
    findings.push({
      check: 'revoked',
      severity: 'critical',
      secret,
      message: `${secret} was revoked on ${revoked.time.slice(0, 10)}${incident} and not replaced yet: run secrets rotate ${secret}`,
    });
  }
  return findings;
}
