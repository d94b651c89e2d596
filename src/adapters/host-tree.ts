import { promises as fs } from 'node:fs';
import type { HostEntry, HostTree } from '../core/sweep.js';

/** The real host for `secrets sweep`: lstat, so a link to /proc or a loop is never followed. */
export function createHostTree(): HostTree {
  const names = new Map<number, string>();
  let passwd: Promise<string> | undefined;
  return {
    async lstat(path) {
      const stat = await fs.lstat(path).catch(() => undefined);
      if (!stat) return undefined;
      const type: HostEntry['type'] = stat.isFile()
        ? 'file'
        : stat.isDirectory()
          ? 'dir'
          : stat.isSymbolicLink()
            ? 'symlink'
            : 'special';
      return {
        type,
        dev: stat.dev,
        ino: stat.ino,
        uid: stat.uid,
        mode: stat.mode & 0o7777,
        size: stat.size,
        mtime: stat.mtime,
      };
    },
    list: (path) => fs.readdir(path).catch(() => undefined),
    read: (path) => fs.readFile(path).catch(() => undefined),
    async readFrom(path, offset) {
      const handle = await fs.open(path, 'r').catch(() => undefined);
      if (!handle) return undefined;
      try {
        const { size } = await handle.stat();
        const length = Math.max(0, size - offset);
        const buffer = Buffer.alloc(length);
        let read = 0;
        while (read < length) {
          const { bytesRead } = await handle.read(buffer, read, length - read, offset + read);
          if (bytesRead === 0) break;
          read += bytesRead;
        }
        return buffer.subarray(0, read);
      } finally {
        await handle.close();
      }
    },
    async ownerName(uid) {
      const known = names.get(uid);
      if (known) return known;
      passwd ??= fs.readFile('/etc/passwd', 'utf8').catch(() => '');
      const line = (await passwd).split('\n').find((entry) => entry.split(':')[2] === String(uid));
      const name = line?.split(':')[0] ?? String(uid);
      names.set(uid, name);
      return name;
    },
  };
}
