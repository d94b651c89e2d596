import { createHash } from 'node:crypto';

/** What happened, as recorded in audit.jsonl. Values never appear here: fingerprints only. */
export interface AuditEvent {
  action: string;
  secret?: string;
  /** Fingerprint of the new value (see core/secret.ts). */
  fingerprint?: string;
  /** Fingerprint of the value it replaced. */
  previous?: string;
  /** Free details: reason, incident, files, backup name, outcome. Never a value. */
  details?: Record<string, unknown>;
}

export interface AuditEntry extends AuditEvent {
  seq: number;
  time: string;
  actor: string;
  /** SHA-256 of the previous line's text (64 zeros for the first). */
  prev: string;
}

export const GENESIS_HASH = '0'.repeat(64);

export function hashLine(line: string): string {
  return createHash('sha256').update(line, 'utf8').digest('hex');
}

/** Builds the next line of the trail, chained to the previous line's hash. */
export function makeAuditLine(
  event: AuditEvent,
  context: { seq: number; time: Date; actor: string; prev: string },
): string {
  const entry: AuditEntry = {
    seq: context.seq,
    time: context.time.toISOString(),
    actor: context.actor,
    action: event.action,
    ...(event.secret !== undefined ? { secret: event.secret } : {}),
    ...(event.fingerprint !== undefined ? { fingerprint: event.fingerprint } : {}),
    ...(event.previous !== undefined ? { previous: event.previous } : {}),
    ...(event.details !== undefined ? { details: event.details } : {}),
    prev: context.prev,
  };
  return JSON.stringify(entry);
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  /** 1-based line number of the first bad line, and why. */
  badLine?: number;
  reason?: string;
  /**
   * The last line was written but the head not yet moved to it: a crash between the two writes
   * of one append, not tampering. The next append under the lock completes it.
   */
  pendingHead?: boolean;
  /** Line number of the latest `secrets log --repair`, when the trail was repaired. */
  repairedAt?: number;
}

export interface AuditHead {
  seq: number;
  hash: string;
}

/** The event `secrets log --repair` writes: it starts a new segment of the chain. */
export const REPAIR_ACTION = 'audit-repaired';

