/**
 * The fleet's shared audit trail: the same lines and hash chain as the local trail
 * (core/audit.ts), one etcd key per line, appended with a transaction that only succeeds while
 * the head has not moved, so every host sees one ordered history. Each host also keeps its local
 * trail of what it applied.
 */
import {
  GENESIS_HASH,
  hashLine,
  makeAuditLine,
  parseAuditLine,
  verifyAuditChain,
  type AuditEntry,
  type AuditEvent,
  type AuditVerification,
} from '../../core/audit.js';
import { SecretsError } from '../../core/errors.js';
import { maskRemembered } from '../../core/secret.js';
import type { Deps } from '../deps.js';
import type { KvCompare, KvOperation } from '../../core/ports.js';
import type { Fleet } from './store.js';
import { checkAuditPin, loadPins } from './trust.js';

interface Head {
  seq: number;
  hash: string;
}

function parseHead(value: string | undefined): Head | undefined {
  if (value === undefined) return undefined;
  try {
    const head = JSON.parse(value) as Head;
    if (typeof head.seq === 'number' && typeof head.hash === 'string') return head;
  } catch {
    // reported by the verification as a broken head
  }
  return { seq: -1, hash: '' };
}

/**
 * The compare and the writes that append one event to the fleet chain as part of a larger
 * transaction (a state change and its audit line commit together or not at all). The caller
 * retries when the head moved.
 */
export async function auditAppendOps(
  fleet: Fleet,
  event: AuditEvent,
  deps: Pick<Deps, 'clock' | 'actor'>,
): Promise<{ compare: KvCompare; operations: KvOperation[]; line: string }> {
  const safe: AuditEvent = event.details
    ? { ...event, details: JSON.parse(maskRemembered(JSON.stringify(event.details))) as Record<string, unknown> }
    : event;
  const entry = await fleet.kv.get(fleet.keys.auditHead);
  const head = parseHead(entry?.value) ?? { seq: 0, hash: GENESIS_HASH };
  if (head.seq < 0)
    throw new SecretsError('fleet-audit-broken', `the fleet audit head ${fleet.keys.auditHead} is not readable`, {
      hint: 'see secrets log --verify',
    });
  // Never chain onto a trail shorter than, or different from, the one this host last saw.
  const pinned = (await loadPins(fleet, fleet.deps)).audit;
  if (pinned && (head.seq < pinned.seq || (head.seq === pinned.seq && head.hash !== pinned.hash)))
    throw new SecretsError(
      'fleet-audit-broken',
      `the fleet audit trail is at entry ${head.seq}, but this host saw entry ${pinned.seq}${head.seq === pinned.seq ? ' with another content' : ''} (removed or rewritten); nothing was changed`,
      { hint: 'see secrets log --fleet --verify on every member' },
    );
  const line = makeAuditLine(safe, {
    seq: head.seq + 1,
    time: deps.clock.now(),
    actor: `${deps.actor}@${fleet.host}`,
    prev: head.seq === 0 ? GENESIS_HASH : head.hash,
  });
  return {
    compare: { key: fleet.keys.auditHead, modRevision: entry?.modRevision ?? '0' },
    operations: [
      { put: fleet.keys.auditLine(head.seq + 1), value: line },
      { put: fleet.keys.auditHead, value: JSON.stringify({ seq: head.seq + 1, hash: hashLine(line) }) },
    ],
    line,
  };
}

/**
 * Commits `operations` under `compares` together with one audit event. Returns the entry, or
 * undefined when a compare of the caller's failed (someone else changed what it guards); a
 * moved audit head alone is retried.
 */
export async function commitWithAudit(
  fleet: Fleet,
  compares: KvCompare[],
  operations: KvOperation[],
  event: AuditEvent,
  deps: Pick<Deps, 'clock' | 'actor'>,
): Promise<AuditEntry | undefined> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const audit = await auditAppendOps(fleet, event, deps);
    if (await fleet.kv.txn([...compares, audit.compare], [...operations, ...audit.operations])) {
      const appended = parseAuditLine(audit.line)!;
      (await loadPins(fleet, fleet.deps)).audit = { seq: appended.seq, hash: hashLine(audit.line) };
      return appended;
    }
    // Which compare failed? Only a moved head is worth another attempt.
    for (const compare of compares) {
      const now = await fleet.kv.get(compare.key);
      if ((now?.modRevision ?? '0') !== compare.modRevision) return undefined;
    }
    await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
  }
  throw new SecretsError(
    'fleet-busy',
    'the fleet audit trail kept moving under 20 attempts to append; nothing recorded',
  );
}

/** Appends one event to the fleet chain; retried when another host appended first. */
export async function appendFleetAudit(
  fleet: Fleet,
  event: AuditEvent,
  deps: Pick<Deps, 'clock' | 'actor'>,
): Promise<AuditEntry> {
  return (await commitWithAudit(fleet, [], [], event, deps))!;
}

/** The fleet chain's entries and its verification against the head. */
export async function readFleetAudit(
  fleet: Fleet,
): Promise<{ entries: AuditEntry[]; verification: AuditVerification; where: string }> {
  const lines = (await fleet.kv.list(fleet.keys.audit)).map((entry) => entry.value);
  const headEntry = await fleet.kv.get(fleet.keys.auditHead);
  const head = parseHead(headEntry?.value);
  const text = lines.map((line) => `${line}\n`).join('');
  let verification = verifyAuditChain(text, head && head.seq >= 0 ? head : head ? { seq: -1, hash: '' } : undefined);
  if (verification.ok) {
    const pinned = await checkAuditPin(fleet, lines, fleet.deps);
    if (!pinned.ok) verification = { ok: false, entries: lines.length, badLine: pinned.badLine, reason: pinned.reason };
  }
  const entries = lines.map(parseAuditLine).filter((entry): entry is AuditEntry => entry !== undefined);
  return { entries, verification, where: `etcd ${fleet.keys.audit}` };
}

/** Refuses a shared change while the fleet chain does not verify. */
export async function assertFleetAuditIntact(fleet: Fleet): Promise<void> {
  const { verification } = await readFleetAudit(fleet);
  if (!verification.ok)
    throw new SecretsError(
      'fleet-audit-broken',
      `the fleet audit trail is broken at entry ${verification.badLine ?? '?'} (${verification.reason ?? 'unknown'}); nothing was changed`,
      { hint: 'see secrets log --verify on a member' },
    );
}
