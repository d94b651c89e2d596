import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { ExitCode, SecretsError } from '../../core/errors.js';
import type { Policy } from '../../core/policy.js';
import {
  decideRecovery,
  fileState,
  type FileState,
  type Journal,
  type JournalFile,
  type CrashPoint,
} from '../../core/rotation/journal.js';
import { appendAudit, readAuditEntries } from '../state/audit-trail.js';
import type { Deps } from '../deps.js';
import { sweepBackupTemps } from '../state/state-lock.js';
import { managedEnvValues } from '../../kinds/index.js';
import { runHooks } from './hooks.js';
import {
  clearJournal,
  contentFingerprint,
  copyName,
  copyPath,
  journalDir,
  readBytesIfExists,
  readJournal,
  savePreviousCopy,
  writeJournal,
} from '../state/journal-store.js';
import type { FileChange } from '../../kinds/kind.js';

export function passStep(step: CrashPoint, deps: Pick<Deps, 'onRotationStep'>): void {
  deps.onRotationStep?.(step);
}

export interface SwapRequest {
  policy: Policy;
  rotation: string;
  secret: string;
  kind: string;
  changes: FileChange[];
  hooks: string[];
  hookTimeout: string;
}

/**
 * Step 3's writes: previous contents copied aside, the journal written, then each file replaced
 * atomically (owner and mode kept). Returns the journal, now in phase `hooks`.
 */
export async function swapFiles(request: SwapRequest, deps: Deps): Promise<Journal> {
  const { policy } = request;
  const files: JournalFile[] = [];
  const uid = process.getuid?.();
  const policyOwner = (await deps.files.stat(policy.path))?.uid;
  for (const change of request.changes) {
    const stat = await deps.files.stat(change.path);
    // Keeping the owner is right for a file the deployment's owner or a service account gave; a
    // file someone else swapped in (a folder others can write) would hand them the new value.
    if (stat && stat.uid !== uid && stat.uid !== policyOwner && stat.uid !== 0)
      throw new SecretsError(
        'foreign-owner',
        `belongs to uid ${stat.uid}, neither this user nor the owner of the policy; refusing to write a new value into it`,
        {
          where: change.path,
          hint: 'check who replaced it (ls -ln), restore the file from a backup, then fix the folder permissions',
        },
      );
    if (stat && stat.nlink > 1)
      deps.output.err(
        `warning: ${change.path} has ${stat.nlink} hard links; the others keep the old content after this atomic swap (use a symbolic link, which is followed)\n`,
      );
  }
  for (const [index, change] of request.changes.entries()) {
    const stat = await deps.files.stat(change.path);
    const before = stat ? await deps.files.readBytes(change.path) : undefined;
    const name = copyName(index);
    await savePreviousCopy(policy.stateDir, name, before ?? new Uint8Array(), deps);
    files.push({
      path: change.path,
      existed: before !== undefined,
      // The mode to restore on roll-back: the file's own, not the one the kind may impose.
      mode: stat?.mode ?? change.mode ?? 0o600,
      before: await contentFingerprint(policy.stateDir, before ?? new Uint8Array(), deps),
      after: await contentFingerprint(policy.stateDir, change.content, deps),
      previousCopy: name,
    });
  }
  const journal: Journal = {
    version: 1,
    rotation: request.rotation,
    secret: request.secret,
    kind: request.kind,
    phase: 'swapping',
    startedAt: deps.clock.now().toISOString(),
    pid: process.pid,
    host: hostname(),
    files,
    hooks: request.hooks,
    hookTimeout: request.hookTimeout,
  };
  await writeJournal(policy.stateDir, journal, deps);
  passStep('journaled', deps);
  for (const [index, change] of request.changes.entries()) {
    await deps.files.writeAtomic(change.path, change.content, { mode: change.mode ?? files[index]!.mode });
    if (index === 0) passStep('swapping', deps);
  }
  journal.phase = 'hooks';
  await writeJournal(policy.stateDir, journal, deps);
  passStep('swapped', deps);
  return journal;
}

