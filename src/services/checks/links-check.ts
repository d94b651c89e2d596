import type { Finding } from '../../core/checks/types.js';
import { backupFiles } from '../../kinds/index.js';
import type { CheckInput } from '../check.js';
import type { Deps } from '../deps.js';

/**
 * `secrets check`'s `links` check: what would let a rotation write somewhere else than intended,
 * or let someone else read or replace a secret file.
 * - a secret file with hard links (the atomic swap gives only this name the new value);
 * - the state or backups folder as a symbolic link (every change refuses to write through it);
 * - the deployment, state or backups folder writable by others, or owned by another user than
 *   the policy file's owner (they could swap a secret file for one they own).
 */
export async function checkLinks(input: CheckInput, deps: Deps): Promise<Finding[]> {
  const { policy } = input;
  const findings: Finding[] = [];
  for (const path of backupFiles(policy)) {
    const stat = await deps.files.stat(path).catch(() => undefined);
    if (stat && stat.nlink > 1)
      findings.push({
        check: 'links',
        severity: 'warning',
        path,
        message: `${path}: has ${stat.nlink} hard links; a rotation replaces this name only and the other names keep the old value (use a symbolic link)`,
      });
  }
  const owner = (await deps.files.stat(policy.path).catch(() => undefined))?.uid;
  const folders: Array<[string, string]> = [
    [policy.root, 'deployment folder'],
    [policy.stateDir, 'state folder'],
    [policy.backupDir, 'backups folder'],
  ];
  for (const [dir, what] of folders) {
    const link = await deps.files.lstat(dir).catch(() => undefined);
    if (!link) continue;
    if (link.isSymbolicLink && dir !== policy.root) {
      findings.push({
        check: 'links',
        severity: 'critical',
        path: dir,
        message: `${dir}: the ${what} is a symbolic link; changes refuse to write through it (replace it with a real folder)`,
      });
      continue;
    }
    const stat = link.isSymbolicLink ? await deps.files.stat(dir).catch(() => undefined) : link;
    if (!stat) continue;
    // The sticky bit (as on /tmp) stops others from replacing files they do not own.
    if ((stat.mode & 0o002) !== 0 && (stat.mode & 0o1000) === 0)
      findings.push({
        check: 'links',
        severity: 'critical',
        path: dir,
        message: `${dir}: the ${what} is writable by every user (mode ${(stat.mode & 0o7777).toString(8)}); anyone can replace a secret file with one they own (chmod o-w)`,
      });
    else if (owner !== undefined && stat.uid !== owner && stat.uid !== 0)
      findings.push({
        check: 'links',
        severity: 'warning',
        path: dir,
        message: `${dir}: the ${what} belongs to uid ${stat.uid}, not to the policy's owner (uid ${owner})`,
      });
  }
  for (const path of backupFiles(policy)) {
    const stat = await deps.files.stat(path).catch(() => undefined);
    if (stat && owner !== undefined && stat.uid !== owner && stat.uid !== 0 && stat.uid !== process.getuid?.())
      findings.push({
        check: 'links',
        severity: 'critical',
        path,
        message: `${path}: belongs to uid ${stat.uid}, not to the policy's owner (uid ${owner}); a rotation refuses to write into it`,
      });
  }
  return findings;
}
