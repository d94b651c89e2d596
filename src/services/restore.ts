import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import {
  archiveName,
  backupNameDate,
  diffEnvKeys,
  looksLikeDotenvName,
  readArchive,
  type ArchivedFile,
  type EnvKeyDiff,
} from '../core/backup-archive.js';
import { randomUUID } from 'node:crypto';
import { SecretsError, errnoCode, isSecretsError, type ErrorCode } from '../core/errors.js';
import { modeRequirements } from '../core/checks/compliance.js';
import type { Journal } from '../core/rotation/journal.js';
import { envKeysOfSecret, filesOfSecret } from '../kinds/index.js';
import { clearJournal, readJournal } from './state/journal-store.js';
import { DEFAULT_APPEND_WAIT_MS, withStateLock } from './state/state-lock.js';
import { markRecording, recoverInterrupted, rollBack, swapFiles } from './rotation/transaction.js';
import type { FileChange as SwapChange } from '../kinds/kind.js';
import type { Pgp, PgpDecryptOptions } from '../core/ports.js';
import type { Policy } from '../core/policy.js';
import { backupFiles } from '../kinds/index.js';
import { Secret } from '../core/secret.js';
import { appendAudit, readAuditEntries } from './state/audit-trail.js';
import { createBackup } from './backup.js';
import { keyPassphraseFromEnv, passphraseFromEnv, readPrivateKeyFile } from './backup/backup-material.js';
import type { Deps } from './deps.js';

export interface RestoreInput {
  policy: Policy;
  /** The backup file (absolute, or relative to the working folder). */
  file: string;
  /** Restore into this new folder; default `<backup dir>/<backup name>.restored`. */
  to?: string;
  /** Armored private key file, for backups encrypted to a public key. */
  keyFile?: string;
  /** Replace the live files (after backing up their current state). */
  inPlace?: boolean;
  /** Wait this long for the state lock (default: a minute). */
  waitMs?: number;
}

export type FileChange =
  { kind: 'env'; diff: EnvKeyDiff } | { kind: 'identical' } | { kind: 'differs' } | { kind: 'new' };

export interface RestoredFile {
  /** Name inside the backup. */
  name: string;
  /** The live file it corresponds to. */
  live: string;
  /** Where it was written. */
  written?: string;
  /** What restoring it changes compared to the live file — key names only. */
  change: FileChange;
}

export interface RestoreOutcome {
  backup: string;
  mode: 'folder' | 'in-place';
  /** The folder written (folder mode). */
  folder?: string;
  files: RestoredFile[];
  /** In-place: backup of the state before the restore. */
  previousState?: string;
  /** Entries not restored: unsafe names, or (in place) files the policy does not manage. */
  skipped: string[];
}

function failed(code: ErrorCode, message: string, options: { where?: string; hint?: string } = {}): SecretsError {
  return new SecretsError(code, message, options);
}

/** Decrypts with what the environment, --key and (on a terminal) a prompt provide. */
async function decryptBackup(
  bytes: Uint8Array,
  input: RestoreInput,
  pgp: Pgp,
  deps: Deps,
): Promise<{ data: Uint8Array; filename: string }> {
  const { policy } = input;
  const info = await pgp.inspect(bytes);
  const options: PgpDecryptOptions = { maxBytes: policy.doc.backup.max_size_mib * 1024 * 1024 };
  let passphrase = passphraseFromEnv(policy, deps);
  if (!passphrase && info.passphrase && !input.keyFile && deps.interactive)
    passphrase = Secret.known(await deps.prompts.password('Backup passphrase:'));
  if (passphrase) options.passphrase = passphrase;
  if (input.keyFile) {
    const keyPassphrase = keyPassphraseFromEnv(policy, deps);
    options.privateKey = {
      armored: await readPrivateKeyFile(resolve(deps.cwd, input.keyFile), deps),
      ...(keyPassphrase ? { passphrase: keyPassphrase } : {}),
    };
  }
  try {
    return await pgp.decrypt(bytes, options);
  } catch (error) {
    // The key is locked and nothing in the environment unlocks it: ask, once, on a terminal.
    if (isSecretsError(error, 'pgp-key-locked') && deps.interactive && options.privateKey) {
      options.privateKey.passphrase = Secret.known(await deps.prompts.password('Private key passphrase:'));
      return pgp.decrypt(bytes, options);
    }
    throw error;
  }
}

