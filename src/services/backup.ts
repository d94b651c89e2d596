import { basename, isAbsolute, join, resolve } from 'node:path';
import {
  backupFileName,
  backupNameDate,
  buildArchive,
  compareBackupsNewestFirst,
  isOpenPgpFileName,
  isOwnBackupName,
  readArchive,
  readManifestPrefix,
  selectPrunable,
  sha256Hex,
} from '../core/backup-archive.js';
import { looksLikeOpenPgp } from '../core/checks/compliance.js';
import { parseDuration } from '../core/duration.js';
import { SecretsError, errnoCode, isSecretsError, type ErrorCode } from '../core/errors.js';
import type { Pgp } from '../core/ports.js';
import type { Policy } from '../core/policy.js';
import { backupFiles } from '../kinds/index.js';
import { fingerprintBytes, type Secret } from '../core/secret.js';
import { appendAudit, fingerprintKey } from './state/audit-trail.js';
import {
  encryptionMaterial,
  passphraseFromEnv,
  readRecipients,
  type EncryptionMaterial,
} from './backup/backup-material.js';
import type { Deps } from './deps.js';
import { DEFAULT_APPEND_WAIT_MS, sweepBackupTemps, withStateLock } from './state/state-lock.js';

export interface BackupInput {
  policy: Policy;
  /** Absolute paths; default: the policy's backup files (backupFiles). */
  files?: string[];
  /** Why, for the audit trail: "manual", "before rotating dingtalk", ... Never a value. */
  reason: string;
}

export interface BackupResult {
  /** Absolute path of the encrypted backup written. */
  path: string;
  files: Array<{ path: string; sha256: string; size: number }>;
}

function failed(
  code: ErrorCode,
  message: string,
  options: { where?: string; hint?: string; cause?: unknown } = {},
): SecretsError {
  return new SecretsError(code, message, options);
}

async function readOriginals(
  paths: string[],
  deps: Deps,
): Promise<Array<{ path: string; data: Uint8Array; mode: number }>> {
  const originals: Array<{ path: string; data: Uint8Array; mode: number }> = [];
  for (const path of paths) {
    const stat = await deps.files.stat(path).catch(() => undefined);
    if (!stat) {
      deps.output.err(`note: ${path} does not exist; not in this backup\n`);
      continue;
    }
    if (!stat.isFile)
      throw failed('backup-not-a-file', 'not a regular file; only files can be backed up', { where: path });
    try {
      originals.push({ path, data: await deps.files.readBytes(path), mode: stat.mode });
    } catch (error) {
      throw failed(
        'backup-read-failed',
        `cannot read the file to back up (${errnoCode(error) ?? String(error)}); nothing was written`,
        { where: path },
      );
    }
  }
  return originals;
}

async function ensureBackupDir(dir: string, deps: Deps): Promise<void> {
  if ((await deps.files.lstat(dir))?.isSymbolicLink)
    throw failed('backup-dir-symlink', 'the backup folder is a symbolic link; refusing to write through it', {
      where: dir,
      hint: 'replace the link with a real folder, or point backup.dir at the real path',
    });
  try {
    const existing = await deps.files.stat(dir);
    if (existing && !existing.isDirectory) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    if (!existing) await deps.files.ensureDir(dir, 0o700);
  } catch (error) {
    throw failed(
      'backup-dir-unwritable',
      `cannot create the backup folder (${errnoCode(error) ?? String(error)}); nothing was written`,
      {
        where: dir,
        hint: "fix backup.dir in the policy or the folder's permissions",
      },
    );
  }
}

async function freeName(dir: string, deployment: string, at: Date, deps: Deps): Promise<string> {
  for (let counter = 1; ; counter++) {
    const path = join(dir, backupFileName(deployment, at, counter));
    if (!(await deps.files.stat(path))) return path;
  }
}

/**
 * Checks the backup on disk before anyone relies on it: the bytes read back are the bytes
 * encrypted; with a passphrase, they decrypt and every file's SHA-256 matches the live file;
 * with public keys only (nothing here can decrypt), the message is addressed to every
 * recipient and the archive inside was built from exactly the live files' bytes.
 */
