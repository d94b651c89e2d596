import type { Deps } from '../../src/services/deps.js';
import { loadPolicy } from '../../src/services/policy/load-policy.js';
import { rotateSecret, type RotatedSecret } from '../../src/services/rotation/rotate-secret.js';
import { findSecret } from '../../src/core/policy.js';
import { recordingBackup } from './rotation.js';

/**
 * One secret through the real engine's four steps (rotation/rotate-secret.ts), as `secrets rotate
 * ID --yes` would, without the run's lock and selection. The encrypted backup is the recording
 * stand-in (the backup module has its own tests); the e2e tests use the real one.
 */
export async function rotateOne(
  policyPath: string,
  id: string,
  deps: Deps,
  options: { passwordFrom?: 'prompt' | 'stdin' } = {},
): Promise<RotatedSecret | undefined> {
  const policy = await loadPolicy(policyPath, deps);
  return rotateSecret(
    { id, spec: findSecret(policy, id), reason: 'named' },
    { policy, yes: true, ...options, backup: recordingBackup() },
    deps,
  );
}
