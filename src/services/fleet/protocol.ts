/**
 * The two ways a pending version ends, shared by the rotator, `rotate --recover` and the last
 * host to acknowledge under --partial-ok: made current (every member acknowledged), or dropped so
 * that every host goes back to the current version on its next sync. Both are one etcd
 * transaction on the secret's state, so two members ending the same rotation cannot both win.
 */
import type { AuditEvent } from '../../core/audit.js';
import { SecretsError } from '../../core/errors.js';
import { fingerprint, type Secret } from '../../core/secret.js';
import type { Deps } from '../deps.js';
import { commitWithAudit } from './fleet-audit.js';
import { FINGERPRINT_KEY_ID } from './fleet-constants.js';
import {
  readAcks,
  readMembers,
  readRecord,
  valueSchema,
  type AckRecord,
  type Fleet,
  type MemberRecord,
  type StoredState,
} from './store.js';
import { signedState } from './trust.js';
import { openValues, type HostKey } from './values.js';

/** Who has acknowledged a version, who failed it, and who has not answered. */
export interface AckTally {
  applied: string[];
  failed: Array<{ host: string; message: string }>;
  missing: string[];
}

/** What a host signs when it acknowledges a version: the fleet, the secret, the version, who and what. */
export function ackStatement(
  fleet: Fleet,
  id: string,
  version: number,
  host: string,
  outcome: string,
  at: string,
): Uint8Array {
  return new TextEncoder().encode(
    `secrets fleet acknowledgement\n${fleet.spec.prefix}\n${id}\n${version}\n${host}\n${outcome}\n${at}\n`,
  );
}

/** Acknowledgements already verified in this process (the rotator tallies on every new one). */
const verifiedAcks = new Map<string, boolean>();

/** Whether an acknowledgement is signed by the host it names (verified once per process). */
export async function ackIsGenuine(
  fleet: Fleet,
  id: string,
  version: number,
  member: Pick<MemberRecord, 'host' | 'publicKey'>,
  ack: AckRecord,
): Promise<boolean> {
  const cacheKey = `${member.publicKey}|${id}|${version}|${ack.outcome}|${ack.at}|${ack.signature}`;
  const known = verifiedAcks.get(cacheKey);
  if (known !== undefined) return known;
  const pgp = await fleet.deps.loadPgp();
  const reading = await pgp.verifyDetached(
    ackStatement(fleet, id, version, member.host, ack.outcome, ack.at),
    new TextEncoder().encode(ack.signature),
    [member.publicKey],
  );
  const genuine = reading.status === 'read' && reading.valid;
  verifiedAcks.set(cacheKey, genuine);
  return genuine;
}

/**
 * Who has acknowledged a version: only acknowledgements signed by the member they name count; an
 * unsigned or forged one is as good as none.
 */
export async function tallyAcks(
  fleet: Fleet,
  id: string,
  version: number,
  members: MemberRecord[],
  acks: Map<string, AckRecord>,
): Promise<AckTally> {
  const tally: AckTally = { applied: [], failed: [], missing: [] };
  for (const member of members) {
    const ack = acks.get(member.host);
    if (!ack || !(await ackIsGenuine(fleet, id, version, member, ack))) tally.missing.push(member.host);
    else if (ack.outcome === 'applied') tally.applied.push(member.host);
    else tally.failed.push({ host: member.host, message: ack.message });
  }
  return tally;
}

export async function currentTally(fleet: Fleet, id: string, version: number): Promise<AckTally> {
  return tallyAcks(fleet, id, version, await readMembers(fleet), await readAcks(fleet, id, version));
}

/** The fleet's fingerprint key (the same on every member, so the fleet chain's fingerprints compare). */
export async function fleetFingerprintKey(
  fleet: Fleet,
  members: MemberRecord[],
  key: HostKey,
  deps: Deps,
): Promise<Uint8Array> {
  const found = await readRecord(fleet, valueSchema, fleet.keys.fingerprintKey);
  if (!found)
    throw new SecretsError('fleet-store-invalid', `the fleet has no fingerprint key (${fleet.keys.fingerprintKey})`);
  const values = await openValues(found.record, { secret: FINGERPRINT_KEY_ID, version: 0 }, members, key, deps);
  return Buffer.from(values.key!.reveal(), 'hex');
}

/** Keyed fingerprints of one version's values, as the fleet chain records them. */
export function fleetFingerprints(values: Record<string, Secret>, fingerprintKey: Uint8Array): Record<string, string> {
  return Object.fromEntries(
    Object.keys(values)
      .sort()
      .map((label) => [label, fingerprint(values[label]!, fingerprintKey)]),
  );
}

