import { readFileSync } from 'node:fs';
import type { BackupBeforeSwap } from '../../src/services/rotation/backup-before-swap.js';
import { loadPolicy } from '../../src/services/policy/load-policy.js';
import type { Policy } from '../../src/core/policy.js';
import { makeDeployment, type TempDeployment } from './deployment.js';
import { fakeAlnum } from './fake-secrets.js';
import { testDeps } from './deps.js';
import type { FileSpec } from './temp-dir.js';

/** A backup stand-in that records what it was asked to back up (the real one is services/backup.ts). */
export function recordingBackup(): BackupBeforeSwap & { calls: Array<{ files: string[]; reason: string }> } {
  const calls: Array<{ files: string[]; reason: string }> = [];
  const backup = async (request: { files: string[]; reason: string }) => {
    calls.push({ files: request.files, reason: request.reason });
    return { path: 'backups/test.gpg' };
  };
  return Object.assign(backup, { calls });
}

/** A deployment with a .env and a policy; returns it with the loaded policy. */
export async function deploymentWithEnv(
  env: string,
  secrets: Record<string, unknown>,
  extra: { files?: Record<string, FileSpec>; policy?: Record<string, unknown> } = {},
): Promise<{ deployment: TempDeployment; policy: Policy }> {
  const deployment = makeDeployment({
    files: { '.env': env, ...(extra.files ?? {}) },
    policy: { secrets, ...(extra.policy ?? {}) },
  });
  const policy = await loadPolicy(deployment.policyPath, testDeps());
  return { deployment, policy };
}

export function readEnv(deployment: TempDeployment): string {
  return readFileSync(deployment.path('.env'), 'utf8');
}

/** Policy backup settings for e2e rotations: the real backup encrypts with a passphrase from the environment. */
export const BACKUP_POLICY = { dir: 'backups', passphrase_env: 'SECRETS_BACKUP_PASSPHRASE' };

/** The environment that goes with BACKUP_POLICY (a passphrase made at run time). */
export const BACKUP_ENV: Record<string, string> = { SECRETS_BACKUP_PASSPHRASE: fakeAlnum(24) };
