/**
 * The rotation journal: what a swap in progress is doing, so that a crash at any moment leaves
 * the files all old or all new after the next run.
 *
 * Design choice — roll back, never forward. The journal holds no value: only which files change,
 * keyed fingerprints of their content before and after, and the phase. Beside it, in the
 * state folder (mode 700), a mode-600 copy of each file's previous content is kept for the
 * length of the swap and removed when the rotation is recorded or rolled back. So recovery never
 * needs a pending value (which we would have to store, and could not store safely without a key
 * the host may not have): until the `rotated` audit entry exists, recovery puts the previous
 * content back; once it exists, the new content stays. The encrypted backup taken before the
 * swap is the second line of defence, for when the copy itself is lost.
 */

/** Steps a rotation passes, in order; each is also a crash point for the crash tests. */
export const ROTATION_STEPS = [
  'created',
  'tested',
  'journaled',
  'swapping',
  'swapped',
  'hooks-done',
  'recording',
  'recorded',
] as const;
/**
 * Extra steps of the kinds that change a server (postgres, redis), between `tested`'s parts:
 * the pending credential saved, the server changed, the old password removed after the hooks.
 */
export const CREDENTIAL_STEPS = ['persisted', 'server-changed', 'old-removed'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number] | (typeof CREDENTIAL_STEPS)[number];

/**
 * Every point where the crash tests may SIGKILL a command: the rotation's steps, the moment
 * between an audit line and its head, and the steps of an in-place restore.
 */
export type CrashPoint =
  | RotationStep
  | 'audit-line-written'
  | 'restore-journaled'
  | 'restore-swapping'
  /** A shared rotation's new version is stored in etcd as pending, before any host applied it. */
  | 'fleet-pending-written'
  /** Every member acknowledged; the version is not yet current. */
  | 'fleet-acknowledged';

/** Where the journal says the swap was when it was last written. */
export type JournalPhase = 'swapping' | 'hooks' | 'recording' | 'rolling-back';

export interface JournalFile {
  path: string;
  /** Whether the file existed before the swap (if not, rolling back removes it). */
  existed: boolean;
  /** File mode before the swap, put back on roll-back (a kind may impose another on the new file). */
  mode: number;
  /** Keyed fingerprints of the whole content before and after (see core/secret.ts). */
  before: string;
  after: string;
  /** Name of the mode-600 copy of the previous content inside the journal folder. */
  previousCopy: string;
}

export interface Journal {
  version: 1;
  /** Unique id of this rotation; the `rotated` audit entry carries it. */
  rotation: string;
  secret: string;
  kind: string;
  phase: JournalPhase;
  startedAt: string;
  pid: number;
  host: string;
  files: JournalFile[];
  /** The after_change hooks, rerun after a roll-back so services drop the new values. */
  hooks: string[];
  /** The secret's hook_timeout, for that rerun. */
  hookTimeout: string;
}

/** What a file holds now, compared with the journal's fingerprints. */
export type FileState = 'old' | 'new' | 'other' | 'missing';

export function fileState(file: JournalFile, currentFingerprint: string | undefined): FileState {
  if (currentFingerprint === undefined) return file.existed ? 'missing' : 'old';
  if (currentFingerprint === file.after) return 'new';
  if (file.existed && currentFingerprint === file.before) return 'old';
  return 'other';
}

export type RecoveryDecision =
  | { action: 'keep-new'; summary: string }
  | { action: 'roll-back'; restore: JournalFile[]; rerunHooks: boolean; summary: string }
  | { action: 'must-act'; summary: string; files: Array<{ file: JournalFile; state: FileState }> };

/**
 * Decides what recovery does, from the journal, the state of each file and whether the audit
 * trail already holds this rotation's `rotated` entry. Recorded → the new state is final (all
 * files must be new). Not recorded → every file back to its previous content. A file that is
 * neither old nor new was changed by someone else: only a human can say which content is right.
 */
export function decideRecovery(journal: Journal, states: FileState[], recorded: boolean): RecoveryDecision {
  const files = journal.files.map((file, index) => ({ file, state: states[index]! }));
  const foreign = files.filter((entry) => entry.state === 'other' || entry.state === 'missing');
  const where = `rotation of ${journal.secret} (started ${journal.startedAt}, pid ${journal.pid} on ${journal.host}) stopped during ${journal.phase}`;
  if (foreign.length > 0) {
    return {
      action: 'must-act',
      files,
      summary: `${where}; ${foreign.map((entry) => `${entry.file.path} is ${entry.state === 'missing' ? 'missing' : 'neither the old nor the new content'}`).join('; ')}`,
    };
  }
  if (recorded) {
    const stale = files.filter((entry) => entry.state !== 'new');
    if (stale.length > 0)
      return {
        action: 'must-act',
        files,
        summary: `${where} after it was recorded, but ${stale.map((entry) => entry.file.path).join(', ')} holds the old content`,
      };
    return { action: 'keep-new', summary: `${where} after it was recorded: the new values are in place; finishing` };
  }
  const restore = files.filter((entry) => entry.state === 'new').map((entry) => entry.file);
  const rerunHooks = journal.hooks.length > 0 && (restore.length > 0 || journal.phase !== 'swapping');
  return {
    action: 'roll-back',
    restore,
    rerunHooks,
    summary:
      restore.length > 0
        ? `${where} before it was recorded: putting the previous content back`
        : `${where} before any file changed: nothing to undo`,
  };
}
