import { basename, join } from 'node:path';
import { isSecretsError } from '../../core/errors.js';
import { createBackup } from '../backup.js';
import type { Deps } from '../deps.js';
import type { BackupBeforeSwap } from '../rotation/backup-before-swap.js';
import { ensureStateDir } from '../state/audit-trail.js';

/** Inside the state folder (700): the pre-images a revoke kept because no encrypted backup could be made. */
export const PRE_IMAGE_DIR = 'pre-images';

export interface KeptPreImage {
  dir: string;
  /** Why the encrypted backup could not be made (the backup error's one line; never a value). */
  reason: string;
}

/**
 * The backup step of a revoke. A leaked value must be cut off even when the backup cannot be made
 * (no backup section, no passphrase, an unreadable recipient, a full disk): waiting for a human to
 * fix the backup leaves the leaked value live. So when the encrypted backup fails, the previous
 * content is kept the way the rotation engine keeps it during a swap (mode 600 in the 700 state
 * folder) and the write goes ahead; the caller reports it and exits 2 until a backup can be made.
 */
export function backupOrKeepPreImage(
  base: BackupBeforeSwap | undefined,
  id: string,
  onKept: (kept: KeptPreImage) => void,
): BackupBeforeSwap {
  return async (request, deps: Deps) => {
    try {
      return await (base ?? createBackup)(request, deps);
    } catch (error) {
      const reason = isSecretsError(error) ? error.toLine() : error instanceof Error ? error.message : String(error);
      const { policy } = request;
      await ensureStateDir(policy.stateDir, deps);
      const root = join(policy.stateDir, PRE_IMAGE_DIR);
      await deps.files.ensureDir(root, 0o700);
      const stamp = deps.clock
        .now()
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, 'Z');
      let dir = join(root, `${stamp}-${id}`);
      for (let n = 2; await deps.files.stat(dir); n += 1) dir = join(root, `${stamp}-${id}-${n}`);
      await deps.files.ensureDir(dir, 0o700);
      for (const [index, path] of request.files.entries()) {
        if (!(await deps.files.stat(path))) continue;
        await deps.files.writeAtomic(join(dir, `${index}-${basename(path)}`), await deps.files.readText(path), {
          mode: 0o600,
        });
      }
      onKept({ dir, reason });
      return { path: dir };
    }
  };
}
