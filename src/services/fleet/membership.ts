/**
 * Who is in the fleet: `fleet init` (the first member), `fleet join` (a request carrying the
 * host's public key), `fleet admit` (a member confirms the key's fingerprint and re-encrypts every
 * stored value to the new member), `fleet remove` (re-encrypted without it; it could read what it
 * held, so those secrets should be rotated). docs/fleet.md.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { lastRotations } from '../../core/audit.js';
import { SecretsError } from '../../core/errors.js';
import type { Policy } from '../../core/policy.js';
import type { SecretSpec } from '../../core/policy-schema.js';
import type { KvCompare, KvOperation } from '../../core/ports.js';
import { Secret } from '../../core/secret.js';
import { currentEnvValues } from '../../kinds/env-values.js';
import { envKeysOfSecret } from '../../kinds/index.js';
import type { Deps } from '../deps.js';
import { appendAudit, readAuditEntries } from '../state/audit-trail.js';
import { commitWithAudit } from './fleet-audit.js';
import { FINGERPRINT_KEY_ID } from './fleet-constants.js';
import { withFleetLock } from './fleet-lock.js';
import {
  loadPins,
  nextMembership,
  pinMembership,
  readCheckedStates,
  readState,
  savePins,
  signedState,
} from './trust.js';
import { withStateLock } from '../state/state-lock.js';
import { currentTally, makeCurrent } from './protocol.js';
import {
  formatFingerprint,
  openFleet,
  put,
  readMembers,
  readRecord,
  requestSchema,
  sameFingerprint,
  sharedSecrets,
  valueSchema,
  type Fleet,
  type MemberRecord,
  type SecretState,
  type StoredState,
} from './store.js';
import { ensureHostKey, memberHostKey, openValues, sealValues, type HostKey } from './values.js';

/** Runs `work` with the fleet open, closing it after. */
export async function withFleet<T>(
  policy: Policy,
  deps: Deps,
  work: (fleet: Fleet) => Promise<T>,
  options: { requestTimeoutMs?: number } = {},
): Promise<T> {
  const fleet = await openFleet(policy, deps, options);
  try {
    return await work(fleet);
  } finally {
    await fleet.close();
  }
}

function memberOf(host: string, key: HostKey, admittedBy: string, now: Date): MemberRecord {
  return {
    host,
    publicKey: key.publicKey,
    fingerprint: key.fingerprint,
    expires: key.expires ? key.expires.toISOString() : null,
    admittedAt: now.toISOString(),
    admittedBy,
  };
}

/**
 * Version 1 of a shared secret: this host's current value, sealed to `members`. Used by fleet
 * init, and by the first rotation of a secret shared after it (so a roll-back has a version to
 * go back to). Returns why not when this host has no value of it.
 */
export async function firstVersion(
  policy: Policy,
  fleet: Fleet,
  id: string,
  spec: SecretSpec,
  members: MemberRecord[],
  key: HostKey,
  envText: string | undefined,
  origin: { createdAt: Date | null; rotation: string },
  deps: Deps,
): Promise<{ operations: KvOperation[]; valueOperation: KvOperation; state: StoredState } | { reason: string }> {
  const labels = envKeysOfSecret(spec);
  const values = currentEnvValues(policy, new Map([[policy.envFile, envText]]), labels);
  const missing = labels.filter((label) => !values[label]);
  if (labels.length === 0) return { reason: 'it has no env key' };
  if (missing.length > 0) return { reason: `${missing.join(', ')} not in ${policy.envFile}` };
  const sealed = await sealValues(id, 1, values as Record<string, Secret>, members, key, fleet.host, deps);
  // Never rotated here: the version has no creation date, and every host sees it as never rotated.
  const state: SecretState = {
    current: {
      version: 1,
      createdAt: origin.createdAt ? origin.createdAt.toISOString() : null,
      rotation: origin.rotation,
      by: fleet.host,
    },
    issued: 1,
  };
  const valueOperation = put(fleet.keys.value(id, 1), sealed);
  const signed = await signedState(fleet, id, state, undefined, key, deps);
  return { operations: [signed.operation, valueOperation], valueOperation, state: signed.stored };
}

