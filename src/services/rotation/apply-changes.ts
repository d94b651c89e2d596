import { isAbsolute, relative } from 'node:path';
import { ExitCode, SecretsError, isSecretsError } from '../../core/errors.js';
import type { Policy } from '../../core/policy.js';
import type { SecretSpec } from '../../core/policy-schema.js';
import type { Journal } from '../../core/rotation/journal.js';
import { createBackup } from '../backup.js';
import type { Deps } from '../deps.js';
import { describeBackup, type BackupBeforeSwap } from './backup-before-swap.js';
import { hookFailure, runHooks } from './hooks.js';
import { readJournal } from '../state/journal-store.js';
import type { FileChange } from '../../kinds/kind.js';
import { markRecording, passStep, rollBack, swapFiles } from './transaction.js';

/** Runs one named step, recording its outcome in the audit trail (see rotate-secret.ts). */
export type AuditedStep = <T>(step: string, action: () => Promise<T>, describe: (value: T) => string) => Promise<T>;

/**
 * The AuditedStep that records each step with `record`: its description when it succeeds, the
 * error's message when it fails (the error is thrown on; a failure to record it is not).
 */
export function auditedSteps(
  record: (step: string, outcome: 'ok' | 'failed', message: string) => Promise<unknown>,
): AuditedStep {
  return async (step, action, describe) => {
    try {
      const value = await action();
      await record(step, 'ok', describe(value));
      return value;
    } catch (error) {
      const message = isSecretsError(error) ? error.message : error instanceof Error ? error.message : String(error);
      await record(step, 'failed', message).catch(() => undefined);
      throw error;
    }
  };
}

export interface ApplyChangesRequest {
  policy: Policy;
  /** The secret's id, and its spec for the hooks and their timeout. */
  id: string;
  spec: SecretSpec;
  /** The journal's id for this write (a rotation, or a revocation's cut-off). */
  rotation: string;
  /** Several secrets swapped together: their distinct hooks, run once, and the longest timeout. */
  hooks?: string[];
  hookTimeout?: string;
  changes: FileChange[];
  /** What changes inside the files, for the progress line ("line of user admin"). */
  targets: string[];
  /** Why the backup is taken ("before rotating dashboard"). */
  backupReason: string;
  backup?: BackupBeforeSwap;
  /** Values the hooks must never see in their environment, under any name. */
  managedValues: () => Promise<string[]>;
  /** Checks the live system after the hooks (probes); throwing rolls everything back. */
  verify?: () => Promise<string | undefined>;
  attempt: AuditedStep;
  auditStep(step: string, result: 'ok' | 'failed', message: string): Promise<void>;
  say(line: string): void;
}

/**
 * The one write path for a secret's files: encrypted backup, journal, atomic writes, the
 * after_change hooks, the optional verify, and on any failure the roll-back (exit 3, the previous
 * content back) or exit 4 when even that fails. On success the journal is left in phase
 * `recording`: the caller appends its audit entry (which makes recovery keep the new state) and
 * then clears the journal. Returns the journal, or undefined when there was nothing to write.
 */
export async function applyChanges(request: ApplyChangesRequest, deps: Deps): Promise<Journal | undefined> {
  const { policy, id, spec, changes, attempt, say } = request;
  if (changes.length === 0) return undefined;
  const hooks = request.hooks ?? spec.after_change;
  const hookTimeout = request.hookTimeout ?? spec.hook_timeout;
  const files = changes.map((change) => change.path);
  const backup = await attempt(
    'backup',
    () => (request.backup ?? createBackup)({ policy, files, reason: request.backupReason }, deps),
    describeBackup,
  );
  const backupName = describeBackup(backup);
  say(`backup: ${isAbsolute(backupName) ? relative(policy.root, backupName) : backupName}`);
  let journal: Journal | undefined;
  try {
    journal = await attempt(
      'swap',
      () =>
        swapFiles(
          {
            policy,
            rotation: request.rotation,
            secret: id,
            kind: spec.kind,
            changes,
            hooks,
            hookTimeout,
          },
          deps,
        ),
      () => `wrote ${files.length} file(s)`,
    );
    say(`wrote ${files.map((path) => relative(policy.root, path) || path).join(', ')}: ${request.targets.join(', ')}`);
    const runs = await runHooks(hooks, { policy, hookTimeout, managedValues: await request.managedValues() }, deps);
    for (const run of runs) say(`hook ${run.ok ? 'ok' : 'FAILED'}: ${run.command}${run.ok ? '' : ` (${run.detail})`}`);
    const failed = runs.find((run) => !run.ok);
    await request.auditStep(
      'hooks',
      failed ? 'failed' : 'ok',
      failed ? `${failed.command}: ${failed.detail}` : `${runs.length} hook(s) ok`,
    );
    if (failed) throw hookFailure(failed);
    const verified = request.verify ? await attempt('verify', request.verify, (value) => value ?? 'ok') : undefined;
    if (verified) say(verified);
  } catch (error) {
    // A write that failed half-way left a journal on disk even though swapFiles did not return it.
    journal ??= await readJournal(policy.stateDir, deps);
    if (!journal) throw error;
    say('rolling back: putting the previous content back');
    const undone = await rollBack(policy, journal, deps).catch(async (rollbackError: unknown) => {
      await request
        .auditStep('rollback', 'failed', isSecretsError(rollbackError) ? rollbackError.message : String(rollbackError))
        .catch(() => undefined);
      throw rollbackError;
    });
    await request.auditStep('rollback', 'ok', `restored ${undone.restored.length} file(s); ${undone.hooks}`);
    say(`rolled back: ${undone.restored.length} file(s) restored; ${undone.hooks}`);
    const reason = isSecretsError(error) ? error.message : error instanceof Error ? error.message : String(error);
    throw new SecretsError('rotation-rolled-back', `${id}: ${reason}; the previous values are back in place`, {
      exitCode: ExitCode.failed,
      cause: error,
    });
  }
  passStep('hooks-done', deps);
  await markRecording(policy, journal, deps);
  passStep('recording', deps);
  return journal;
}
