import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import type { LockHandle, LockInfo, LockState, Locker } from '../core/ports.js';
import { SecretsError, errnoCode } from '../core/errors.js';

export const LOCK_NAME = 'lock';
/** A lock file that stays empty or unreadable this long is a crash's leftover, not a holder still writing it. */
const UNREADABLE_STALE_MS = 2_000;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}

interface Seen {
  /** What identifies this one lock file, for the one takeover of it. */
  id: string;
  info?: LockInfo;
  ageMs: number;
}

async function readLock(path: string): Promise<Seen | undefined> {
  let stat: import('node:fs').Stats;
  try {
    stat = await fs.lstat(path);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  if (stat.isSymbolicLink()) {
    throw new SecretsError('lock-symlink', 'the lock is a symbolic link; refusing to follow it', {
      where: path,
      hint: 'remove the link; the state folder and its lock must be plain files owned by the operator',
    });
  }
  const ageMs = Date.now() - stat.mtimeMs;
  const fallbackId = `ino-${stat.ino}-${Math.round(stat.mtimeMs)}`;
  try {
    const info = JSON.parse(await fs.readFile(path, 'utf8')) as Partial<LockInfo>;
    if (typeof info.pid === 'number' && typeof info.host === 'string' && typeof info.nonce === 'string')
      return { id: info.nonce, info: info as LockInfo, ageMs };
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
  }
  return { id: fallbackId, ageMs };
}

/** Whether nobody can still be holding this lock: a dead pid on this host, or a file that stayed empty. */
function isStale(seen: Seen): boolean {
  if (!seen.info) return seen.ageMs >= UNREADABLE_STALE_MS;
  return seen.info.host === hostname() && !processAlive(seen.info.pid);
}

/** Writes `content` to a fresh temp file, complete and synced, so a lock is never seen half-written. */
async function completeTemp(dir: string, content: string): Promise<string> {
  const temp = join(dir, `.lock.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return temp;
}

/**
 * Takes over a stale lock exactly once. Every process that sees the same stale lock races for a
 * claim file named after it (link(2) fails if it exists: one winner); the winner checks the lock
 * is still that stale one and renames its own lock over it. A claimer that dies in between is
 * itself replaced by the next claim number, but only once the claimer is seen dead.
 */
async function takeOver(path: string, seen: Seen, temp: string): Promise<boolean> {
  const safeId = seen.id.replace(/[^A-Za-z0-9-]/g, '');
  for (let round = 0; round < 16; round++) {
    const claim = `${path}.takeover-${safeId}-${round}`;
    try {
      await fs.link(temp, claim);
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw error;
      const other = await readLock(claim).catch(() => undefined);
      if (other?.info && other.info.host === hostname() && !processAlive(other.info.pid)) continue;
      return false;
    }
    try {
      const now = await readLock(path);
      if (!now || now.id !== seen.id) return false;
      await fs.rename(temp, path);
      return true;
    } finally {
      // Claims of earlier rounds belong to dead claimers; all of them are spent once the lock moved on.
      for (let spent = 0; spent <= round; spent++) await fs.rm(`${path}.takeover-${safeId}-${spent}`, { force: true });
    }
  }
  return false;
}

/**
 * One lock per state folder. The lock file is written complete under a temp name and then
 * link(2)ed into place, so it appears atomically and is never empty; a lock left by a process that
 * died on this host is taken over by exactly one waiter (see takeOver); a lock file that is empty
 * or unreadable (a crash of an older version) is stale after a short, bounded wait.
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
      nonce: randomBytes(12).toString('hex'),
    };
    const deadline = Date.now() + waitMs;
    const temp = await completeTemp(stateDir, JSON.stringify(info));
    let held = false;
    try {
      for (;;) {
        try {
          await fs.link(temp, path);
          held = true;
        } catch (error) {
          if (errnoCode(error) !== 'EEXIST') throw error;
        }
        let seen: Seen | undefined;
        if (!held) {
          seen = await readLock(path);
          if (!seen) continue;
          // The bounded wait for an unreadable lock is part of the caller's patience, not extra.
          if (isStale(seen) && (await takeOver(path, seen, temp))) held = true;
          else if (!seen.info && seen.ageMs < UNREADABLE_STALE_MS && Date.now() < deadline + UNREADABLE_STALE_MS) {
            await sleep(50);
            continue;
          }
        }
        if (held) {
          await sweepDeadTemps(stateDir);
          const lock: LockHandle = {
            async release() {
              const holder = await readLock(path).catch(() => undefined);
              if (holder?.id === info.nonce) await fs.rm(path, { force: true });
            },
          };
          return lock;
        }
        if (Date.now() >= deadline) {
          const holder = seen?.info;
          const who = holder
            ? `${holder.user} (pid ${holder.pid} on ${holder.host}, "${holder.command}", since ${holder.since})`
            : 'another process';
          throw new SecretsError('locked', `the state folder is locked by ${who}`, {
            where: path,
            hint: 'wait for it to finish, or run again with --wait',
          });
        }
        await sleep(Math.min(100, Math.max(5, deadline - Date.now())) * (0.5 + Math.random()));
      }
    } finally {
      await fs.rm(temp, { force: true });
    }
  },

  async inspect(stateDir) {
    const path = join(stateDir, LOCK_NAME);
    const seen = await readLock(path).catch(() => undefined);
    if (!seen) return undefined;
    const state: LockState = { path, ageMs: seen.ageMs, stale: isStale(seen) };
    if (seen.info) state.holder = seen.info;
    return state;
  },
};

/** Lock temp files and claims of waiters that were killed before they could remove them. */
async function sweepDeadTemps(stateDir: string): Promise<void> {
  const names = await fs.readdir(stateDir).catch(() => [] as string[]);
  for (const name of names) {
    const pid = /^\.lock\.(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name)?.[1];
    if (pid && Number(pid) !== process.pid && !processAlive(Number(pid)))
      await fs.rm(join(stateDir, name), { force: true });
    if (name.startsWith(`${LOCK_NAME}.takeover-`)) {
      const claim = await readLock(join(stateDir, name)).catch(() => undefined);
      if (claim?.info && claim.info.host === hostname() && !processAlive(claim.info.pid))
        await fs.rm(join(stateDir, name), { force: true });
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