/**
 * A membership change or a sync-like command on this host: the state lock held (its key, its
 * pins and its local trail change), the fleet open, and this host's pins saved after the work.
 */
export async function withFleetHost<T>(
  policy: Policy,
  deps: Deps,
  command: string,
  work: (fleet: Fleet) => Promise<T>,
): Promise<T> {
  return withStateLock(policy.stateDir, { command, waitMs: 60_000 }, deps, () =>
    withFleet(policy, deps, async (fleet) => {
      try {
        return await work(fleet);
      } finally {
        await savePins(fleet, deps);
      }
    }),
  );
}

export interface FleetInitOutcome {
  prefix: string;
  host: string;
  fingerprint: string;
  uploaded: string[];
  notUploaded: Array<{ id: string; reason: string }>;
}

/** `secrets fleet init`: this host founds the fleet and uploads its shared values as version 1. */
export async function runFleetInit(policy: Policy, deps: Deps): Promise<FleetInitOutcome> {
  return withFleetHost(policy, deps, 'secrets fleet init', async (fleet) => {
    if (await fleet.kv.get(fleet.keys.fleet))
      throw new SecretsError('fleet-exists', `there is already a fleet at ${fleet.spec.prefix}; nothing was changed`, {
        hint: `secrets fleet join, then secrets fleet admit ${fleet.host} on a member`,
      });
    // A new fleet: whatever this host pinned for an earlier fleet at this prefix no longer applies.
    fleet.pins = { floors: {} };
    const key = await ensureHostKey(policy, fleet.host, deps);
    const now = deps.clock.now();
    const member = memberOf(fleet.host, key, fleet.host, now);
    const envText = await deps.files.readTextIfExists(policy.envFile);
    const { entries } = await readAuditEntries(policy.stateDir, deps);
    const rotatedAt = lastRotations(entries);
    const rotation = randomUUID();
    const operations: KvOperation[] = [];
    const uploaded: string[] = [];
    const notUploaded: FleetInitOutcome['notUploaded'] = [];
    const status: Record<string, number> = {};
    for (const { id, spec } of sharedSecrets(policy)) {
      const first = await firstVersion(
        policy,
        fleet,
        id,
        spec,
        [member],
        key,
        envText,
        {
          createdAt: rotatedAt.get(id) ?? null,
          rotation,
        },
        deps,
      );
      if ('reason' in first) {
        notUploaded.push({ id, reason: first.reason });
        continue;
      }
      operations.push(...first.operations);
      status[id] = 1;
      uploaded.push(id);
    }
    const fingerprintKey = Secret.known(randomBytes(32).toString('hex'));
    const sealedKey = await sealValues(FINGERPRINT_KEY_ID, 0, { key: fingerprintKey }, [member], key, fleet.host, deps);
    const membership = await nextMembership(fleet, [member], key, deps);
    const created = await commitWithAudit(
      fleet,
      [{ key: fleet.keys.fleet, modRevision: '0' }, membership.compare],
      [
        put(fleet.keys.fleet, { version: 1, createdAt: now.toISOString(), createdBy: fleet.host }),
        membership.operation,
        put(fleet.keys.fingerprintKey, sealedKey),
        put(fleet.keys.host(fleet.host), { lastSync: now.toISOString(), applied: status }),
        ...operations,
      ],
      { action: 'fleet-init', details: { host: fleet.host, fingerprint: key.fingerprint, uploaded } },
      deps,
    );
    if (!created)
      throw new SecretsError('fleet-exists', `there is already a fleet at ${fleet.spec.prefix}; nothing was changed`, {
        hint: `secrets fleet join, then secrets fleet admit ${fleet.host} on a member`,
      });
    pinMembership(fleet, [member], membership.version, membership.hash);
    for (const id of uploaded) fleet.pins!.floors[id] = 1;
    await appendAudit(
      policy.stateDir,
      { action: 'fleet-init', details: { prefix: fleet.spec.prefix, host: fleet.host, uploaded } },
      deps,
    );
    return { prefix: fleet.spec.prefix, host: fleet.host, fingerprint: key.fingerprint, uploaded, notUploaded };
  });
}