async function verifyBackup(
  path: string,
  written: Uint8Array,
  tar: Uint8Array,
  originals: Array<{ path: string; data: Uint8Array }>,
  material: EncryptionMaterial,
  pgp: Pgp,
  deps: Deps,
): Promise<string | undefined> {
  const onDisk = await deps.files.readBytes(path);
  if (sha256Hex(onDisk) !== sha256Hex(written)) return 'the file read back differs from what was written';
  const info = await pgp.inspect(onDisk);
  const missing = material.recipientKeyIds.find((ids) => !ids.some((id) => info.recipientKeyIds.includes(id)));
  if (missing) return `it is not addressed to recipient key ${missing[0]?.toUpperCase()}`;
  let content = tar;
  if (material.passphrase) {
    try {
      content = (await pgp.decrypt(onDisk, { passphrase: material.passphrase })).data;
    } catch (error) {
      return `it does not decrypt again (${isSecretsError(error) ? error.message : 'unknown error'})`;
    }
  }
  const inside = readArchive(content, basename(path));
  for (const original of originals) {
    const found = inside.files.find((file) => file.path === original.path);
    if (!found) return `${original.path} is missing inside`;
    if (found.sha256 !== sha256Hex(original.data)) return `${original.path} inside does not match the file read`;
    const live = await deps.files.readBytes(original.path).catch(() => undefined);
    if (live && sha256Hex(live) !== found.sha256) return `${original.path} changed while it was being backed up`;
  }
  return undefined;
}

/** Passphrases this short fall to an offline guess once a backup leaks. */
const SHORT_PASSPHRASE = 12;

/**
 * Two warnings before a passphrase is used (nothing is refused: a backup is better than none):
 * shorter than 12 characters, or not the passphrase of the newest existing backup (from now on
 * restoring needs several passphrases; `check` counts them).
 */
async function warnAboutPassphrase(policy: Policy, passphrase: Secret, pgp: Pgp, deps: Deps): Promise<void> {
  const length = [...passphrase.reveal()].length;
  if (length < SHORT_PASSPHRASE)
    deps.output.err(
      `warning: the backup passphrase is ${length} characters; use at least ${SHORT_PASSPHRASE} (a leaked backup is guessed offline)\n`,
    );
  const names = await deps.files.list(policy.backupDir).catch(() => [] as string[]);
  const newest = names
    .filter((name) => isOwnBackupName(policy.deployment, name))
    .map((name) => ({ name, date: backupNameDate(name)! }))
    .sort(compareBackupsNewestFirst)[0];
  if (!newest) return;
  try {
    const bytes = await deps.files.readBytes(join(policy.backupDir, newest.name));
    if (!(await pgp.inspect(bytes)).passphrase) return;
    await pgp.decrypt(bytes, { passphrase, maxBytes: 512, prefixOnly: true });
  } catch (error) {
    if (isSecretsError(error) && error.code === 'pgp-cannot-decrypt')
      deps.output.err(
        `warning: this passphrase does not open the newest backup (${newest.name}); restoring will need more than one passphrase\n`,
      );
  }
}

/**
 * Encrypts the secret files into one new backup, verifies it, and records it in the audit trail.
 * The rotation engine calls this before every write; a SecretsError (exit 3) means no backup
 * exists and nothing may be changed.
 */
export async function createBackup(input: BackupInput, deps: Deps): Promise<BackupResult> {
  return withStateLock(
    input.policy.stateDir,
    { command: `secrets backup (${input.reason})`, waitMs: DEFAULT_APPEND_WAIT_MS },
    deps,
    () => createBackupLocked(input, deps),
  );
}

