import type { FileStat } from './ports.js';

/** nginx's worker user and group as nginx.conf names them. */
export interface NginxWorker {
  user: string;
  group: string;
  /** Where the names came from, for the warning text. */
  source: string;
}

/**
 * The `user` directive of nginx.conf (`user www-data;`, `user nginx nginx;`). nginx uses the
 * group named like the user when the group is omitted. Without the directive (or the file), the
 * Debian/Ubuntu packaging default www-data is assumed.
 */
export function nginxWorker(confText: string | undefined, confPath: string): NginxWorker {
  const text = (confText ?? '').replace(/#[^\n]*/g, '');
  const match = /(?:^|[;{}\s])user\s+([^\s;]+)(?:\s+([^\s;]+))?\s*;/.exec(text);
  if (!match)
    return {
      user: 'www-data',
      group: 'www-data',
      source: confText === undefined ? 'default (no nginx.conf found)' : `default (no user directive in ${confPath})`,
    };
  return { user: match[1]!, group: match[2] ?? match[1]!, source: confPath };
}

/** The id of a name in /etc/passwd or /etc/group text (`name:x:id:...`). */
export function idOfName(accountsText: string | undefined, name: string): number | undefined {
  for (const line of (accountsText ?? '').split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields[2] !== undefined && /^\d+$/.test(fields[2])) return Number(fields[2]);
  }
  return undefined;
}

/**
 * Whether `path` is itself a mount point in /proc/self/mountinfo (field 5, with the kernel's
 * octal escapes for space, tab, newline and backslash) — the shape of a single-file bind mount,
 * e.g. a container mounting the host's htpasswd.
 */
export function isMountPoint(mountinfoText: string | undefined, path: string): boolean {
  for (const line of (mountinfoText ?? '').split('\n')) {
    const mountPoint = line.split(' ')[4];
    if (mountPoint === undefined) continue;
    const decoded = mountPoint.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    if (decoded === path) return true;
  }
  return false;
}

export interface HtpasswdReadFacts {
  path: string;
  stat: FileStat;
  worker: NginxWorker;
  workerUid: number | undefined;
  workerGid: number | undefined;
}

/**
 * Whether nginx's worker can read the file as it now is — it answers 500 to every request
 * otherwise (0600 root:root is the classic). A warning, not a refusal: the probe is the proof.
 */
export function readAccessWarnings(facts: HtpasswdReadFacts): string[] {
  const { path, stat, worker } = facts;
  const mode = stat.mode & 0o777;
  const octal = mode.toString(8).padStart(3, '0');
  const ownerIsWorker = facts.workerUid !== undefined && stat.uid === facts.workerUid;
  const groupIsWorker = facts.workerGid !== undefined && stat.gid === facts.workerGid;
  if (ownerIsWorker || (mode & 0o004) !== 0) return [];
  if (!groupIsWorker) {
    const groupName = facts.workerGid === undefined ? `${worker.group} (not in /etc/group)` : worker.group;
    return [
      `${path}: its group (gid ${stat.gid}) is not nginx's worker group ${groupName}, from ${worker.source}; with mode ${octal} nginx cannot read it and answers 500: run chgrp ${worker.group} ${path}`,
    ];
  }
  if ((mode & 0o040) === 0) {
    return [
      `${path}: mode ${octal} gives nginx's group ${worker.group} no read access, so nginx answers 500: set mode: "640" in the policy`,
    ];
  }
  return [];
}

/**
 * The rewrite is a rename, so the file gets a new inode. Other hard links, and a bind mount of
 * the file itself (a container mounting the host's htpasswd), keep the old inode and with it the
 * old password hash — checked before the swap, while the old inode is still there to look at.
 */
export function inodeWarnings(path: string, stat: FileStat, bindMounted: boolean): string[] {
  const warnings: string[] = [];
  if (stat.nlink > 1) {
    warnings.push(
      `${path}: has ${stat.nlink} hard links; the rotation writes a new file, and the other names keep the old password hash: remove the extra links`,
    );
  }
  if (bindMounted) {
    warnings.push(
      `${path}: is a bind mount; the rotation replaces the file by rename, and whoever mounted it keeps seeing the old one: mount its folder instead`,
    );
  }
  return warnings;
}
