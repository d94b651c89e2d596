import { createHash } from 'node:crypto';
import { parseDotenv } from './dotenv.js';
import { addDuration, type Duration } from './duration.js';
import { looksLikeTar, readTar, safeEntryName, writeTar } from './tar.js';

/**
 * What a backup holds, decided purely. Format (README.md, `secrets backup`): one OpenPGP message per run
 * whose literal data is a ustar archive: a small manifest first, then every file. One message
 * per run, not one per file, so that a backup is one atomic file that is either all there or
 * not, and the rotation engine has one name to record.
 */

/** First entry of every archive: where each file came from, and its SHA-256 for verification. */
export const MANIFEST_NAME = '.secrets-backup.json';

export interface BackupFileRecord {
  /** Name inside the archive (relative to the deployment root, or the absolute path without its leading `/`). */
  name: string;
  /** Absolute path of the live file it was read from. */
  path: string;
  sha256: string;
  size: number;
  mode: number;
}

export interface BackupManifest {
  format: 'secrets-backup/1';
  deployment: string;
  created: string;
  reason: string;
  files: BackupFileRecord[];
}

export interface ArchivedFile {
  name: string;
  /** From the manifest, when the archive has one (ours do; a tar made by hand does not). */
  path?: string;
  data: Uint8Array;
  mode: number;
  sha256: string;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `mt5-crs-20261124T120000Z.tar.gpg`: sortable, UTC, no characters a shell would mind. */
export function backupFileName(deployment: string, at: Date, counter = 1): string {
  const stamp = at
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
  return `${deployment}-${stamp}${counter > 1 ? `-${counter}` : ''}.tar.gpg`;
}

const STAMPED = /-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z(?:-\d+)?\.tar\.gpg$/;

/** The UTC time in a backup's name, or undefined for a name we did not make. */
export function backupNameDate(name: string): Date | undefined {
  const match = STAMPED.exec(name);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match;
  const date = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Orders backups newest first: by the time in the name, then by the `-N` counter of a same-second backup. */
export function compareBackupsNewestFirst(a: { name: string; date: Date }, b: { name: string; date: Date }): number {
  const counter = (name: string) => Number(/Z-(\d+)\.tar\.gpg$/.exec(name)?.[1] ?? 1);
  return b.date.getTime() - a.date.getTime() || counter(b.name) - counter(a.name) || b.name.localeCompare(a.name);
}

/** Whether `name` is one of this deployment's backups (the only files prune may delete). */
export function isOwnBackupName(deployment: string, name: string): boolean {
  return (
    name.startsWith(`${deployment}-`) &&
    /^-\d{8}T\d{6}Z(?:-\d+)?\.tar\.gpg$/.test(name.slice(deployment.length)) &&
    backupNameDate(name) !== undefined
  );
}

/** Files a listing treats as encrypted backups: ours and anything gpg made. */
export function isOpenPgpFileName(name: string): boolean {
  return !name.startsWith('.') && /\.(gpg|pgp|asc)$/.test(name);
}

/** The name a live file takes inside the archive. */
export function archiveName(root: string, path: string): string {
  const prefix = root.endsWith('/') ? root : `${root}/`;
  return path.startsWith(prefix) ? path.slice(prefix.length) : path.replace(/^\/+/, '');
}

export function buildArchive(input: {
  deployment: string;
  created: Date;
  reason: string;
  root: string;
  files: Array<{ path: string; data: Uint8Array; mode: number }>;
}): { tar: Uint8Array; manifest: BackupManifest } {
  const records: BackupFileRecord[] = input.files.map((file) => ({
    name: archiveName(input.root, file.path),
    path: file.path,
    sha256: sha256Hex(file.data),
    size: file.data.length,
    mode: file.mode & 0o7777,
  }));
  const manifest: BackupManifest = {
    format: 'secrets-backup/1',
    deployment: input.deployment,
    created: input.created.toISOString(),
    reason: input.reason,
    files: records,
  };
  const manifestBytes = new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);
  const tar = writeTar([
    { name: MANIFEST_NAME, data: manifestBytes, mode: 0o600, mtime: input.created },
    ...input.files.map((file, index) => ({
      name: records[index]!.name,
      data: file.data,
      mode: file.mode & 0o7777,
      mtime: input.created,
    })),
  ]);
  return { tar, manifest };
}

function parseManifest(data: Uint8Array): BackupManifest | undefined {
  try {
    const value = JSON.parse(new TextDecoder().decode(data)) as Partial<BackupManifest>;
    return value.format === 'secrets-backup/1' && Array.isArray(value.files) ? (value as BackupManifest) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The manifest from the first bytes of one of our archives (it is the first entry), without
 * reading further: what `backup --list` needs. undefined when the prefix does not start with it.
 */
export function readManifestPrefix(prefix: Uint8Array): BackupManifest | undefined {
  if (prefix.length < 512 || !looksLikeTar(prefix.subarray(0, 512))) return undefined;
  const name = new TextDecoder().decode(prefix.subarray(0, 100)).replace(/\0.*$/s, '');
  if (name !== MANIFEST_NAME) return undefined;
  const size = parseInt(new TextDecoder().decode(prefix.subarray(124, 136)).replace(/\0.*$/s, '').trim(), 8);
  if (!Number.isFinite(size) || 512 + size > prefix.length) return undefined;
  return parseManifest(prefix.subarray(512, 512 + size));
}

/**
 * The files inside decrypted backup content. Our archives and any ustar come out as their
 * entries; anything else (`gpg --symmetric .env`) is one file named after the OpenPGP literal
 * data's file name, so a backup made by plain gpg restores too. Unsafe names are dropped.
 */
export function readArchive(
  content: Uint8Array,
  literalName: string,
): { manifest?: BackupManifest; files: ArchivedFile[]; skipped: string[] } {
  if (!looksLikeTar(content)) {
    const name = safeEntryName(literalName.split('/').pop() ?? '') ?? 'restored-file';
    return { files: [{ name, data: content, mode: 0o600, sha256: sha256Hex(content) }], skipped: [] };
  }
  const entries = readTar(content);
  const manifestEntry = entries.find((entry) => entry.name === MANIFEST_NAME);
  const manifest = manifestEntry ? parseManifest(manifestEntry.data) : undefined;
  const files: ArchivedFile[] = [];
  const skipped: string[] = [];
  for (const entry of entries) {
    if (entry === manifestEntry) continue;
    const name = safeEntryName(entry.name);
    if (!name) {
      skipped.push(entry.name);
      continue;
    }
    const record = manifest?.files.find((candidate) => candidate.name === entry.name);
    files.push({
      name,
      ...(record ? { path: record.path } : {}),
      data: entry.data,
      mode: (entry.mode ?? 0o600) & 0o777,
      sha256: sha256Hex(entry.data),
    });
  }
  return { ...(manifest ? { manifest } : {}), files, skipped };
}

/** Names of keys a restore would add, remove or change in a dotenv file — never values. */
export interface EnvKeyDiff {
  added: string[];
  removed: string[];
  changed: string[];
}

/** undefined when either side is not readable as dotenv (then only "differs" can be said). */
export function diffEnvKeys(live: string | undefined, restored: string): EnvKeyDiff | undefined {
  try {
    const after = new Map(parseDotenv(restored, 'backup').entries.map((entry) => [entry.key, entry.value]));
    const before = new Map(
      live === undefined ? [] : parseDotenv(live, 'live').entries.map((entry) => [entry.key, entry.value]),
    );
    return {
      added: [...after.keys()].filter((key) => !before.has(key)).sort(),
      removed: [...before.keys()].filter((key) => !after.has(key)).sort(),
      changed: [...after.keys()].filter((key) => before.has(key) && before.get(key) !== after.get(key)).sort(),
    };
  } catch {
    return undefined;
  }
}

export function looksLikeDotenvName(name: string): boolean {
  const base = name.split('/').pop() ?? name;
  return base === '.env' || base.startsWith('.env.') || base.endsWith('.env');
}

/** Backups to delete: older than `keep`, never the newest one (a deployment always keeps one). */
export function selectPrunable(backups: Array<{ name: string; date: Date }>, keep: Duration, now: Date): string[] {
  if (backups.length === 0) return [];
  const sorted = [...backups].sort(compareBackupsNewestFirst);
  return sorted
    .slice(1)
    .filter((backup) => addDuration(backup.date, keep) < now)
    .map((backup) => backup.name);
}
