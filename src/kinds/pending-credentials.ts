import { join } from 'node:path';
import { SecretsError } from '../core/errors.js';
import { Secret } from '../core/secret.js';
import type { KindDeps as Deps } from './kind.js';

/**
 * A server credential between "decided" and "recorded" (postgres, redis). Unlike a file, a
 * password changed on a server cannot be put back from a copy if we forget it: Vault's issue
 * #6042 is a root password changed and never saved. So the new password is written here (mode
 * 600, in the 700 state folder, like the journal's copies) BEFORE the server is told, and removed
 * once the rotation is recorded or undone. After a crash, `rotate --recover` tries this pending
 * credential, the one in .env and the one it replaced, and keeps whichever the server accepts.
 */
export interface PendingCredential {
  version: 1;
  secret: string;
  kind: string;
  rotation: string;
  startedAt: string;
  /** The credential being set (the new one). */
  pending: { user: string; password: Secret };
  /** The credential .env held when the rotation started (the one being replaced). */
  previous: { user: string; password: Secret | undefined };
}

export const PENDING_DIR = 'pending';

export function pendingPath(stateDir: string, id: string): string {
  return join(stateDir, PENDING_DIR, `${id}.json`);
}

export async function savePendingCredential(
  stateDir: string,
  record: PendingCredential,
  deps: Pick<Deps, 'files'>,
): Promise<void> {
  await deps.files.ensureDir(stateDir, 0o700);
  await deps.files.ensureDir(join(stateDir, PENDING_DIR), 0o700);
  const plain = {
    ...record,
    pending: { user: record.pending.user, password: record.pending.password.reveal() },
    previous: { user: record.previous.user, password: record.previous.password?.reveal() ?? null },
  };
  await deps.files.writeAtomic(pendingPath(stateDir, record.secret), `${JSON.stringify(plain, null, 2)}\n`, {
    mode: 0o600,
  });
}

export async function removePendingCredential(stateDir: string, id: string, deps: Pick<Deps, 'files'>): Promise<void> {
  const path = pendingPath(stateDir, id);
  if (await deps.files.stat(path)) await deps.files.remove(path);
}

function parseRecord(text: string, path: string): PendingCredential {
  try {
    const data = JSON.parse(text) as {
      version: number;
      secret: string;
      kind: string;
      rotation: string;
      startedAt: string;
      pending: { user: string; password: string };
      previous: { user: string; password: string | null };
    };
    if (data.version !== 1 || typeof data.pending?.password !== 'string') throw new Error('unknown shape');
    return {
      version: 1,
      secret: data.secret,
      kind: data.kind,
      rotation: data.rotation,
      startedAt: data.startedAt,
      pending: { user: data.pending.user, password: new Secret(data.pending.password) },
      previous: {
        user: data.previous.user,
        password: data.previous.password === null ? undefined : new Secret(data.previous.password),
      },
    };
  } catch {
    throw new SecretsError('pending-corrupt', 'a pending credential record cannot be read', {
      where: path,
      exitCode: 4,
      hint: 'it holds the password a rotation was setting: log in with it by hand, fix .env, then remove the file',
    });
  }
}

/** Every pending credential in the state folder (an interrupted rotation of a server credential). */
export async function readPendingCredentials(
  stateDir: string,
  deps: Pick<Deps, 'files'>,
): Promise<PendingCredential[]> {
  const dir = join(stateDir, PENDING_DIR);
  if (!(await deps.files.stat(dir))?.isDirectory) return [];
  const records: PendingCredential[] = [];
  for (const name of (await deps.files.list(dir)).sort()) {
    if (!name.endsWith('.json')) continue;
    const path = join(dir, name);
    records.push(parseRecord(await deps.files.readText(path), path));
  }
  return records;
}
