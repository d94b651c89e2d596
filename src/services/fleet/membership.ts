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
import type { KvOperation } from '../../core/ports.js';
import { Secret } from '../../core/secret.js';
import { currentEnvValues } from '../../kinds/env-values.js';
import { envKeysOfSecret } from '../../kinds/index.js';
import type { Deps } from '../deps.js';
import { appendAudit, readAuditEntries } from '../state/audit-trail.js';
import { commitWithAudit } from './fleet-audit.js';
import { FINGERPRINT_KEY_ID } from './fleet-constants.js';
import { withFleetLock } from './fleet-lock.js';
import {
  assertMember,
  formatFingerprint,
  memberSchema,
  openFleet,
  put,
  readMembers,
  readRecord,
  readStates,
  requestSchema,
  sameFingerprint,
  sharedSecrets,
  valueSchema,
  type Fleet,
  type MemberRecord,
  type SecretState,
} from './store.js';
import { ensureHostKey, openValues, readHostKey, sealValues, type HostKey } from './values.js';

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

export interface FleetInitOutcome {
  prefix: string;
  host: string;
  fingerprint: string;
  uploaded: string[];
  notUploaded: Array<{ id: string; reason: string }>;
}

/** `secrets fleet init`: this host founds the fleet and uploads its shared values as version 1. */
export async function runFleetInit(policy: Policy, deps: Deps): Promise<FleetInitOutcome> {
  return withFleet(policy, deps, async (fleet) => {
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
      const labels = envKeysOfSecret(spec);
      const values = currentEnvValues(policy, new Map([[policy.envFile, envText]]), labels);
      const missing = labels.filter((label) => !values[label]);
      if (labels.length === 0 || missing.length > 0) {
        notUploaded.push({
          id,
          reason:
            labels.length === 0
              ? 'it has no env key'
              : `${missing.join(', ')} not in ${policy.envFile}; its first rotation uploads it`,
        });
        continue;
      }
      const sealed = await sealValues(id, 1, values as Record<string, Secret>, [member], key, fleet.host, deps);
      const state: SecretState = {
        current: {
          version: 1,
          createdAt: (rotatedAt.get(id) ?? now).toISOString(),
          rotation,
          by: fleet.host,
        },
      };
      operations.push(put(fleet.keys.secret(id), state), put(fleet.keys.value(id, 1), sealed));
      status[id] = 1;
      uploaded.push(id);
    }
    const fingerprintKey = Secret.known(randomBytes(32).toString('hex'));
    const sealedKey = await sealValues(FINGERPRINT_KEY_ID, 0, { key: fingerprintKey }, [member], key, fleet.host, deps);
    const created = await commitWithAudit(
      fleet,
      [{ key: fleet.keys.fleet, modRevision: '0' }],
      [
        put(fleet.keys.fleet, { version: 1, createdAt: now.toISOString(), createdBy: fleet.host }),
        put(fleet.keys.member(fleet.host), member),
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
    await appendAudit(
      policy.stateDir,
      { action: 'fleet-init', details: { prefix: fleet.spec.prefix, host: fleet.host, uploaded } },
      deps,
    );
    return { prefix: fleet.spec.prefix, host: fleet.host, fingerprint: key.fingerprint, uploaded, notUploaded };
  });
}

/** `secrets fleet join`: publishes this host's public key as a request a member admits. */
export async function runFleetJoin(policy: Policy, deps: Deps): Promise<{ host: string; fingerprint: string }> {
  return withFleet(policy, deps, async (fleet) => {
    if (!(await fleet.kv.get(fleet.keys.fleet)))
      throw new SecretsError('fleet-missing', `there is no fleet at ${fleet.spec.prefix}; nothing was changed`, {
        hint: 'secrets fleet init on the first host',
      });
    const key = await ensureHostKey(policy, fleet.host, deps);
    const existing = await readRecord(fleet, memberSchema, fleet.keys.member(fleet.host));
    if (existing)
      throw new SecretsError(
        'fleet-already-member',
        sameFingerprint(existing.record.fingerprint, key.fingerprint)
          ? `${fleet.host} is already a member of the fleet`
          : `the fleet already has a member named ${fleet.host}, with another key; nothing was changed`,
        sameFingerprint(existing.record.fingerprint, key.fingerprint)
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
    return { host: fleet.host, fingerprint: key.fingerprint };
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
  for (const [id, { state }] of await readStates(fleet)) {
    secrets.push(id);
    await reseal(fleet.keys.value(id, state.current.version), id, state.current.version);
    if (state.pending) await reseal(fleet.keys.value(id, state.pending.version), id, state.pending.version);
  }
  await reseal(fleet.keys.fingerprintKey, FINGERPRINT_KEY_ID, 0);
  return { operations, secrets };
}

async function memberKey(policy: Policy, fleet: Fleet, deps: Deps): Promise<HostKey> {
  const key = await readHostKey(policy, deps);
  if (!key)
    throw new SecretsError('fleet-not-member', `${fleet.host} has no fleet key: it is not a member`, {
      hint: 'secrets fleet join here, then secrets fleet admit HOST on a member',
    });
  await assertMember(fleet, key.fingerprint);
  return key;
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
  return withFleet(policy, deps, async (fleet) => {
    const key = await memberKey(policy, fleet, deps);
    const request = await readRecord(fleet, requestSchema, fleet.keys.request(input.host));
    if (!request) {
      const already = await readRecord(fleet, memberSchema, fleet.keys.member(input.host));
      if (already) throw new SecretsError('fleet-already-member', `${input.host} is already a member of the fleet`);
      throw new SecretsError('fleet-request-missing', `no join request from ${input.host}; nothing was changed`, {
        hint: `run secrets fleet join on ${input.host} first`,
      });
    }
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
      const { operations, secrets } = await resealAll(fleet, [...current, joining], current, key, deps);
      const done = await commitWithAudit(
        fleet,
        [
          { key: fleet.keys.request(input.host), modRevision: request.modRevision },
          { key: fleet.keys.member(input.host), modRevision: '0' },
        ],
        [put(fleet.keys.member(input.host), joining), { delete: fleet.keys.request(input.host) }, ...operations],
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
  return withFleet(policy, deps, async (fleet) => {
    const key = await memberKey(policy, fleet, deps);
    return withFleetLock(fleet, `secrets fleet remove ${host}`, deps, async () => {
      const current = await readMembers(fleet);
      const leaving = await readRecord(fleet, memberSchema, fleet.keys.member(host));
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
      const done = await commitWithAudit(
        fleet,
        [{ key: fleet.keys.member(host), modRevision: leaving.modRevision }],
        [{ delete: fleet.keys.member(host) }, { delete: fleet.keys.host(host) }, ...operations],
        { action: 'fleet-removed', details: { host, by: fleet.host, couldRead: secrets } },
        deps,
      );
      if (!done)
        throw new SecretsError('fleet-busy', `the membership of ${host} changed meanwhile; nothing was changed`);
      return { removed: host, couldRead: secrets };
    });
  });
}