/** `secrets fleet join`: publishes this host's public key as a request a member admits. */
export async function runFleetJoin(
  policy: Policy,
  deps: Deps,
): Promise<{ host: string; fingerprint: string; members: Array<{ host: string; fingerprint: string }> }> {
  return withFleetHost(policy, deps, 'secrets fleet join', async (fleet) => {
    if (!(await fleet.kv.get(fleet.keys.fleet)))
      throw new SecretsError('fleet-missing', `there is no fleet at ${fleet.spec.prefix}; nothing was changed`, {
        hint: 'secrets fleet init on the first host',
      });
    const key = await ensureHostKey(policy, fleet.host, deps);
    // The membership this host will trust from now on (pinned when the command ends).
    const members = await readMembers(fleet);
    const existing = members.find((member) => member.host === fleet.host);
    if (existing)
      throw new SecretsError(
        'fleet-already-member',
        sameFingerprint(existing.fingerprint, key.fingerprint)
          ? `${fleet.host} is already a member of the fleet`
          : `the fleet already has a member named ${fleet.host}, with another key; nothing was changed`,
        sameFingerprint(existing.fingerprint, key.fingerprint)
          ? {}
          : { hint: `if this host lost its key, a member runs secrets fleet remove ${fleet.host} first` },
      );
    const now = deps.clock.now();
    await commitWithAudit(
      fleet,
      [],
      [
        put(fleet.keys.request(fleet.host), {
          host: fleet.host,
          publicKey: key.publicKey,
          fingerprint: key.fingerprint,
          expires: key.expires ? key.expires.toISOString() : null,
          requestedAt: now.toISOString(),
        }),
      ],
      { action: 'fleet-join-requested', details: { host: fleet.host, fingerprint: key.fingerprint } },
      deps,
    );
    return {
      host: fleet.host,
      fingerprint: key.fingerprint,
      members: members.map((member) => ({ host: member.host, fingerprint: member.fingerprint })),
    };
  });
}

/**
 * Every stored version (current and pending of each secret, and the fingerprint key) opened with
 * this member's key and sealed again to `members`: the operations that store them.
 */
async function resealAll(fleet: Fleet, members: MemberRecord[], current: MemberRecord[], key: HostKey, deps: Deps) {
  const operations: KvOperation[] = [];
  const secrets: string[] = [];
  const reseal = async (valueKey: string, secret: string, version: number) => {
    const found = await readRecord(fleet, valueSchema, valueKey);
    if (!found) return;
    const values = await openValues(found.record, { secret, version }, current, key, deps);
    operations.push(put(valueKey, await sealValues(secret, version, values, members, key, fleet.host, deps)));
  };
  for (const [id, { state }] of await readCheckedStates(fleet)) {
    secrets.push(id);
    await reseal(fleet.keys.value(id, state.current.version), id, state.current.version);
    if (state.pending) await reseal(fleet.keys.value(id, state.pending.version), id, state.pending.version);
  }
  await reseal(fleet.keys.fingerprintKey, FINGERPRINT_KEY_ID, 0);
  return { operations, secrets };
}

export interface AdmitInput {
  host: string;
  /** --fingerprint: the fingerprint fleet join printed on the new host. */
  fingerprint?: string;
}