/** Marks the journal as recording: from the `rotated` audit entry on, recovery keeps the new state. */
export async function markRecording(policy: Policy, journal: Journal, deps: Deps): Promise<void> {
  journal.phase = 'recording';
  await writeJournal(policy.stateDir, journal, deps);
}

async function currentStates(policy: Policy, journal: Journal, deps: Deps): Promise<FileState[]> {
  const states: FileState[] = [];
  for (const file of journal.files) {
    const content = await readBytesIfExists(file.path, deps);
    states.push(
      fileState(file, content === undefined ? undefined : await contentFingerprint(policy.stateDir, content, deps)),
    );
  }
  return states;
}

/** The exact steps for a human when a file cannot be put back automatically. */
function manualRestoreSteps(policy: Policy, journal: Journal, files: JournalFile[]): string {
  const steps = files.map((file) =>
    file.existed
      ? `cp ${copyPath(policy.stateDir, file.previousCopy)} ${file.path} && chmod ${file.mode.toString(8)} ${file.path}`
      : `rm ${file.path}`,
  );
  const hooks = journal.hooks.length > 0 ? `; then run the after_change hooks (${journal.hooks.join('; ')})` : '';
  return `put the previous content back: ${steps.join('; ')}${hooks}; then run secrets rotate --recover (the copies in ${journalDir(policy.stateDir)} hold secrets: it removes them)`;
}

/**
 * Puts the previous content back into every file that holds the new one, reruns the hooks so
 * services drop the new values (unless recovery decided no hook can have seen them), and ends
 * the journal. A failure here is exit 4, with the exact
 * commands that finish the job by hand (the journal and the copies stay for them).
 */
export async function rollBack(
  policy: Policy,
  journal: Journal,
  deps: Deps,
  decided?: { restore: JournalFile[]; rerunHooks: boolean },
): Promise<{ restored: string[]; hooks: string }> {
  journal.phase = 'rolling-back';
  await writeJournal(policy.stateDir, journal, deps);
  let restore = decided?.restore;
  if (!restore) {
    const states = await currentStates(policy, journal, deps);
    // A file a hook (or anyone) changed after our write is neither old nor new: putting the old
    // content over it could lose that change, so a human decides (the journal and copies stay).
    const foreign = journal.files.filter((_file, index) => states[index] === 'other' || states[index] === 'missing');
    if (foreign.length > 0) {
      throw new SecretsError(
        'rollback-conflict',
        `cannot roll back: ${foreign.map((file) => file.path).join(', ')} changed after the swap (neither the old nor the new content)`,
        {
          exitCode: ExitCode.mustAct,
          hint: manualRestoreSteps(policy, journal, journal.files),
        },
      );
    }
    restore = journal.files.filter((_file, index) => states[index] === 'new');
  }
  const restored: string[] = [];
  for (const file of restore) {
    try {
      if (file.existed)
        await deps.files.writeAtomic(
          file.path,
          await deps.files.readBytes(copyPath(policy.stateDir, file.previousCopy)),
          { mode: file.mode },
        );
      else await deps.files.remove(file.path);
      restored.push(file.path);
    } catch (error) {
      throw new SecretsError(
        'rollback-failed',
        `could not put back ${file.path} (${error instanceof Error ? error.message : String(error)})`,
        {
          exitCode: ExitCode.mustAct,
          hint: manualRestoreSteps(
            policy,
            journal,
            restore!.filter((entry) => !restored.includes(entry.path)),
          ),
          cause: error,
        },
      );
    }
  }
  let hooks = 'no hooks';
  if (journal.hooks.length > 0 && (decided?.rerunHooks ?? true)) {
    const envText = await deps.files.readTextIfExists(policy.envFile);
    const managedValues = managedEnvValues(policy, new Map([[policy.envFile, envText]]));
    const runs = await runHooks(journal.hooks, { policy, hookTimeout: journal.hookTimeout, managedValues }, deps);
    const failed = runs.find((run) => !run.ok);
    if (failed) {
      await clearJournal(policy.stateDir, deps);
      throw new SecretsError(
        'rollback-hook-failed',
        `the files hold the previous values again, but after_change hook "${failed.command}" failed on the way back (${failed.detail})`,
        {
          exitCode: ExitCode.mustAct,
          hint: `fix what the hook reports and run it again by hand (${journal.hooks.join('; ')}), so the services read the previous values`,
        },
      );
    }
    hooks = `${runs.length} hook(s) rerun`;
  }
  await sweepTempFiles(journal, deps);
  await clearJournal(policy.stateDir, deps);
  return { restored, hooks };
}

