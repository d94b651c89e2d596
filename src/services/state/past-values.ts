import { join } from 'node:path';
import type { AuditEntry } from '../../core/audit.js';
import { pastValueMatcher, type ExtraMatcher, type PastValue } from '../../core/scan/past-values.js';
import type { Deps } from '../deps.js';
import { readAuditEntries } from './audit-trail.js';

/**
 * Every value a secret has had, as the audit trail remembers it: keyed fingerprints only. A
 * rotation records each key's old and new fingerprint, a revocation the revoked ones; a value
 * stopped being current at the entry's time.
 */
export function pastValuesOf(entries: readonly AuditEntry[]): PastValue[] {
  const past: PastValue[] = [];
  for (const entry of entries) {
    const recorded = entry.details?.fingerprints;
    if (!entry.secret || typeof recorded !== 'object' || recorded === null) continue;
    for (const [label, value] of Object.entries(recorded as Record<string, unknown>)) {
      const old =
        (entry.action === 'rotated' || entry.action === 'fleet-applied') && value && typeof value === 'object'
          ? (value as { old?: unknown }).old
          : entry.action === 'revoked'
            ? value
            : undefined;
      if (typeof old === 'string') past.push({ id: entry.secret, label, fingerprint: old, before: entry.time });
    }
  }
  return past;
}

/**
 * The matcher for past values, or undefined when there is nothing to match (no trail, or no
 * fingerprint key yet: a scan never creates the key).
 */
export async function pastValuesMatcher(
  stateDir: string,
  deps: Pick<Deps, 'files'>,
  only?: string,
): Promise<ExtraMatcher | undefined> {
  const keyPath = join(stateDir, 'fingerprint.key');
  if (!(await deps.files.stat(keyPath).catch(() => undefined))) return undefined;
  const { entries } = await readAuditEntries(stateDir, deps);
  const past = pastValuesOf(entries).filter((value) => only === undefined || value.id === only);
  const key = Buffer.from((await deps.files.readText(keyPath)).trim(), 'hex');
  return pastValueMatcher(past, key);
}
