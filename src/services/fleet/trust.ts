/**
 * Who a host trusts, when anyone who can write to etcd could write anything there.
 *
 * - The membership is a chain of signed documents, `membership/<n>`: each lists every member
 *   with its public key, names the hash of the document before it, and is signed by a member of
 *   that document (the first by the founder itself). A member record an etcd writer adds, or a
 *   member list they edit, has no valid signature and is refused.
 * - Each secret's state is signed by the member that wrote it, with a sequence number that grows
 *   with every write. A state an etcd writer makes up has no valid signature; a genuine older one
 *   they put back has a lower number than the one a host has seen.
 * - Each host pins, in its state folder (`fleet/pins.json`, mode 600), the last membership
 *   document it verified, the newest state of each shared secret (sequence number and hash), the
 *   highest current version of each it has seen, and the fleet audit chain's head. A rewritten history, a shared secret sent back to an older version
 *   (one that may have leaked), or a truncated audit chain no longer matches what the host saw.
 *
 * A host that joins trusts the membership it first reads (it prints the members' fingerprints for
 * the operator to compare), as the member that admits it trusts the fingerprint it is shown.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { SecretsError } from '../../core/errors.js';
import type { KvCompare, KvOperation } from '../../core/ports.js';
import type { Deps } from '../deps.js';
import { canonicalJson, type CanonicalValue } from '../../core/approval/canonical-json.js';
import {
  memberSchema,
  parseRecord,
  put,
  readMembers,
  readRecord,
  stateBody,
  stateSchema,
  storedStateSchema,
  type Fleet,
  type MemberRecord,
  type SecretState,
  type StoredState,
} from './store.js';
import type { HostKey } from './values.js';

const docSchema = z.object({
  version: z.number(),
  members: z.array(memberSchema),
  /** SHA-256 of the previous document's text ('' for the first). */
  prev: z.string(),
  /** The member whose key signed it (a member of the previous document). */
  by: z.string(),
  at: z.string(),
});
type MembershipDoc = z.output<typeof docSchema>;

const recordSchema = z.object({ doc: z.string(), signature: z.string() });

const pinsSchema = z.object({
  membership: z.optional(z.object({ version: z.number(), hash: z.string() })),
  /** Per shared secret: the highest version this host has seen current. */
  floors: z.record(z.string(), z.number()),
  /** Per shared secret: the pending version this host last saw, and the highest one it saw dropped. */
  pending: z.optional(z.record(z.string(), z.object({ version: z.number(), rotation: z.string() }))),
  dropped: z.optional(z.record(z.string(), z.number())),
  /**
   * Per shared secret: the version this host last wrote or found in its files, and a keyed
   * fingerprint (this host's key) of its values: a sync that finds the same version and the same
   * file content has nothing to decrypt.
   */
  held: z.optional(
    z.record(z.string(), z.object({ version: z.number(), rotation: z.string(), fingerprint: z.string() })),
  ),
  audit: z.optional(z.object({ seq: z.number(), hash: z.string() })),
  /** Per shared secret: the sequence number and hash of the newest state this host has verified. */
  states: z.optional(z.record(z.string(), z.object({ seq: z.number(), hash: z.string() }))),
});
export type Pins = z.output<typeof pinsSchema>;

/** Armored public key → its fingerprint, read once per process (a sync --watch verifies on every change). */
const keyFingerprints = new Map<string, string>();

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

export function pinsPath(stateDir: string): string {
  return join(stateDir, 'fleet', 'pins.json');
}