async function readLive(path: string, deps: Deps): Promise<Uint8Array | undefined> {
  return (await deps.files.stat(path)) ? deps.files.readBytes(path).catch(() => undefined) : undefined;
}

function describeChange(file: ArchivedFile, live: Uint8Array | undefined): FileChange {
  if (!live) return { kind: 'new' };
  if (Buffer.from(live).equals(Buffer.from(file.data))) return { kind: 'identical' };
  if (looksLikeDotenvName(file.name)) {
    const diff = diffEnvKeys(Buffer.from(live).toString('utf8'), Buffer.from(file.data).toString('utf8'));
    if (diff) return { kind: 'env', diff };
  }
  return { kind: 'differs' };
}

/** Writes the files into a new folder (700); on failure removes what it wrote. */
async function restoreIntoFolder(folder: string, files: ArchivedFile[], deps: Deps): Promise<string[]> {
  const existing = await deps.files.stat(folder);
  if (existing && (!existing.isDirectory || (await deps.files.list(folder)).length > 0)) {
    throw failed('restore-target-exists', 'the restore folder already exists and is not empty; nothing was written', {
      where: folder,
      hint: 'pass --to NEW_FOLDER',
    });
  }
  const written: string[] = [];
  const madeDirs: string[] = [];
  try {
    for (const dir of [folder, ...new Set(files.map((file) => dirname(join(folder, file.name))))]) {
      if (!(await deps.files.stat(dir))) {
        await deps.files.ensureDir(dir, 0o700);
        madeDirs.push(dir);
      }
    }
    for (const file of files) {
      const target = join(folder, file.name);
      await deps.files.writeAtomic(target, file.data, { mode: file.mode & 0o700 || 0o600 });
      written.push(target);
    }
  } catch (error) {
    for (const path of written) await deps.files.remove(path).catch(() => undefined);
    for (const dir of madeDirs.reverse()) await deps.files.removeEmptyDir(dir).catch(() => undefined);
    throw failed(
      'restore-write-failed',
      `cannot write the restored files (${errnoCode(error) ?? String(error)}); nothing was written`,
      { where: folder },
    );
  }
  return written;
}

/**
 * Replaces the live files as one transaction (the caller holds the lock): the current state is
 * backed up, the swap journaled like a rotation's (previous contents copied aside), every file
 * replaced atomically, and the `restored` entries appended before the journal is cleared. A
 * failure or a crash before those entries puts every file back (`secrets restore --recover`, or
 * the next rotate/restore); after them, the restored state is final. All files or none.
 */
