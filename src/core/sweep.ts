/**
 * `secrets sweep`: stray copies of secret values on the host (.env.backup.*, editor swap files,
 * shell histories). The port the service walks the host through, and what it reports; never a value.
 */

export type HostEntryType = 'file' | 'dir' | 'symlink' | 'special';

export interface HostEntry {
  type: HostEntryType;
  /** The filesystem the entry lives on (st_dev): other filesystems are skipped unless asked. */
  dev: number;
  /** The inode: a log rotated by rename keeps it, a new log gets another. */
  ino: number;
  uid: number;
  mode: number;
  size: number;
  mtime: Date;
}

/** The host's files as sweep sees them: lstat (links are not followed), a listing, a bounded read. */
export interface HostTree {
  lstat(path: string): Promise<HostEntry | undefined>;
  /** undefined when the folder cannot be listed. */
  list(path: string): Promise<string[] | undefined>;
  /** undefined when the file cannot be read. */
  read(path: string): Promise<Uint8Array | undefined>;
  /** The bytes from `offset` to the end (a log's unread tail); undefined when it cannot be read. */
  readFrom(path: string, offset: number): Promise<Uint8Array | undefined>;
  ownerName(uid: number): Promise<string>;
}

export interface StrayCopy {
  path: string;
  owner: string;
  /** e.g. "644" */
  mode: string;
  modified: string;
  ageDays: number;
  /** Which secrets, and whether the copy holds the current value or a past one. */
  secrets: Array<{ id: string; value: 'current' | 'past' }>;
}

export interface SweepSkipped {
  unreadable: number;
  otherFilesystem: number;
  /** FIFOs, sockets, devices. */
  special: number;
  large: number;
  /** Stopped at the file limit (check's bounded sweep). */
  truncated: boolean;
}

/** Never entered: kernel views and device nodes, whose "files" are endless or have side effects. */
export const NEVER_SWEPT = ['/proc', '/sys', '/dev'];

export function isNeverSwept(path: string): boolean {
  return NEVER_SWEPT.some((root) => path === root || path.startsWith(`${root}/`));
}
