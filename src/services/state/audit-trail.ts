import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  REPAIR_ACTION,
  sha256Text,
  textBefore,
  hashLine,
  makeAuditLine,
  parseAuditLine,
  splitAuditLines,
  verifyAuditChain,
  GENESIS_HASH,
  type AuditEntry,
  type AuditHead,
  type AuditEvent,
  type AuditVerification,
} from '../../core/audit.js';
import { maskRemembered } from '../../core/secret.js';
import type { Deps } from '../deps.js';
import { DEFAULT_APPEND_WAIT_MS, ensureStateDir, holdsStateLock, trailBroken, withStateLock } from './state-lock.js';

export { ensureStateDir } from './state-lock.js';

export const AUDIT_FILE = 'audit.jsonl';
const HEAD_FILE = 'audit.head';
export const FINGERPRINT_KEY_FILE = 'fingerprint.key';

/** The key that makes fingerprints unguessable offline (see core/secret.ts), created on first use. */
export async function fingerprintKey(stateDir: string, deps: Pick<Deps, 'files'>): Promise<Uint8Array> {
  const path = join(stateDir, FINGERPRINT_KEY_FILE);
  const existing = await deps.files.readTextIfExists(path);
  if (existing !== undefined) return Buffer.from(existing.trim(), 'hex');
  await ensureStateDir(stateDir, deps);
  const key = randomBytes(32);
  // Created exclusively: `check` (no lock) and a rotation may both get here first; the loser reads
  // the winner's key, so no fingerprint is ever made with a key that is then replaced.
  if (await deps.files.createExclusive(path, `${key.toString('hex')}\n`, 0o600)) return key;
  return Buffer.from((await deps.files.readText(path)).trim(), 'hex');
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

async function readHead(stateDir: string, deps: Pick<Deps, 'files'>): Promise<AuditHead | undefined> {
  const path = join(stateDir, HEAD_FILE);
  if (!(await deps.files.stat(path))) return undefined;
  const [seq, hash] = (await deps.files.readText(path)).trim().split(' ');
  return { seq: Number(seq), hash: hash ?? '' };
}

export async function verifyAuditTrail(stateDir: string, deps: Pick<Deps, 'files'>): Promise<AuditVerification> {
  const { text } = await readAuditEntries(stateDir, deps);
  return verifyAuditChain(text, await readHead(stateDir, deps));
}

/** Under the lock: refuses to go on when the trail is broken; completes a head a crash left behind. */
export async function assertTrailIntact(stateDir: string, deps: Pick<Deps, 'files'>): Promise<void> {
  const { text } = await readAuditEntries(stateDir, deps);
  const head = await readHead(stateDir, deps);
  const result = verifyAuditChain(text, head);
  if (!result.ok) throw trailBroken(join(stateDir, AUDIT_FILE), result.badLine, result.reason);
  if (result.pendingHead) {
    const lines = splitAuditLines(text);
    await writeHead(stateDir, lines.length, hashLine(lines[lines.length - 1]!), deps);
  }
}

async function writeHead(stateDir: string, seq: number, hash: string, deps: Pick<Deps, 'files'>): Promise<void> {
  await deps.files.writeAtomic(join(stateDir, HEAD_FILE), `${seq} ${hash}\n`, { mode: 0o600 });
}

/**
 * Appends one event, chained to the line before, always under the state lock: a caller that
 * does not hold it (a lone append) takes it for the append. The head (seq and hash of the last
 * line) is checked against the file first, so a trail cut short or edited is refused instead of
 * being chained onto and re-sealed; then the line is appended and the head moved to it.
 */
export async function appendAudit(
  stateDir: string,
  event: AuditEvent,
  deps: Pick<Deps, 'files' | 'clock' | 'actor'> & Partial<Deps>,
): Promise<AuditEntry> {
  if (!holdsStateLock(stateDir)) {
    if (!deps.locker) throw new Error('appendAudit outside the state lock');
    return withStateLock(
      stateDir,
      { command: `secrets (audit ${event.action})`, waitMs: DEFAULT_APPEND_WAIT_MS },
      deps as Deps,
      () => appendAudit(stateDir, event, deps),
    );
  }
  await ensureStateDir(stateDir, deps);
  const { text } = await readAuditEntries(stateDir, deps);
  const head = await readHead(stateDir, deps);
  const verified = verifyAuditChain(text, head);
  if (!verified.ok) throw trailBroken(join(stateDir, AUDIT_FILE), verified.badLine, verified.reason);
  const lines = splitAuditLines(text);
  const last = lines[lines.length - 1];
  const prev = last === undefined ? GENESIS_HASH : hashLine(last);
  // Last line of defence: a value that reached a detail (a hook's output, a server's message) in
  // any form is masked. Only the details: the chain fields and fingerprints are never touched.
  const safe: AuditEvent = event.details
    ? { ...event, details: maskDeep(event.details) as Record<string, unknown> }
    : event;
  const line = makeAuditLine(safe, { seq: lines.length + 1, time: deps.clock.now(), actor: deps.actor, prev });
  await deps.files.appendLine(join(stateDir, AUDIT_FILE), line);
  deps.onRotationStep?.('audit-line-written');
  await writeHead(stateDir, lines.length + 1, hashLine(line), deps);
  return parseAuditLine(line)!;
}

/** Every string inside a JSON-like value, masked. */
function maskDeep(value: unknown): unknown {
  if (typeof value === 'string') return maskRemembered(value);
  if (Array.isArray(value)) return value.map(maskDeep);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, maskDeep(inner)]));
  return value;
}

export interface RepairOutcome {
  repaired: boolean;
  found?: AuditVerification;
  entry?: AuditEntry;
}

/**
 * `secrets log --repair`: a human has looked at a broken trail. Records what was found (which
 * line, why, the head as it was) in an `audit-repaired` entry that seals every line before it with
 * their SHA-256 and starts a new chain segment. An intact trail is left alone.
 */
export async function repairAuditTrail(stateDir: string, deps: Deps, note?: string): Promise<RepairOutcome> {
  return withStateLock(stateDir, { command: 'secrets log --repair', brokenTrailOk: true }, deps, async () => {
    const { text } = await readAuditEntries(stateDir, deps);
    const head = await readHead(stateDir, deps);
    const found = verifyAuditChain(text, head);
    if (found.ok) {
      if (found.pendingHead) await assertTrailIntact(stateDir, deps);
      return { repaired: false, found };
    }
    const lines = splitAuditLines(text);
    const prior = textBefore(lines, lines.length);
    const event: AuditEvent = {
      action: REPAIR_ACTION,
      details: {
        badLine: found.badLine,
        reason: found.reason,
        entries: lines.length,
        head: head ? { seq: head.seq, hash: head.hash } : null,
        priorSha256: sha256Text(prior),
        ...(note ? { note } : {}),
      },
    };
    const last = lines[lines.length - 1];
    const line = makeAuditLine(event, {
      seq: lines.length + 1,
      time: deps.clock.now(),
      actor: deps.actor,
      prev: last === undefined ? GENESIS_HASH : hashLine(last),
    });
    // A last line torn by a crash (no newline) must not swallow the repair entry.
    const separator = text.length > 0 && !text.endsWith('\n') ? '\n' : '';
    await deps.files.appendLine(join(stateDir, AUDIT_FILE), `${separator}${line}`);
    await writeHead(stateDir, lines.length + 1, hashLine(line), deps);
    return { repaired: true, found, entry: parseAuditLine(line)! };
  });
}
