import { constants, promises as fs } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import type { LockHandle, LockInfo, Locker } from '../core/ports.js';
import { SecretsError, errnoCode } from '../core/errors.js';

const LOCK_NAME = 'lock';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}

async function readHolder(path: string): Promise<LockInfo | undefined> {
  try {
    return JSON.parse(await fs.readFile(path, 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

/**
 * One lock per state folder: a file created with O_EXCL holding who took it. A lock left by a
 * process that died on this host is taken over (the journal then tells what it was doing).
 */
export const fileLocker: Locker = {
  async acquire(stateDir, { command, waitMs = 0 }) {
    const path = join(stateDir, LOCK_NAME);
    const info: LockInfo = {
      pid: process.pid,
      host: hostname(),
      user: userInfo().username,
      command,
      since: new Date().toISOString(),
    };
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        // Written beside, then linked into place: link() fails with EEXIST like O_EXCL, and the lock
        // appears with its content, so a second run never reads an empty lock and cannot name the holder.
        const draft = `${path}.${process.pid}.tmp`;
        const handle = await fs.open(draft, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
        try {
          await handle.writeFile(JSON.stringify(info));
          await handle.sync();
        } finally {
          await handle.close();
        }
        try {
          await fs.link(draft, path);
        } finally {
          await fs.rm(draft, { force: true });
        }
        const lock: LockHandle = {
          async release() {
            const holder = await readHolder(path);
            if (holder && holder.pid === info.pid && holder.host === info.host) await fs.rm(path, { force: true });
          },
        };
        return lock;
      } catch (error) {
        if (errnoCode(error) !== 'EEXIST') throw error;
      }
      const holder = await readHolder(path);
      if (holder && holder.host === info.host && !processAlive(holder.pid)) {
        await fs.rm(path, { force: true });
        continue;
      }
      if (Date.now() >= deadline) {
        const who = holder
          ? `${holder.user} (pid ${holder.pid} on ${holder.host}, "${holder.command}", since ${holder.since})`
          : 'another process';
        throw new SecretsError('locked', `the state folder is locked by ${who}`, {
          where: path,
          hint: 'wait for it to finish, or run again with --wait',
        });
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(200, Math.max(10, deadline - Date.now()))));
    }
  },
};
