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
}

/**
 * Verifies the chain. Edits break the next line's `prev`; removals and reorders break `prev`
 * and `seq`; a removed or edited last line no longer matches the head hash kept beside the trail.
 */
export function verifyAuditChain(text: string, head?: { seq: number; hash: string }): AuditVerification {
  const lines = splitAuditLines(text);
  let prev = GENESIS_HASH;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    const lineNo = index + 1;
    const entry = parseAuditLine(line);
    if (!entry)
      return { ok: false, entries: lines.length, badLine: lineNo, reason: 'not a valid audit entry (edited?)' };
    if (entry.seq !== index + 1) {
      return {
        ok: false,
        entries: lines.length,
        badLine: lineNo,
        reason: `sequence number ${entry.seq} where ${index + 1} was expected (a line was removed or reordered)`,
      };
    }
    if (entry.prev !== prev) {
      return {
        ok: false,
        entries: lines.length,
        badLine: lineNo,
        reason: 'does not chain to the line before it (that line was edited, removed or reordered)',
      };
    }
    prev = hashLine(line);
  }
  if (head) {
    if (head.seq !== lines.length) {
      return {
        ok: false,
        entries: lines.length,
        badLine: Math.min(head.seq, lines.length + 1),
        reason: `the trail has ${lines.length} entries but ${head.seq} were written (lines were removed from the end)`,
      };
    }
    if (head.hash !== prev) {
      return {
        ok: false,
        entries: lines.length,
        badLine: lines.length,
        reason: 'the last line was edited after it was written',
      };
    }
  }
  return { ok: true, entries: lines.length };
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

/** The last rotation date per secret: the latest `rotated` (or `recorded`) event. */
export function lastRotations(entries: AuditEntry[]): Map<string, Date> {
  const result = new Map<string, Date>();
  for (const entry of entries) {
    if ((entry.action === 'rotated' || entry.action === 'recorded') && entry.secret) {
      const at =
        entry.action === 'recorded' && typeof entry.details?.on === 'string'
          ? new Date(entry.details.on)
          : new Date(entry.time);
      const known = result.get(entry.secret);
      if (!known || at > known) result.set(entry.secret, at);
    }
  }
  return result;
}