async function createBackupLocked(input: BackupInput, deps: Deps): Promise<BackupResult> {
  const { policy } = input;
  const paths = [
    ...new Set(
      (input.files ?? backupFiles(policy)).map((path) => (isAbsolute(path) ? path : resolve(policy.root, path))),
    ),
  ];
  const originals = await readOriginals(paths, deps);
  if (originals.length === 0)
    throw failed('backup-nothing', 'none of the files to back up exists; nothing was written', {
      where: policy.path,
      hint: 'check env_file and backup.files in the policy',
    });

  const pgp = await deps.loadPgp();
  const material = await encryptionMaterial(policy, pgp, deps);
  const now = deps.clock.now();
  const { tar } = buildArchive({
    deployment: policy.deployment,
    created: now,
    reason: input.reason,
    root: policy.root,
    files: originals,
  });

  await ensureBackupDir(policy.backupDir, deps);
  await sweepBackupTemps(policy.backupDir, deps);
  if (material.passphrase) await warnAboutPassphrase(policy, material.passphrase, pgp, deps);
  const path = await freeName(policy.backupDir, policy.deployment, now, deps);
  const encrypted = await pgp.encrypt(tar, {
    recipients: material.recipients,
    ...(material.passphrase ? { passphrase: material.passphrase } : {}),
    filename: basename(path).replace(/\.gpg$/, ''),
  });
  try {
    await deps.files.writeAtomic(path, encrypted, { mode: 0o600 });
  } catch (error) {
    throw failed(
      'backup-write-failed',
      `cannot write the backup (${errnoCode(error) ?? String(error)}); nothing was written`,
      { where: path, hint: 'check the backup folder: free space, read-only filesystem, permissions' },
    );
  }

  const problem = await verifyBackup(path, encrypted, tar, originals, material, pgp, deps).catch((error: unknown) =>
    isSecretsError(error) ? error.message : String(error),
  );
  if (problem) {
    await deps.files.remove(path);
    throw failed('backup-verify-failed', `the new backup failed verification: ${problem}; it was deleted`, {
      where: path,
      hint: 'nothing was changed; check the disk and run secrets backup again',
    });
  }

  const files = originals.map((original) => ({
    path: original.path,
    sha256: sha256Hex(original.data),
    size: original.data.length,
  }));
  await appendAudit(
    policy.stateDir,
    {
      action: 'backup',
      details: {
        backup: basename(path),
        reason: input.reason,
        files: originals.map((original) => original.path),
        passphrase: material.passphrase !== undefined,
        // Keyed, like every fingerprint here: `check` counts how many passphrases the backups need.
        ...(material.passphrase
          ? {
              passphraseId: fingerprintBytes(
                material.passphrase.revealBytes(),
                await fingerprintKey(policy.stateDir, deps),
              ),
            }
          : {}),
        recipients: material.recipientKeyIds.map((ids) => ids[0]?.toUpperCase()),
      },
    },
    deps,
  );
  return { path, files };
}

/** How much of a backup --list decrypts: enough for the manifest, never the whole archive. */
const LIST_PREFIX = 256 * 1024;

export type BackupAccess =
  /** Decrypted with the configured passphrase. */
  | 'opens'
  /** Addressed to a configured recipient: opens with that recipient's private key (`restore --key`). */
  | 'recipient-key'
  /** Needs a passphrase that is not set in the environment. */
  | 'needs-passphrase'
  | 'wrong-passphrase'
  /** Addressed to keys none of the configured recipients has. */
  | 'other-keys'
  | 'damaged';

export interface BackupListing {
  name: string;
  path: string;
  date: Date;
  size: number;
  /** Names inside, when it could be opened. */
  files?: string[];
  access: BackupAccess;
}

/** `secrets backup --list`: newest first, with whether the configured material opens each. */
export async function listBackups(input: { policy: Policy }, deps: Deps): Promise<BackupListing[]> {
  const { policy } = input;
  const names = await deps.files.list(policy.backupDir).catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT') return [] as string[];
    throw failed('backup-dir-unreadable', `cannot read the backup folder (${errnoCode(error) ?? String(error)})`, {
      where: policy.backupDir,
    });
  });
  const candidates = names.filter(isOpenPgpFileName);
  if (candidates.length === 0) return [];
  const pgp = await deps.loadPgp();
  const passphrase = passphraseFromEnv(policy, deps);
  const recipientIds: string[] = [];
  for (const key of await readRecipients(policy, deps).catch(() => [] as string[]))
    recipientIds.push(...(await pgp.encryptionKeyIds(key).catch(() => [] as string[])));

  const listings: BackupListing[] = [];
  for (const name of candidates) {
    const path = join(policy.backupDir, name);
    const stat = await deps.files.stat(path);
    if (!stat?.isFile) continue;
    const listing: BackupListing = {
      name,
      path,
      date: backupNameDate(name) ?? stat.mtime,
      size: stat.size,
      access: 'damaged',
    };
    try {
      const bytes = await deps.files.readBytes(path);
      const info = await pgp.inspect(bytes);
      if (info.passphrase && passphrase) {
        try {
          // Only the head of the archive: our manifest comes first and names every file.
          const { data, filename } = await pgp.decrypt(bytes, { passphrase, maxBytes: LIST_PREFIX, prefixOnly: true });
          listing.files =
            readManifestPrefix(data)?.files.map((file) => file.name) ??
            (data.length < LIST_PREFIX
              ? readArchive(data, filename || name.replace(/\.(gpg|pgp|asc)$/, '')).files.map((file) => file.name)
              : []);
          listing.access = 'opens';
        } catch (error) {
          listing.access = isSecretsError(error, 'pgp-damaged') ? 'damaged' : 'wrong-passphrase';
        }
      } else if (info.recipientKeyIds.some((id) => recipientIds.includes(id))) {
        listing.access = 'recipient-key';
      } else {
        listing.access = info.passphrase ? 'needs-passphrase' : 'other-keys';
      }
    } catch {
      listing.access = 'damaged';
    }
    listings.push(listing);
  }
  return listings.sort(compareBackupsNewestFirst);
}

