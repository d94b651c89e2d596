import { ExitCode, SecretsError } from '../../core/errors.js';
import { join } from 'node:path';
import type { Deps } from '../deps.js';

/**
 * The one transaction every mutation goes through: take the state folder's lock, do the work
 * (journaled where it touches several files), append to the audit trail while still holding it,
 * release. State folders this process holds, with a depth so that a command holding the lock can
 * call a service that takes it again (rotate → backup) without deadlocking on itself.
 */
const held = new Map<string, number>();

export function holdsStateLock(stateDir: string): boolean {
  return (held.get(stateDir) ?? 0) > 0;
}

/** How long a command that only appends (record, backup) waits for a rotation to finish. */
export const DEFAULT_APPEND_WAIT_MS = 60_000;

/**
 * Creates the state folder (mode 700) if needed; refuses one that is a symbolic link (its state
 * would be written wherever the link points, and that folder chmodded) or owned by another user.
 */
export async function ensureStateDir(stateDir: string, deps: Pick<Deps, 'files'>): Promise<void> {
  const link = await deps.files.lstat(stateDir);
  if (link?.isSymbolicLink)
    throw new SecretsError('state-symlink', 'the state folder is a symbolic link; refusing to write through it', {
      where: stateDir,
      hint: 'replace the link with a real folder (mv the target back, or set state_dir to the real path)',
    });
  if (link && !link.isDirectory)
    throw new SecretsError('state-not-a-folder', 'the state folder is not a folder', { where: stateDir });
  const uid = process.getuid?.();
  if (link && uid !== undefined && link.uid !== uid)
    throw new SecretsError(
      'state-foreign-owner',
      `the state folder belongs to uid ${link.uid}, not to this user (uid ${uid}); refusing to use it`,
      { where: stateDir, hint: 'run as the owner of the deployment, or chown the folder' },
    );
  await deps.files.ensureDir(stateDir, 0o700);
  const stat = await deps.files.stat(stateDir);
  if (stat && (stat.mode & 0o077) !== 0) await deps.files.chmod(stateDir, 0o700);
}

export interface TransactionOptions {
  /** What the lock says is holding it ("secrets record jwt"). */
  command: string;
  /** Wait this long for another holder; 0 fails at once naming it. */
  waitMs?: number;
  /** Only `secrets log --repair`: may run while the trail is broken. */
  brokenTrailOk?: boolean;
}

/**
 * Takes the state folder's lock for a transaction. The trail is checked first: a broken trail
 * stops every change (exit 3, nothing changed) until `secrets log --repair`, so that no later
 * append can paper over lines removed or edited. Reentrant within one process: a command holding
 * the lock can call a service that takes it again (rotate → backup).
 */
export async function acquireStateLock(
  stateDir: string,
  options: TransactionOptions,
  deps: Deps,
): Promise<{ release(): Promise<void> }> {
  const depth = held.get(stateDir) ?? 0;
  if (depth > 0) {
    held.set(stateDir, depth + 1);
    return { release: async () => void held.set(stateDir, held.get(stateDir)! - 1) };
  }
  await ensureStateDir(stateDir, deps);
  const lock = await deps.locker.acquire(stateDir, { command: options.command, waitMs: options.waitMs ?? 0 });
  held.set(stateDir, 1);
  const release = async () => {
    held.delete(stateDir);
    await lock.release();
  };
  try {
    await sweepTemps(stateDir, deps);
    if (!options.brokenTrailOk) {
      // Imported on use: the trail module takes this lock itself for a lone append.
      const { assertTrailIntact } = await import('./audit-trail.js');
      await assertTrailIntact(stateDir, deps);
    }
  } catch (error) {
    await release();
    throw error;
  }
  return { release };
}

/** What an atomic write leaves when it is killed between creating its temp file and the rename. */
const WRITE_TEMP = /^\..+\.[0-9a-f]{12}\.tmp$/;

/**
 * Every write into the state folder and the backups folder happens under the lock, so once we
 * hold it, a write temp file there belongs to a command that was killed: it goes (it may hold a
 * secret, and it is never the file itself). Lock temp files are the locker's, named apart.
 */
async function sweepTemps(stateDir: string, deps: Deps): Promise<void> {
  for (const dir of [stateDir, join(stateDir, 'rotation')]) {
    const names = await deps.files.list(dir).catch(() => [] as string[]);
    for (const name of names)
      if (WRITE_TEMP.test(name) && !name.startsWith('.lock.')) await deps.files.remove(join(dir, name));
  }
}

/** The same for the backups folder (the caller holds the lock; backups are written only under it). */
export async function sweepBackupTemps(backupDir: string, deps: Pick<Deps, 'files'>): Promise<void> {
  const names = await deps.files.list(backupDir).catch(() => [] as string[]);
  for (const name of names) if (WRITE_TEMP.test(name)) await deps.files.remove(join(backupDir, name));
}

/** Runs `work` as one transaction holding the state folder's lock (see acquireStateLock). */
export async function withStateLock<T>(
  stateDir: string,
  options: TransactionOptions,
  deps: Deps,
  work: () => Promise<T>,
): Promise<T> {
  const lock = await acquireStateLock(stateDir, options, deps);
  try {
    return await work();
  } finally {
    await lock.release();
  }
}

export function trailBroken(where: string, line: number | undefined, reason: string | undefined): SecretsError {
  return new SecretsError(
    'audit-broken',
    `the audit trail is broken at line ${line ?? '?'} (${reason ?? 'unknown'}); nothing was changed`,
    {
      where,
      exitCode: ExitCode.failed,
      hint: 'see secrets log --verify; once you know what happened, secrets log --repair records it and starts a new segment',
    },
  );
}