/** `secrets fleet admit HOST`: on a member; the new member can read every shared value after it. */
export async function runFleetAdmit(
  policy: Policy,
  input: AdmitInput,
  deps: Deps,
): Promise<{ host: string; fingerprint: string; secrets: string[] }> {
  return withFleetHost(policy, deps, `secrets fleet admit ${input.host}`, async (fleet) => {
    const key = await memberHostKey(policy, fleet, deps);
    const request = await readRecord(fleet, requestSchema, fleet.keys.request(input.host));
    if (!request) {
      const already = (await readMembers(fleet)).some((member) => member.host === input.host);
      if (already) throw new SecretsError('fleet-already-member', `${input.host} is already a member of the fleet`);
      throw new SecretsError('fleet-request-missing', `no join request from ${input.host}; nothing was changed`, {
        hint: `run secrets fleet join on ${input.host} first`,
      });
    }
    // The fingerprint is computed from the key the request carries, never taken from the request's
    // own fingerprint field: an etcd writer could pair a genuine fingerprint with their own key.
    const pgp = await deps.loadPgp();
    const requested = await pgp.readApproverKey(request.record.publicKey).catch(() => {
      throw new SecretsError(
        'fleet-store-invalid',
        `the join request of ${input.host} does not carry a readable OpenPGP public key; nothing was changed`,
      );
    });
    if (requested.revoked || (requested.expires && requested.expires <= deps.clock.now()))
      throw new SecretsError(
        'fleet-store-invalid',
        `the key in the join request of ${input.host} is ${requested.revoked ? 'revoked' : 'expired'}; nothing was changed`,
        { hint: `run secrets fleet join on ${input.host} again` },
      );
    request.record.fingerprint = requested.fingerprint;
    request.record.expires = requested.expires ? requested.expires.toISOString() : null;
    const shown = formatFingerprint(request.record.fingerprint);
    if (input.fingerprint !== undefined) {
      if (!sameFingerprint(input.fingerprint, request.record.fingerprint))
        throw new SecretsError(
          'fleet-fingerprint-mismatch',
          `the join request of ${input.host} carries key ${shown}, not the one given; nothing was changed`,
          { hint: `compare with what secrets fleet join printed on ${input.host}; if it differs, do not admit it` },
        );
    } else if (deps.interactive) {
      deps.output.out(`join request of ${input.host}: key fingerprint ${shown}\n`);
      if (!(await deps.prompts.confirm(`is this the fingerprint secrets fleet join printed on ${input.host}?`, false)))
        throw new SecretsError('cancelled', 'not confirmed; nothing was changed');
    } else {
      throw new SecretsError(
        'fleet-fingerprint-required',
        `admitting ${input.host} without a terminal needs --fingerprint (its request carries ${shown}); nothing was changed`,
        { hint: `secrets fleet admit ${input.host} --fingerprint "<what fleet join printed there>"` },
      );
    }
    return withFleetLock(fleet, `secrets fleet admit ${input.host}`, deps, async () => {
      const current = await readMembers(fleet);
      const joining = memberOf(
        input.host,
        {
          privateKey: Secret.known(''),
          publicKey: request.record.publicKey,
          fingerprint: request.record.fingerprint,
          expires: request.record.expires ? new Date(request.record.expires) : null,
        },
        fleet.host,
        deps.clock.now(),
      );
      if (current.some((member) => member.host === input.host))
        throw new SecretsError('fleet-already-member', `${input.host} is already a member of the fleet`);
      const { operations, secrets } = await resealAll(fleet, [...current, joining], current, key, deps);
      const membership = await nextMembership(fleet, [...current, joining], key, deps);
      const done = await commitWithAudit(
        fleet,
        [{ key: fleet.keys.request(input.host), modRevision: request.modRevision }, membership.compare],
        [membership.operation, { delete: fleet.keys.request(input.host) }, ...operations],
        {
          action: 'fleet-admitted',
          details: { host: input.host, fingerprint: request.record.fingerprint, by: fleet.host },
        },
        deps,
      );
      if (!done)
        throw new SecretsError(
          'fleet-busy',
          `the join request of ${input.host} changed while it was being admitted; nothing was changed`,
          { hint: 'check the fingerprint again and repeat' },
        );
      pinMembership(fleet, [...current, joining], membership.version, membership.hash);
      return { host: input.host, fingerprint: request.record.fingerprint, secrets };
    });
  });
}