/** This host's pins for the fleet at this prefix (each prefix is a fleet of its own). */
export async function loadPins(fleet: Fleet, deps: Pick<Deps, 'files'>): Promise<Pins> {
  if (fleet.pins) return fleet.pins;
  const text = await deps.files.readTextIfExists(pinsPath(fleet.stateDir));
  let pins: Pins = { floors: {} };
  if (text !== undefined) {
    let all: unknown;
    try {
      all = JSON.parse(text);
    } catch {
      throw new SecretsError('fleet-store-invalid', 'the fleet pins of this host are not JSON', {
        where: pinsPath(fleet.stateDir),
      });
    }
    const mine = (all as Record<string, unknown>)[fleet.spec.prefix];
    if (mine !== undefined) {
      const parsed = pinsSchema.safeParse(mine);
      if (!parsed.success)
        throw new SecretsError('fleet-store-invalid', 'the fleet pins of this host are damaged', {
          where: pinsPath(fleet.stateDir),
        });
      pins = parsed.data;
    }
  }
  fleet.pins = pins;
  return pins;
}

/** Writes the pins (the caller holds the state lock). */
export async function savePins(fleet: Fleet, deps: Pick<Deps, 'files'>): Promise<void> {
  if (!fleet.pins) return;
  const path = pinsPath(fleet.stateDir);
  const text = await deps.files.readTextIfExists(path);
  let all: Record<string, unknown> = {};
  try {
    all = text === undefined ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    all = {};
  }
  all[fleet.spec.prefix] = fleet.pins;
  await deps.files.ensureDir(join(fleet.stateDir, 'fleet'), 0o700);
  await deps.files.writeAtomic(path, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
}

/** A fleet record that fails its signature or this host's pins: nothing of it is applied. */
export function invalid(message: string): SecretsError {
  return new SecretsError('fleet-store-invalid', `${message}; nothing was applied`, {
    hint: 'someone with write access to etcd changed the fleet, or it was restored from an old snapshot: compare with secrets log --fleet on another member',
  });
}

/**
 * The members, from the membership chain verified from this host's pin (or from the first
 * document, for a host that has none yet). Remembers the head on the fleet for savePins.
 */
export async function verifiedMembers(fleet: Fleet, deps: Pick<Deps, 'files' | 'loadPgp'>): Promise<MemberRecord[]> {
  if (fleet.membership) return fleet.membership.members;
  const pins = await loadPins(fleet, deps);
  // From the pinned document on: a host reads what changed since it last looked, not the whole
  // history (each document lists every member's key, so the history grows with members × changes).
  const base = pins.membership?.version ?? 1;
  const entries = await fleet.kv.list(fleet.keys.membership, { from: fleet.keys.membershipDoc(base) });
  if (entries.length === 0) {
    if (pins.membership)
      throw invalid(
        `the fleet's membership history no longer holds the document ${pins.membership.version} this host verified`,
      );
    fleet.membership = { version: 0, hash: '', members: [] };
    return [];
  }
  const records = entries.map((entry) => ({ key: entry.key, ...parseRecord(recordSchema, entry) }));
  const docs: MembershipDoc[] = records.map((record) => {
    try {
      const parsed = docSchema.safeParse(JSON.parse(record.doc));
      if (parsed.success) return parsed.data;
    } catch {
      // refused below
    }
    throw invalid(`the membership document ${record.key} is not readable`);
  });
  docs.forEach((doc, index) => {
    if (doc.version !== base + index || records[index]!.key !== fleet.keys.membershipDoc(base + index))
      throw invalid(`the membership history has a gap or a reordering at ${records[index]!.key}`);
  });
  const pgp = await deps.loadPgp();
  const signedBy = async (index: number, signers: MemberRecord[]) => {
    const doc = docs[index]!;
    const signer = signers.find((member) => member.host === doc.by);
    const reading = signer
      ? await pgp.verifyDetached(
          new TextEncoder().encode(records[index]!.doc),
          new TextEncoder().encode(records[index]!.signature),
          [signer.publicKey],
        )
      : undefined;
    if (!signer || !reading || reading.status !== 'read' || !reading.valid)
      throw invalid(`membership document ${doc.version} is not signed by a member (${doc.by})`);
  };
  if (pins.membership) {
    if (sha256(records[0]!.doc) !== pins.membership.hash)
      throw invalid(
        `the fleet's membership history no longer holds the document ${pins.membership.version} this host verified`,
      );
  } else {
    const first = docs[0]!;
    if (first.prev !== '') throw invalid('the first membership document names a predecessor');
    await signedBy(0, first.members);
  }
  for (let index = 1; index < docs.length; index++) {
    if (docs[index]!.prev !== sha256(records[index - 1]!.doc))
      throw invalid(`membership document ${base + index} does not follow document ${base + index - 1}`);
    await signedBy(index, docs[index - 1]!.members);
  }
  const last = docs[docs.length - 1]!;
  // A member's fingerprint is its key's, never a field taken on trust.
  for (const member of last.members) {
    let real = keyFingerprints.get(member.publicKey);
    if (real === undefined) {
      real = (await pgp.readApproverKey(member.publicKey).catch(() => undefined))?.fingerprint ?? '';
      keyFingerprints.set(member.publicKey, real);
    }
    if (real.toLowerCase() !== member.fingerprint.toLowerCase())
      throw invalid(`member ${member.host}'s key is not the one its fingerprint names`);
  }
  fleet.membership = { version: last.version, hash: sha256(records[records.length - 1]!.doc), members: last.members };
  pins.membership = { version: last.version, hash: fleet.membership.hash };
  return last.members;
}

/** The next membership document, signed by this member: the compare and the write that store it. */
export async function nextMembership(
  fleet: Fleet,
  members: MemberRecord[],
  key: HostKey,
  deps: Pick<Deps, 'files' | 'loadPgp' | 'clock'>,
): Promise<{ compare: KvCompare; operation: KvOperation; version: number; hash: string }> {
  await verifiedMembers(fleet, deps);
  const head = fleet.membership!;
  const doc: MembershipDoc = {
    version: head.version + 1,
    members,
    prev: head.hash,
    by: fleet.host,
    at: deps.clock.now().toISOString(),
  };
  const text = JSON.stringify(doc);
  const pgp = await deps.loadPgp();
  const { signature } = await pgp.signDetached(new TextEncoder().encode(text), { armored: key.privateKey });
  return {
    compare: { key: fleet.keys.membershipDoc(doc.version), modRevision: '0' },
    operation: { put: fleet.keys.membershipDoc(doc.version), value: JSON.stringify({ doc: text, signature }) },
    version: doc.version,
    hash: sha256(text),
  };
}

/** After a membership change this host made: its own pin follows. */
export function pinMembership(fleet: Fleet, members: MemberRecord[], version: number, hash: string): void {
  fleet.membership = { version, hash, members };
  if (fleet.pins) fleet.pins.membership = { version, hash };
}

/** What a member signs when it writes a secret's state. */
function stateStatement(fleet: Fleet, id: string, body: SecretState, seq: number, signedBy: string): Uint8Array {
  const plain = JSON.parse(JSON.stringify(stateBody(body))) as CanonicalValue;
  return new TextEncoder().encode(
    `secrets fleet state\n${fleet.spec.prefix}\n${id}\n${canonicalJson({ seq, signedBy, state: plain })}\n`,
  );
}

/**
 * The operation that stores `body` as the secret's new state, signed by this host with the next
 * sequence number after `previous` (the state it replaces, compared by the caller's transaction).
 */
export async function signedState(
  fleet: Fleet,
  id: string,
  body: SecretState,
  previous: { seq: number } | undefined,
  key: HostKey,
  deps: Pick<Deps, 'loadPgp'>,
): Promise<{ operation: KvOperation; stored: StoredState; guard: KvCompare[] }> {
  const seq = (previous?.seq ?? 0) + 1;
  // Signed as every reader will parse it: a field the schema does not keep (a pending version's
  // `revocation` left on the version made current) would otherwise fail everyone's verification.
  const parsed = stateSchema.safeParse(JSON.parse(JSON.stringify(stateBody(body))));
  if (!parsed.success) throw new Error(`a state of ${id} that the fleet's schema refuses`);
  const pgp = await deps.loadPgp();
  const { signature } = await pgp.signDetached(stateStatement(fleet, id, parsed.data, seq, fleet.host), {
    armored: key.privateKey,
  });
  const stored: StoredState = { ...stateBody(parsed.data), seq, signedBy: fleet.host, signature };
  // The membership this host verified must still be the newest when the state is written: a
  // member removed meanwhile (its sync finishing a rotation as the removal commits) must not leave a
  // state that no member signed.
  const guard: KvCompare[] = fleet.membership
    ? [{ key: fleet.keys.membershipDoc(fleet.membership.version + 1), modRevision: '0' }]
    : [];
  return { operation: put(fleet.keys.secret(id), stored), stored, guard };
}

/** States already verified in this process (a sync --watch reads them on every change). */
const verifiedStates = new Map<string, boolean>();

/** Refuses a state not signed by a member of the verified membership. */
export async function verifyState(
  fleet: Fleet,
  id: string,
  stored: StoredState,
  members: MemberRecord[],
  deps: Pick<Deps, 'loadPgp'>,
): Promise<void> {
  const signer = members.find((member) => member.host === stored.signedBy);
  if (!signer) throw invalid(`the state of ${id} is signed by ${stored.signedBy}, which is not a member of the fleet`);
  let statement: Uint8Array;
  try {
    statement = stateStatement(fleet, id, stored, stored.seq, stored.signedBy);
  } catch (error) {
    throw invalid(`the state of ${id} cannot be what a member signed (${(error as Error).message})`);
  }
  const cacheKey = sha256(`${signer.publicKey}\n${stored.signature}\n${Buffer.from(statement).toString('base64')}`);
  let genuine = verifiedStates.get(cacheKey);
  if (genuine === undefined) {
    const pgp = await deps.loadPgp();
    const reading = await pgp
      .verifyDetached(statement, new TextEncoder().encode(stored.signature), [signer.publicKey])
      .catch(() => undefined);
    genuine = reading?.status === 'read' && reading.valid;
    verifiedStates.set(cacheKey, genuine);
  }
  if (!genuine) throw invalid(`the state of ${id} does not carry a valid signature of ${stored.signedBy}`);
}

/** Who may sign a state: the members given, else the membership verified on this fleet, else read now. */
async function signersOf(fleet: Fleet, members: MemberRecord[] | undefined): Promise<MemberRecord[]> {
  return members ?? fleet.membership?.members ?? (await readMembers(fleet));
}

/** The secret states, by id, each verified against the membership (default: the fleet's, verified). */
export async function readStates(
  fleet: Fleet,
  members?: MemberRecord[],
): Promise<Map<string, { state: StoredState; modRevision: string }>> {
  const states = new Map<string, { state: StoredState; modRevision: string }>();
  for (const [id, entry] of await readStatesEach(fleet, members)) {
    if ('error' in entry) throw entry.error;
    states.set(id, entry);
  }
  return states;
}

/**
 * The states one by one: each verified, or the error that refused it, so that one bad state stops
 * only its own secret (what a sync needs; the other readers refuse the lot).
 */
export async function readStatesEach(
  fleet: Fleet,
  members?: MemberRecord[],
): Promise<Map<string, { state: StoredState; modRevision: string } | { error: SecretsError }>> {
  const states = new Map<string, { state: StoredState; modRevision: string } | { error: SecretsError }>();
  for (const entry of await fleet.kv.list(fleet.keys.secrets)) {
    const id = entry.key.slice(fleet.keys.secrets.length);
    try {
      const state = parseRecord(storedStateSchema, entry);
      await verifyState(fleet, id, state, await signersOf(fleet, members), fleet.deps);
      states.set(id, { state, modRevision: entry.modRevision });
    } catch (error) {
      if (!(error instanceof SecretsError)) throw error;
      states.set(id, { error });
    }
  }
  return states;
}

/**
 * The states, verified and checked against this host's pins (moving them on): what a command reads
 * before it signs a successor, so an older state put back is never built upon.
 */
export async function readCheckedStates(
  fleet: Fleet,
  members?: MemberRecord[],
): Promise<Map<string, { state: StoredState; modRevision: string }>> {
  // The pins first: a command here that moves them on meanwhile makes the states read newer, not older.
  await loadPins(fleet, fleet.deps);
  const states = await readStates(fleet, members);
  for (const [id, { state }] of states) await checkVersions(fleet, id, state, fleet.deps);
  return states;
}

/** One secret's state, verified; undefined when the fleet has none. */
export async function readState(
  fleet: Fleet,
  id: string,
  members?: MemberRecord[],
): Promise<{ record: StoredState; modRevision: string } | undefined> {
  const found = await readRecord(fleet, storedStateSchema, fleet.keys.secret(id));
  if (!found) return undefined;
  await verifyState(fleet, id, found.record, await signersOf(fleet, members), fleet.deps);
  return found;
}

/**
 * Refuses a shared secret's state that sends this host back to a value it has left: a current
 * version below the highest it has seen current, or a pending version it saw dropped (old values,
 * maybe leaked, replayed by an etcd writer). Moves the pins forward as versions advance.
 */
export async function checkVersions(
  fleet: Fleet,
  id: string,
  state: StoredState,
  deps: Pick<Deps, 'files'>,
): Promise<void> {
  const pins = await loadPins(fleet, deps);
  // Older than the newest state this host has seen: put back by an etcd writer, or an old snapshot.
  // (A state this host never saw can only be newer: anything written after it has a higher number.)
  const seen = pins.states?.[id];
  const hash = sha256(`${state.seq}\n${state.signature}`);
  if (seen && state.seq < seen.seq)
    throw invalid(
      `the fleet's state of ${id} is number ${state.seq}, older than number ${seen.seq} which this host has already seen (a replayed old state?)`,
    );
  if (seen && state.seq === seen.seq && hash !== seen.hash)
    throw invalid(`the fleet's state of ${id} number ${state.seq} differs from the one this host saw with that number`);
  const floor = pins.floors[id] ?? 0;
  const current = state.current.version;
  if (current < floor)
    throw invalid(
      `the fleet says version ${current} of ${id} is current, but this host has already seen version ${floor} current (a replayed old value?)`,
    );
  pins.pending ??= {};
  pins.dropped ??= {};
  const seenPending = pins.pending[id];
  // The pending version this host saw last is gone and was not made current: it was dropped.
  if (
    seenPending &&
    seenPending.version > current &&
    (!state.pending || state.pending.rotation !== seenPending.rotation)
  )
    pins.dropped[id] = Math.max(pins.dropped[id] ?? 0, seenPending.version);
  if (state.pending) {
    if (state.pending.version <= current)
      throw invalid(
        `the fleet's pending version ${state.pending.version} of ${id} is not newer than its current ${current}`,
      );
    if (state.pending.version <= (pins.dropped[id] ?? 0))
      throw invalid(
        `the fleet offers version ${state.pending.version} of ${id} as pending, but this host saw version ${pins.dropped[id]} dropped (a replayed old value?)`,
      );
    pins.pending[id] = { version: state.pending.version, rotation: state.pending.rotation };
  } else delete pins.pending[id];
  pins.floors[id] = Math.max(floor, current);
  pins.states ??= {};
  pins.states[id] = { seq: state.seq, hash };
}

/** Refuses a fleet audit chain shorter than, or different from, what this host saw; pins the new head. */
export async function checkAuditPin(
  fleet: Fleet,
  lines: string[],
  deps: Pick<Deps, 'files'>,
): Promise<{ ok: true } | { ok: false; badLine: number; reason: string }> {
  const pins = await loadPins(fleet, deps);
  const pinned = pins.audit;
  if (pinned) {
    if (lines.length < pinned.seq)
      return {
        ok: false,
        badLine: lines.length + 1,
        reason: `the chain has ${lines.length} entries, but this host saw ${pinned.seq} (entries were removed)`,
      };
    if (sha256(lines[pinned.seq - 1]!) !== pinned.hash)
      return { ok: false, badLine: pinned.seq, reason: 'differs from the entry this host saw there (rewritten)' };
  }
  if (lines.length > 0) pins.audit = { seq: lines.length, hash: sha256(lines[lines.length - 1]!) };
  return { ok: true };
}