export function sha256Text(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The exact bytes of the lines before a repair, which the repair entry seals with their SHA-256. */
export function textBefore(lines: string[], index: number): string {
  return lines
    .slice(0, index)
    .map((line) => `${line}\n`)
    .join('');
}

/**
 * Verifies the chain. Edits break the next line's `prev`; removals and reorders break `prev`
 * and `seq`; a removed or edited last line no longer matches the head hash kept beside the trail.
 * A repair (`secrets log --repair`) seals everything before it with a SHA-256 and starts a new
 * segment: what it found stays on record, and any later edit before it breaks the seal.
 */
export function verifyAuditChain(text: string, head?: AuditHead): AuditVerification {
  const lines = splitAuditLines(text);
  const bad = (badLine: number, reason: string): AuditVerification => ({
    ok: false,
    entries: lines.length,
    badLine,
    reason,
  });
  let start = 0;
  let repairedAt: number | undefined;
  for (let index = lines.length - 1; index >= 0; index--) {
    const entry = parseAuditLine(lines[index]!);
    if (entry?.action === REPAIR_ACTION && typeof entry.details?.priorSha256 === 'string') {
      if (sha256Text(textBefore(lines, index)) !== entry.details.priorSha256)
        return bad(index + 1, 'the lines before this repair were changed after it');
      start = index;
      repairedAt = index + 1;
      break;
    }
  }
  let prev = start === 0 ? GENESIS_HASH : hashLine(lines[start - 1]!);
  for (let index = start; index < lines.length; index++) {
    const line = lines[index]!;
    const lineNo = index + 1;
    const entry = parseAuditLine(line);
    if (!entry) return bad(lineNo, 'not a valid audit entry (edited?)');
    if (entry.seq !== index + 1)
      return bad(
        lineNo,
        `sequence number ${entry.seq} where ${index + 1} was expected (a line was removed or reordered)`,
      );
    if (entry.prev !== prev)
      return bad(lineNo, 'does not chain to the line before it (that line was edited, removed or reordered)');
    prev = hashLine(line);
  }
  const done = (extra: Partial<AuditVerification> = {}): AuditVerification => ({
    ok: true,
    entries: lines.length,
    ...(repairedAt !== undefined ? { repairedAt } : {}),
    ...extra,
  });
  const beforeLast = lines.length >= 2 ? hashLine(lines[lines.length - 2]!) : GENESIS_HASH;
  if (!head) {
    if (lines.length === 0) return done();
    // The very first append: the line is there, the head not yet.
    if (lines.length === 1) return done({ pendingHead: true });
    return bad(lines.length, 'the head file beside the trail is missing (removed with lines from the end?)');
  }
  if (head.seq === lines.length && head.hash === prev) return done();
  if (head.seq === lines.length - 1 && head.hash === beforeLast) return done({ pendingHead: true });
  if (head.seq > lines.length)
    return bad(
      Math.min(head.seq, lines.length + 1),
      `the trail has ${lines.length} entries but ${head.seq} were written (lines were removed from the end)`,
    );
  if (head.seq === lines.length) return bad(lines.length, 'the last line was edited after it was written');
  return bad(
    head.seq + 1,
    `the head says ${head.seq} entries but the trail has ${lines.length} (lines were added behind its back, or the end was replaced)`,
  );
}

export function splitAuditLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function parseAuditLine(line: string): AuditEntry | undefined {
  try {
    const value: unknown = JSON.parse(line);
    if (!value || typeof value !== 'object') return undefined;
    const entry = value as Partial<AuditEntry>;
    if (
      typeof entry.seq !== 'number' ||
      typeof entry.time !== 'string' ||
      typeof entry.action !== 'string' ||
      typeof entry.prev !== 'string'
    ) {
      return undefined;
    }
    return entry as AuditEntry;
  } catch {
    return undefined;
  }
}

/**
 * The last rotation date per secret: the latest `rotated` (or `recorded`) event. A `restored`
 * event (restore --in-place) puts the named secrets back to the values of its backup: from then
 * on their date is the last rotation before that backup was made (never rotated, if none was),
 * so a restored old value is not mistaken for one rotated today.
 */
export function lastRotations(entries: AuditEntry[]): Map<string, Date> {
  const result = new Map<string, Date>();
  const history = new Map<string, Date[]>();
  for (const entry of entries) {
    if ((entry.action === 'rotated' || entry.action === 'recorded') && entry.secret) {
      const at =
        entry.action === 'recorded' && typeof entry.details?.on === 'string'
          ? new Date(entry.details.on)
          : new Date(entry.time);
      const known = result.get(entry.secret);
      if (!known || at > known) result.set(entry.secret, at);
      history.set(entry.secret, [...(history.get(entry.secret) ?? []), at]);
    } else if (entry.action === 'fleet-applied' && entry.secret && entry.details && 'versionCreated' in entry.details) {
      // A shared secret's value is as old as its fleet version, and the last version applied is the
      // one in the files, also when the fleet went back to an older one (docs/fleet.md). A version
      // with no date is a value uploaded that was never rotated: never rotated here too.
      const created = entry.details.versionCreated;
      if (typeof created === 'string') {
        const at = new Date(created);
        result.set(entry.secret, at);
        history.set(entry.secret, [...(history.get(entry.secret) ?? []), at]);
      } else result.delete(entry.secret);
    } else if (entry.action === 'restored' && Array.isArray(entry.details?.secrets)) {
      const created =
        typeof entry.details.backupCreated === 'string' ? new Date(entry.details.backupCreated) : new Date(0);
      for (const secret of entry.details.secrets) {
        if (typeof secret !== 'string') continue;
        const before = (history.get(secret) ?? []).filter((at) => at <= created);
        const latest = before.length > 0 ? new Date(Math.max(...before.map((at) => at.getTime()))) : undefined;
        if (latest) result.set(secret, latest);
        else result.delete(secret);
        history.set(secret, before);
      }
    }
  }
  return result;
}
