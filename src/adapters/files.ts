import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { AtomicWriteOptions, FileStat, FileStore } from '../core/ports.js';
import { SecretsError, errnoCode } from '../core/errors.js';

async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * The file a write must replace: a symbolic link is followed to its final target, so the file the
 * service actually reads gets the new content and the link itself stays (replacing the link with
 * a regular file would leave the service on the old value). A link to nowhere is refused.
 */
export async function writeTarget(path: string): Promise<string> {
  const link = await fs.lstat(path).catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  });
  if (!link?.isSymbolicLink()) return path;
  try {
    return await fs.realpath(path);
  } catch (error) {
    throw new SecretsError(
      'link-dangling',
      `is a symbolic link to a file that does not exist (${errnoCode(error) ?? String(error)}); nothing was written`,
      { where: path, hint: 'point the link at the file the service reads, or replace it with that file' },
    );
  }
}

/**
 * Writes a file so that a reader, or the next boot after a crash, sees either the old or the
 * new content in full: a temp file in the same folder (same filesystem, so rename is atomic),
 * created 600 so the secret is never briefly world-readable, fsync, owner and mode set, rename,
 * then fsync of the folder so the rename itself survives a power cut.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  path = await writeTarget(path);
  const dir = dirname(path);
  const existing = await fs.stat(path).catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  });
  const mode = options.mode ?? (existing ? existing.mode & 0o7777 : 0o600);
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
      if (existing && (existing.uid !== process.getuid?.() || existing.gid !== process.getgid?.())) {
        await handle.chown(existing.uid, existing.gid);
      }
      await handle.chmod(mode);
    } finally {
      await handle.close();
    }
    await fs.rename(temp, path);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
  await fsyncDir(dir);
}

function toStat(stat: import('node:fs').Stats): FileStat {
  return {
    mode: stat.mode & 0o7777,
    uid: stat.uid,
    gid: stat.gid,
    size: stat.size,
    mtime: stat.mtime,
    ino: stat.ino,
    nlink: stat.nlink,
    isFile: stat.isFile(),
    isDirectory: stat.isDirectory(),
    isSymbolicLink: stat.isSymbolicLink(),
  };
}

export const nodeFileStore: FileStore = {
  readText: (path) => fs.readFile(path, 'utf8'),
  async readTextIfExists(path) {
    try {
      return await fs.readFile(path, 'utf8');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return undefined;
      throw error;
    }
  },
  readBytes: async (path) => new Uint8Array(await fs.readFile(path)),
  async stat(path) {
    try {
      return toStat(await fs.stat(path));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return undefined;
      throw error;
    }
  },
  realpath: (path) => fs.realpath(path).catch(() => path),
  async lstat(path) {
    try {
      return toStat(await fs.lstat(path));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return undefined;
      throw error;
    }
  },
  writeAtomic: writeFileAtomic,
  async createExclusive(path, data, mode) {
    const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await fs.open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await handle.writeFile(data);
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await fs.link(temp, path);
      await fsyncDir(dirname(path));
      return true;
    } catch (error) {
      if (errnoCode(error) === 'EEXIST') return false;
      throw error;
    } finally {
      await fs.rm(temp, { force: true });
    }
  },
  async appendLine(path, line) {
    const handle = await fs.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, 0o600);
    try {
      await handle.write(`${line}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  async ensureDir(path, mode = 0o700) {
    await fs.mkdir(path, { recursive: true, mode });
  },
  list: (dir) => fs.readdir(dir),
  remove: (path) => fs.rm(path, { force: true }),
  removeEmptyDir: (path) => fs.rmdir(path),
  chmod: (path, mode) => fs.chmod(path, mode),
};