/** `secrets fleet remove HOST`: the values are re-encrypted without it; what it could read is named. */
export async function runFleetRemove(
  policy: Policy,
  host: string,
  deps: Deps,
): Promise<{ removed: string; couldRead: string[] }> {
  return withFleetHost(policy, deps, `secrets fleet remove ${host}`, async (fleet) => {
    const key = await memberHostKey(policy, fleet, deps);
    return withFleetLock(fleet, `secrets fleet remove ${host}`, deps, async () => {
      const current = await readMembers(fleet);
      const leaving = current.find((member) => member.host === host);
      if (!leaving) {
        if (await fleet.kv.get(fleet.keys.request(host))) {
          await commitWithAudit(
            fleet,
            [],
            [{ delete: fleet.keys.request(host) }],
            { action: 'fleet-request-refused', details: { host, by: fleet.host } },
            deps,
          );
          return { removed: host, couldRead: [] };
        }
        throw new SecretsError('fleet-not-member', `${host} is not a member of the fleet; nothing was changed`);
      }
      const staying = current.filter((member) => member.host !== host);
      if (staying.length === 0)
        throw new SecretsError('fleet-last-member', `${host} is the fleet's only member; nothing was changed`);
      if (!staying.some((member) => member.host === fleet.host))
        throw new SecretsError('fleet-not-member', `${fleet.host} is not a member of the fleet`);
      const { operations, secrets } = await resealAll(fleet, staying, current, key, deps);
      // A state the leaving host signed would no longer verify: signed again here, unchanged.
      const resigned: KvOperation[] = [];
      const unmoved: KvCompare[] = [];
      // Every state is compared, not only those: one that moves meanwhile (the leaving host's sync
      // completing a rotation) makes the removal fail rather than leave a state no member signed.
      for (const [id, { state, modRevision }] of await readCheckedStates(fleet, current)) {
        unmoved.push({ key: fleet.keys.secret(id), modRevision });
        if (state.signedBy === host) resigned.push((await signedState(fleet, id, state, state, key, deps)).operation);
      }
      const membership = await nextMembership(fleet, staying, key, deps);
      const done = await commitWithAudit(
        fleet,
        [membership.compare, ...unmoved],
        [membership.operation, { delete: fleet.keys.host(host) }, ...operations, ...resigned],
        { action: 'fleet-removed', details: { host, by: fleet.host, couldRead: secrets } },
        deps,
      );
      if (!done)
        throw new SecretsError(
          'fleet-busy',
          `the fleet changed meanwhile (its membership, or a secret's state); nothing was changed`,
          { hint: `run secrets fleet remove ${host} again` },
        );
      pinMembership(fleet, staying, membership.version, membership.hash);
      // A version pending only on the removed host is now applied by every member: make it current.
      for (const [id, { state, modRevision }] of await readCheckedStates(fleet)) {
        if (!state.pending) continue;
        const tally = await currentTally(fleet, id, state.pending.version);
        if (tally.missing.length === 0 && tally.failed.length === 0)
          await makeCurrent(fleet, id, state, modRevision, key, deps, `completed when ${host} was removed`);
      }
      return { removed: host, couldRead: secrets };
    });
  });
}

export interface AcceptStateOutcome {
  secret: string;
  /** What this host had pinned: the newest state number it had seen, and the highest version current. */
  forgot: { seq: number | null; current: number | null };
  /** What the fleet holds now (null: no state; the next rotation uploads one). */
  now: { seq: number; current: number; pending: number | null; signedBy: string } | null;
}

/**
 * `secrets fleet accept-state ID`: after etcd lost or went back on a secret's state (a deleted key,
 * a restore from an older snapshot), every host that saw newer refuses it; the operator, having
 * checked the fleet trail, tells this host to forget what it saw of that secret. The state is still
 * verified (signed by a member); only the host's memory of it is reset, and that is audited here.
 */
export async function runFleetAcceptState(policy: Policy, id: string, deps: Deps): Promise<AcceptStateOutcome> {
  if (!sharedSecrets(policy).some((secret) => secret.id === id))
    throw new SecretsError('unknown-secret', `${id} is not a shared secret of this policy; nothing was changed`);
  return withFleetHost(policy, deps, `secrets fleet accept-state ${id}`, async (fleet) => {
    await memberHostKey(policy, fleet, deps);
    const found = await readState(fleet, id);
    const pins = await loadPins(fleet, deps);
    const forgot = { seq: pins.states?.[id]?.seq ?? null, current: pins.floors[id] ?? null };
    delete pins.states?.[id];
    delete pins.floors[id];
    delete pins.pending?.[id];
    delete pins.dropped?.[id];
    delete pins.held?.[id];
    const now = found
      ? {
          seq: found.record.seq,
          current: found.record.current.version,
          pending: found.record.pending?.version ?? null,
          signedBy: found.record.signedBy,
        }
      : null;
    await appendAudit(
      policy.stateDir,
      { action: 'fleet-state-accepted', secret: id, details: { prefix: fleet.spec.prefix, forgot, now } },
      deps,
    );
    return { secret: id, forgot, now };
  });
}