async function versionValues(
  fleet: Fleet,
  id: string,
  version: number,
  members: MemberRecord[],
  key: HostKey,
  deps: Deps,
): Promise<Record<string, Secret> | undefined> {
  const found = await readRecord(fleet, valueSchema, fleet.keys.value(id, version));
  return found ? openValues(found.record, { secret: id, version }, members, key, deps) : undefined;
}

/**
 * Makes the pending version current: true when this call did it, false when someone else ended
 * the rotation first (the state moved).
 */
export async function makeCurrent(
  fleet: Fleet,
  id: string,
  state: StoredState,
  modRevision: string,
  key: HostKey,
  deps: Deps,
  how: string,
): Promise<boolean> {
  const pending = state.pending;
  if (!pending) return false;
  const members = await readMembers(fleet);
  const next = await versionValues(fleet, id, pending.version, members, key, deps);
  const previous = await versionValues(fleet, id, state.current.version, members, key, deps).catch(() => undefined);
  const { version, createdAt, rotation, by } = pending;
  const current = { version, createdAt, rotation, by };
  const fingerprintKey = await fleetFingerprintKey(fleet, members, key, deps);
  const nextPrints = next ? fleetFingerprints(next, fingerprintKey) : {};
  const previousPrints = previous ? fleetFingerprints(previous, fingerprintKey) : {};
  const whole = (prints: Record<string, string>) => {
    const labels = Object.keys(prints);
    return labels.length === 1 ? prints[labels[0]!] : undefined;
  };
  const fingerprints: Record<string, { new: string; old?: string }> = {};
  for (const [label, print] of Object.entries(nextPrints))
    fingerprints[label] = { new: print, ...(previousPrints[label] ? { old: previousPrints[label] } : {}) };
  const nextWhole = whole(nextPrints);
  const previousWhole = whole(previousPrints);
  // The state change and its audit line commit together: the chain has exactly one entry per rotation.
  return endPending(
    fleet,
    id,
    state,
    modRevision,
    current,
    state.current.version !== pending.version ? state.current.version : undefined,
    {
      action: 'rotated',
      secret: id,
      ...(nextWhole ? { fingerprint: nextWhole } : {}),
      ...(previousWhole ? { previous: previousWhole } : {}),
      details: {
        rotation: pending.rotation,
        version: pending.version,
        rotator: pending.by,
        hosts: members.map((member) => member.host),
        completedBy: fleet.host,
        how,
        fingerprints,
      },
    },
    key,
    deps,
  );
}

/**
 * Drops the pending version: every host goes back to the current one on its next sync. True when
 * this call did it.
 */
export async function dropPending(
  fleet: Fleet,
  id: string,
  state: StoredState,
  modRevision: string,
  tally: AckTally,
  key: HostKey,
  deps: Deps,
  reason: string,
): Promise<boolean> {
  const pending = state.pending;
  if (!pending) return false;
  return endPending(
    fleet,
    id,
    state,
    modRevision,
    state.current,
    pending.version,
    {
      action: 'rotate-rolled-back',
      secret: id,
      details: {
        rotation: pending.rotation,
        version: pending.version,
        backTo: state.current.version,
        reason,
        missing: tally.missing,
        failed: tally.failed.map((entry) => entry.host),
        by: fleet.host,
      },
    },
    key,
    deps,
  );
}

/**
 * Ends a pending rotation in one transaction: the state, signed here, names `current` with no
 * pending version; the version left behind (`retired`: the old current, or the dropped pending one)
 * loses its value and acknowledgements; the audit line commits with it. Compared with the state
 * read (`modRevision`) and the membership verified. True when this call did it.
 */
async function endPending(
  fleet: Fleet,
  id: string,
  state: StoredState,
  modRevision: string,
  current: StoredState['current'],
  retired: number | undefined,
  event: AuditEvent,
  key: HostKey,
  deps: Deps,
): Promise<boolean> {
  const issued = Math.max(state.pending?.version ?? 0, state.issued ?? 0);
  const next = await signedState(fleet, id, { current, issued }, state, key, deps);
  const recorded = await commitWithAudit(
    fleet,
    [{ key: fleet.keys.secret(id), modRevision }, ...next.guard],
    [
      next.operation,
      ...(retired !== undefined
        ? [{ delete: fleet.keys.value(id, retired) }, { deletePrefix: fleet.keys.acks(id, retired) }]
        : []),
    ],
    event,
    deps,
  );
  return recorded !== undefined;
}
