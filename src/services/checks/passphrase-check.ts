import type { Finding } from '../../core/checks/types.js';
import type { CheckInput } from '../check.js';
import type { Deps } from '../deps.js';
import { readAuditEntries } from '../state/audit-trail.js';

/**
 * `secrets check`'s `backup-passphrase` check: the backups still on disk were made with more
 * than one passphrase (each `backup` entry carries a keyed id of its passphrase), so a restore may
 * need one nobody remembers. Read from the trail: no backup is decrypted, check stays fast.
 */
export async function checkBackupPassphrases(input: CheckInput, deps: Deps): Promise<Finding[]> {
  const { policy } = input;
  const present = new Set(await deps.files.list(policy.backupDir).catch(() => [] as string[]));
  const { entries } = await readAuditEntries(policy.stateDir, deps);
  const ids = new Map<string, string[]>();
  for (const entry of entries) {
    const backup = entry.details?.backup;
    const id = entry.details?.passphraseId;
    if (entry.action !== 'backup' || typeof backup !== 'string' || typeof id !== 'string' || !present.has(backup))
      continue;
    ids.set(id, [...(ids.get(id) ?? []), backup]);
  }
  if (ids.size <= 1) return [];
  const newestOf = [...ids.values()].map((names) => names[names.length - 1]).join(', ');
  return [
    {
      check: 'backup-passphrase',
      severity: 'warning',
      path: policy.backupDir,
      message: `${policy.backupDir}: the backups use ${ids.size} different passphrases (newest of each: ${newestOf}); keep all of them, or make a fresh backup and prune the old ones`,
    },
  ];
}