/** A SIGKILL inside writeAtomic leaves its temp file (which holds the new content) beside the target. */
async function sweepTempFiles(journal: Journal, deps: Deps): Promise<void> {
  for (const file of journal.files) {
    const prefix = `.${basename(file.path)}.`;
    const names = await deps.files.list(dirname(file.path)).catch(() => [] as string[]);
    for (const name of names)
      if (name.startsWith(prefix) && /\.[0-9a-f]{12}\.tmp$/.test(name))
        await deps.files.remove(join(dirname(file.path), name));
  }
}

export interface RecoveryReport {
  secret: string;
  outcome: 'kept-new' | 'rolled-back';
  summary: string;
  detail: string;
}

/**
 * Finishes whatever an interrupted rotation left (the caller holds the lock): keeps the new
 * state if the rotation was recorded, else rolls back. Files that are neither old nor new need a
 * human: exit 4 naming each file and the copy of its previous content.
 */
export async function recoverInterrupted(policy: Policy, deps: Deps): Promise<RecoveryReport | undefined> {
  await sweepBackupTemps(policy.backupDir, deps);
  const journal = await readJournal(policy.stateDir, deps);
  if (!journal) {
    await clearJournal(policy.stateDir, deps);
    return undefined;
  }
  const states = await currentStates(policy, journal, deps);
  const { entries } = await readAuditEntries(policy.stateDir, deps);
  // A revocation's cut-off (secrets revoke) is recorded as `revoked`: once it is, the lock-out stays.
  const recorded = entries.some(
    (entry) =>
      (entry.action === 'rotated' ||
        entry.action === 'revoked' ||
        entry.action === 'restored' ||
        entry.action === 'fleet-applied') &&
      entry.details?.rotation === journal.rotation,
  );
  const decision = decideRecovery(journal, states, recorded);
  if (decision.action === 'must-act') {
    const copies = journal.files
      .map((file) => `${file.path}: previous content in ${copyPath(policy.stateDir, file.previousCopy)}`)
      .join('; ');
    throw new SecretsError('recover-conflict', decision.summary, {
      exitCode: ExitCode.mustAct,
      hint: `decide which content is right (${copies}), put it in place, then remove ${journalDir(policy.stateDir)}`,
    });
  }
  let detail: string;
  let outcome: RecoveryReport['outcome'];
  if (decision.action === 'keep-new') {
    await sweepTempFiles(journal, deps);
    await clearJournal(policy.stateDir, deps);
    outcome = 'kept-new';
    detail = 'the files hold the new values, as recorded';
  } else {
    const result = await rollBack(policy, journal, deps, decision);
    outcome = 'rolled-back';
    detail =
      result.restored.length > 0 ? `restored ${result.restored.join(', ')}; ${result.hooks}` : 'no file had changed';
  }
  await appendAudit(
    policy.stateDir,
    {
      action: 'rotate-recovered',
      secret: journal.secret,
      details: { rotation: journal.rotation, phase: journal.phase, outcome },
    },
    deps,
  );
  return { secret: journal.secret, outcome, summary: decision.summary, detail };
}