/**
 * `secrets backup --prune`: deletes this deployment's backups older than `backup.keep`, always
 * keeping the newest. Files it did not name itself are never touched.
 */
export async function pruneBackups(
  input: { policy: Policy; dryRun?: boolean },
  deps: Deps,
): Promise<{ removed: string[]; kept: string[] }> {
  return withStateLock(
    input.policy.stateDir,
    { command: 'secrets backup --prune', waitMs: DEFAULT_APPEND_WAIT_MS },
    deps,
    () => pruneBackupsLocked(input, deps),
  );
}

async function pruneBackupsLocked(
  input: { policy: Policy; dryRun?: boolean },
  deps: Deps,
): Promise<{ removed: string[]; kept: string[] }> {
  const { policy } = input;
  const names = await deps.files.list(policy.backupDir).catch(() => [] as string[]);
  const own = names
    .filter((name) => isOwnBackupName(policy.deployment, name))
    .map((name) => ({ name, date: backupNameDate(name)! }));
  const keep = parseDuration(policy.doc.backup.keep)!;
  const removed = selectPrunable(own, keep, deps.clock.now());
  if (!input.dryRun) {
    for (const name of removed) {
      await deps.files.remove(join(policy.backupDir, name));
      await appendAudit(
        policy.stateDir,
        { action: 'backup-pruned', details: { backup: name, keep: policy.doc.backup.keep } },
        deps,
      );
    }
  }
  return { removed, kept: own.map((backup) => backup.name).filter((name) => !removed.includes(name)) };
}

export interface AdoptResult {
  backup: BackupResult;
  removed: string;
}

/**
 * `secrets backup --adopt FILE`: a plaintext copy found by `check` (the old `cp .env .env.bak`
 * habit) is encrypted into a verified backup, then unlinked. It is not overwritten first:
 * on journaling, copy-on-write and flash storage an overwrite does not reliably reach the old
 * blocks, so pretending would be worse than saying so (the CLI says so).
 */
export async function adoptPlaintext(input: { policy: Policy; file: string }, deps: Deps): Promise<AdoptResult> {
  return withStateLock(
    input.policy.stateDir,
    { command: 'secrets backup --adopt', waitMs: DEFAULT_APPEND_WAIT_MS },
    deps,
    () => adoptLocked(input, deps),
  );
}

async function adoptLocked(input: { policy: Policy; file: string }, deps: Deps): Promise<AdoptResult> {
  const { policy } = input;
  const path = isAbsolute(input.file) ? input.file : resolve(deps.cwd, input.file);
  // Compared by real path: the live .env named through a symlinked folder is still the live .env.
  const real = await deps.files.realpath(path);
  const live = await Promise.all(backupFiles(policy).map((file) => deps.files.realpath(file)));
  const inside = async (dir: string) => {
    const root = await deps.files.realpath(dir);
    return real === root || real.startsWith(`${root}/`);
  };
  if (
    (await inside(policy.stateDir)) ||
    (await inside(policy.backupDir)) ||
    real === (await deps.files.realpath(policy.path))
  )
    throw failed(
      'adopt-own-file',
      "this is one of secrets' own files (state, backups or the policy), not a plaintext copy; refusing to remove it",
      {
        where: path,
      },
    );
  if (backupFiles(policy).includes(path) || live.includes(real)) {
    throw failed('adopt-live-file', 'this is a live secret file of the policy, not a copy; refusing to remove it', {
      where: path,
      hint: 'use secrets backup to back it up',
    });
  }
  const stat = await deps.files.stat(path);
  if (!stat?.isFile) throw failed('adopt-missing', 'no such file', { where: path });
  const head = (await deps.files.readBytes(path)).subarray(0, 64);
  if (looksLikeOpenPgp(head))
    throw failed('adopt-already-encrypted', 'already an OpenPGP message, not a plaintext copy', { where: path });

  const backup = await createBackup(
    { policy, files: [path], reason: `adopted plaintext copy ${basename(path)}` },
    deps,
  );
  try {
    await deps.files.remove(path);
  } catch (error) {
    throw new SecretsError(
      'adopt-remove-failed',
      `encrypted into ${backup.path} but could not remove the plaintext (${errnoCode(error) ?? String(error)})`,
      { where: path, exitCode: 4, hint: `remove it by hand: rm ${path}` },
    );
  }
  await appendAudit(
    policy.stateDir,
    { action: 'backup-adopted', details: { plaintext: path, backup: basename(backup.path) } },
    deps,
  );
  return { backup, removed: path };
}