async function restoreInPlace(
  files: Array<{ file: ArchivedFile; live: string }>,
  input: RestoreInput,
  deps: Deps,
  record: (rotation: string) => Promise<void>,
): Promise<string | undefined> {
  const { policy } = input;
  const existing: string[] = [];
  for (const { live } of files) if (await deps.files.stat(live)) existing.push(live);
  const previous =
    existing.length > 0
      ? await createBackup(
          { policy: input.policy, files: existing, reason: `before restoring ${basename(input.file)} in place` },
          deps,
        )
      : undefined;
  const required = modeRequirements(policy);
  const changes: SwapChange[] = [];
  for (const { file, live } of files) {
    const current = (await deps.files.stat(live)) ? await deps.files.readBytes(live) : undefined;
    // A file that already holds the backup's bytes is left alone (and out of the journal).
    if (current && Buffer.from(current).equals(Buffer.from(file.data))) continue;
    const content = file.data;
    const stat = await deps.files.stat(live);
    // Never the backup's own mode: a file that is missing gets the policy's mode, or 600.
    changes.push({ path: live, content, ...(stat ? {} : { mode: required.get(live) ?? 0o600 }) });
  }
  const rotation = randomUUID();
  let journal: Journal | undefined;
  try {
    journal = await swapFiles(
      { policy, rotation, secret: RESTORE_JOURNAL, kind: 'restore', changes, hooks: [], hookTimeout: '30s' },
      deps,
    );
    await markRecording(policy, journal, deps);
    await record(rotation);
  } catch (error) {
    journal ??= await readJournal(policy.stateDir, deps);
    const reason = error instanceof Error ? error.message : String(error);
    if (journal) {
      const { entries } = await readAuditEntries(policy.stateDir, deps);
      if (!entries.some((entry) => entry.action === 'restored' && entry.details?.rotation === rotation))
        await rollBack(policy, journal, deps);
      else await clearJournal(policy.stateDir, deps);
    }
    throw failed('restore-write-failed', `cannot restore in place (${reason}); every file is as it was`, {
      where: input.file,
    });
  }
  await clearJournal(policy.stateDir, deps);
  return previous?.path;
}

/** The journal's `secret` for an in-place restore (it spans files, not one secret). */
export const RESTORE_JOURNAL = '(restore)';

/**
 * The secrets whose values a restore changes: env secrets whose keys differ, htpasswd secrets
 * whose file differs. Their `restored` entries tell `check` the values are as old as the backup.
 */
function secretsChanged(policy: Policy, restored: RestoredFile[]): string[] {
  const ids: string[] = [];
  for (const { id, spec } of policy.secrets) {
    const touched = restored.some((file) => {
      if (!filesOfSecret(policy, spec).includes(file.live)) return false;
      if (file.change.kind === 'identical') return false;
      if (file.change.kind !== 'env' || file.live !== policy.envFile) return true;
      const { added, removed, changed } = file.change.diff;
      return envKeysOfSecret(spec).some((key) => [...added, ...removed, ...changed].includes(key));
    });
    if (touched) ids.push(id);
  }
  return ids;
}

/** Finishes or undoes an in-place restore (or rotation) a crash interrupted. */
export async function recoverRestore(input: { policy: Policy; waitMs?: number }, deps: Deps) {
  return withStateLock(
    input.policy.stateDir,
    { command: 'secrets restore --recover', waitMs: input.waitMs ?? 0 },
    deps,
    () => recoverInterrupted(input.policy, deps),
  );
}

/** `secrets restore FILE`: decrypts, checks, and writes into a new folder or (--in-place) the live files. */
export async function restoreBackup(input: RestoreInput, deps: Deps): Promise<RestoreOutcome> {
  return withStateLock(
    input.policy.stateDir,
    { command: `secrets restore${input.inPlace ? ' --in-place' : ''}`, waitMs: input.waitMs ?? DEFAULT_APPEND_WAIT_MS },
    deps,
    async () => {
      // An interrupted rotation or restore is finished first: its journal and copies must not be overwritten.
      if (input.inPlace) {
        const recovered = await recoverInterrupted(input.policy, deps);
        if (recovered) deps.output.err(`recovered: ${recovered.summary}; ${recovered.detail}\n`);
      }
      return restoreLocked(input, deps);
    },
  );
}

