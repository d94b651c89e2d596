/**
 * The fleet's one lock, for shared rotations and membership changes: an etcd key bound to a lease
 * this process keeps alive. A rotator that dies stops renewing it, so etcd frees the lock after
 * fleet.lock_ttl and `rotate --recover` on any member can take over.
 */
import { SecretsError } from '../../core/errors.js';
import type { KvLock } from '../../core/ports.js';
import type { Deps } from '../deps.js';
import { lockSchema, parseRecord, type Fleet } from './store.js';

function describeHolder(key: string, value: string): string {
  try {
    const holder = parseRecord(lockSchema, { key, value, modRevision: '0' });
    return `${holder.host} (${holder.command}, pid ${holder.pid}, since ${holder.since})`;
  } catch {
    return 'another process';
  }
}

export async function takeFleetLock(fleet: Fleet, command: string, deps: Pick<Deps, 'clock'>): Promise<KvLock> {
  const taken = await fleet.kv.tryLock(
    fleet.keys.lock,
    JSON.stringify({ host: fleet.host, pid: process.pid, command, since: deps.clock.now().toISOString() }),
    fleet.lockTtlSeconds,
  );
  if ('heldBy' in taken)
    throw new SecretsError(
      'fleet-busy',
      `the fleet is locked by ${describeHolder(fleet.keys.lock, taken.heldBy)}; nothing was changed`,
      {
        hint: `wait for it; a holder that died frees the lock within ${fleet.spec.lock_ttl}`,
      },
    );
  return taken.lock;
}

export async function withFleetLock<T>(
  fleet: Fleet,
  command: string,
  deps: Pick<Deps, 'clock'>,
  work: (lock: KvLock) => Promise<T>,
): Promise<T> {
  const lock = await takeFleetLock(fleet, command, deps);
  try {
    return await work(lock);
  } finally {
    await lock.release();
  }
}
