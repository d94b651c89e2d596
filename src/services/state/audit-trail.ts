import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  hashLine,
  makeAuditLine,
  parseAuditLine,
  splitAuditLines,
  verifyAuditChain,
  GENESIS_HASH,
  type AuditEntry,
  type AuditEvent,
  type AuditVerification,
} from '../../core/audit.js';
import { SecretsError } from '../../core/errors.js';
import type { Deps } from '../deps.js';

export const AUDIT_FILE = 'audit.jsonl';
const HEAD_FILE = 'audit.head';
export const FINGERPRINT_KEY_FILE = 'fingerprint.key';

/** Creates the state folder (mode 700) if needed. */
export async function ensureStateDir(stateDir: string, deps: Pick<Deps, 'files'>): Promise<void> {
  await deps.files.ensureDir(stateDir, 0o700);
  const stat = await deps.files.stat(stateDir);
  if (stat && (stat.mode & 0o077) !== 0) await deps.files.chmod(stateDir, 0o700);
}

/** The key that makes fingerprints unguessable offline (see core/secret.ts), created on first use. */
export async function fingerprintKey(stateDir: string, deps: Pick<Deps, 'files'>): Promise<Uint8Array> {
  const path = join(stateDir, FINGERPRINT_KEY_FILE);
  const existing = await deps.files.readTextIfExists(path);
  if (existing !== undefined) return Buffer.from(existing.trim(), 'hex');
  await ensureStateDir(stateDir, deps);
  const key = randomBytes(32);
  await deps.files.writeAtomic(path, `${key.toString('hex')}\n`, { mode: 0o600 });
  return key;
}

export async function readAuditEntries(
  stateDir: string,
  deps: Pick<Deps, 'files'>,
): Promise<{ text: string; entries: AuditEntry[] }> {
  const path = join(stateDir, AUDIT_FILE);
  if (!(await deps.files.stat(path))) return { text: '', entries: [] };
  const text = await deps.files.readText(path);
  const entries = splitAuditLines(text)
    .map(parseAuditLine)
    .filter((entry): entry is AuditEntry => entry !== undefined);
  return { text, entries };
}

async function readHead(
  stateDir: string,
  deps: Pick<Deps, 'files'>,
): Promise<{ seq: number; hash: string } | undefined> {
  const path = join(stateDir, HEAD_FILE);
  if (!(await deps.files.stat(path))) return undefined;
  const [seq, hash] = (await deps.files.readText(path)).trim().split(' ');
  return { seq: Number(seq), hash: hash ?? '' };
}

export async function verifyAuditTrail(stateDir: string, deps: Pick<Deps, 'files'>): Promise<AuditVerification> {
  const { text } = await readAuditEntries(stateDir, deps);
  return verifyAuditChain(text, await readHead(stateDir, deps));
}

/**
 * Appends one event, chained to the line before. The head file (seq and hash of the last line)
 * is what lets `log --verify` notice a line removed from the end. Callers hold the state lock
 * when they rotate; a lone append (record, backup) is one O_APPEND write.
 */
export async function appendAudit(
  stateDir: string,
  event: AuditEvent,
  deps: Pick<Deps, 'files' | 'clock' | 'actor'>,
): Promise<AuditEntry> {
  await ensureStateDir(stateDir, deps);
  const { text } = await readAuditEntries(stateDir, deps);
  const lines = splitAuditLines(text);
  const last = lines[lines.length - 1];
  const prev = last === undefined ? GENESIS_HASH : hashLine(last);
  if (last !== undefined && !parseAuditLine(last)) {
    throw new SecretsError(
      'audit-corrupt',
      `the last line of the audit trail is not valid; run \`secrets log --verify\``,
      { where: join(stateDir, AUDIT_FILE), exitCode: 3 },
    );
  }
  const line = makeAuditLine(event, { seq: lines.length + 1, time: deps.clock.now(), actor: deps.actor, prev });
  await deps.files.appendLine(join(stateDir, AUDIT_FILE), line);
  await deps.files.writeAtomic(join(stateDir, HEAD_FILE), `${lines.length + 1} ${hashLine(line)}\n`, { mode: 0o600 });
  return parseAuditLine(line)!;
}