async function restoreLocked(input: RestoreInput, deps: Deps): Promise<RestoreOutcome> {
  const { policy } = input;
  const file = isAbsolute(input.file) ? input.file : resolve(deps.cwd, input.file);
  let bytes: Uint8Array;
  try {
    bytes = await deps.files.readBytes(file);
  } catch (error) {
    throw failed('restore-unreadable', `cannot read the backup (${errnoCode(error) ?? String(error)})`, {
      where: file,
    });
  }
  const pgp = await deps.loadPgp();
  let content: { data: Uint8Array; filename: string };
  try {
    content = await decryptBackup(bytes, input, pgp, deps);
  } catch (error) {
    if (isSecretsError(error))
      throw failed(error.code, `${error.message}; nothing was written`, {
        where: file,
        ...(error.hint ? { hint: error.hint } : {}),
      });
    throw error;
  }
  let archive: ReturnType<typeof readArchive>;
  try {
    archive = readArchive(content.data, content.filename || basename(file).replace(/\.(gpg|pgp|asc)$/, ''));
  } catch (error) {
    throw failed(
      'restore-damaged',
      `the archive inside is damaged (${isSecretsError(error) ? error.message : String(error)}); nothing was written`,
      { where: file },
    );
  }
  for (const entry of archive.files) {
    const record = archive.manifest?.files.find((candidate) => candidate.path === entry.path);
    if (record && record.sha256 !== entry.sha256)
      throw failed('restore-damaged', `${entry.name} inside does not match its recorded SHA-256; nothing was written`, {
        where: file,
      });
  }

  const managed = new Set(backupFiles(policy));
  const skipped = [...archive.skipped];
  const files: RestoredFile[] = [];
  const targets: Array<{ file: ArchivedFile; live: string }> = [];
  for (const entry of archive.files) {
    const live = entry.path ?? resolve(policy.root, entry.name);
    // The manifest may only name a file by the name it has inside: an entry called harmless.txt
    // that the manifest maps onto the live .env is a trap, not a backup of .env.
    if (entry.path !== undefined && archiveName(policy.root, entry.path) !== entry.name) {
      skipped.push(entry.name);
      continue;
    }
    const change = describeChange(entry, await readLive(live, deps));
    if (input.inPlace && !managed.has(live)) {
      // Only files the policy manages may be replaced: a backup encrypted to our public key
      // could have been made by anyone, and must not be able to write elsewhere.
      skipped.push(entry.name);
      continue;
    }
    files.push({ name: entry.name, live, change });
    targets.push({ file: entry, live });
  }

  let outcome: RestoreOutcome;
  if (input.inPlace) {
    if (targets.length === 0)
      throw failed('restore-nothing', 'no file in this backup is managed by the policy; nothing was written', {
        where: file,
      });
    const changedSecrets = secretsChanged(policy, files);
    const created = archive.manifest?.created ?? backupNameDate(basename(file))?.toISOString();
    const previousState = await restoreInPlace(targets, { ...input, file }, deps, async (rotation) => {
      // One entry, so it is recorded whole or not at all: recovery reads its rotation id, `check`
      // dates the secrets it names by the backup (their values are as old as the backup).
      await appendAudit(
        policy.stateDir,
        {
          action: 'restored',
          details: {
            rotation,
            backup: basename(file),
            mode: 'in-place',
            files: targets.map((target) => target.live),
            secrets: changedSecrets,
            ...(created ? { backupCreated: created } : {}),
          },
        },
        deps,
      );
    });
    for (const restored of files) restored.written = restored.live;
    outcome = { backup: file, mode: 'in-place', files, skipped, ...(previousState ? { previousState } : {}) };
    return outcome;
  }
  const folder = input.to
    ? resolve(deps.cwd, input.to)
    : join(policy.backupDir, `${basename(file).replace(/\.(tar\.)?(gpg|pgp|asc)$/, '')}.restored`);
  const written = await restoreIntoFolder(
    folder,
    targets.map((target) => target.file),
    deps,
  );
  files.forEach((restored, index) => (restored.written = written[index]));
  outcome = { backup: file, mode: 'folder', folder, files, skipped };
  await appendAudit(
    policy.stateDir,
    {
      action: 'backup-restored',
      details: {
        backup: basename(file),
        mode: outcome.mode,
        folder: outcome.folder,
        files: files.map((restored) => restored.written),
      },
    },
    deps,
  );
  return outcome;
}
