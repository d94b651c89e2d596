import type { Finding } from '../../core/checks/types.js';
import { isSecretsError } from '../../core/errors.js';
import { readRecipients } from '../backup/backup-material.js';
import type { CheckInput } from '../check.js';
import type { Deps } from '../deps.js';

const REFUSE = 'rotate and revoke will refuse to write';

/**
 * The `backup-config` check: a policy from which no encrypted backup can be made. Every rotation
 * backs up before it writes, so this is critical: a routine rotation stops, and a revoke can only
 * cut off by keeping a plaintext pre-image in the state folder.
 */
export async function checkBackupConfig(input: CheckInput, deps: Deps): Promise<Finding[]> {
  const { policy } = input;
  const backup = policy.doc.backup;
  const finding = (message: string): Finding[] => [
    { check: 'backup-config', severity: 'critical', path: policy.path, message },
  ];
  if (backup.recipients.length === 0 && backup.passphrase_env === undefined)
    return finding(
      `no usable backup configuration: the backup section names no recipients and no passphrase_env; ${REFUSE} (add backup.passphrase_env or backup.recipients)`,
    );
  try {
    await readRecipients(policy, deps);
  } catch (error) {
    return finding(
      `backup configuration not usable: ${isSecretsError(error) ? error.toLine() : String(error)}; ${REFUSE}`,
    );
  }
  return [];
}
