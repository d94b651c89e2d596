/**
 * The fleet's records in etcd, under the policy's fleet.prefix (docs/fleet.md lists every key).
 * Values never sit here in clear: a version's values are one OpenPGP message encrypted to every
 * member's key (./values.ts). Every record is read through a schema: a record this version does
 * not understand is `fleet-store-invalid`, never a guess.
 */
import * as z from 'zod/mini';
import { SecretsError } from '../../core/errors.js';
import { rememberValues } from '../../core/secret.js';
import type { Policy } from '../../core/policy.js';
import type { FleetSpec } from '../../core/policy-schema.js';
import type { FleetKv, KvEntry, KvOperation } from '../../core/ports.js';
import { durationMs, parseDuration } from '../../core/duration.js';
import type { Deps } from '../deps.js';
import type { Pins } from './trust.js';

/** A host name as the policy allows it: nothing read from etcd reaches a terminal with control characters. */
const hostName = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/));
/** Free text from another host (an acknowledgement's message): printable, bounded. */
/** A time as this tool writes it (ISO 8601, UTC). */
const isoTime = z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/));
const fingerprintHex = z.string().check(z.regex(/^[0-9a-fA-F]{40,64}$/));
const plainText = z.string().check(z.regex(/^[^\u0000-\u0008\u000b-\u001f\u007f]{0,2000}$/));

export const memberSchema = z.object({
  host: hostName,
  publicKey: z.string(),
  fingerprint: fingerprintHex,
  expires: z.nullable(isoTime),
  admittedAt: isoTime,
  admittedBy: hostName,
});
export type MemberRecord = z.output<typeof memberSchema>;

export const requestSchema = z.object({
  host: hostName,
  publicKey: z.string(),
  fingerprint: fingerprintHex,
  expires: z.nullable(isoTime),
  requestedAt: isoTime,
});
export type RequestRecord = z.output<typeof requestSchema>;

/** Version numbers and counts: whole numbers (a signed statement holds integers only). */
const count = () => z.number().check(z.int(), z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER));

const versionSchema = z.object({
  version: count(),
  /**
   * When the rotator made this value: the secret's rotation date on every host that applies it;
   * null for a value uploaded that was never rotated (it stays "never rotated" everywhere).
   */
  createdAt: z.nullable(isoTime),
  rotation: z.string().check(z.regex(/^[A-Za-z0-9-]{1,64}$/)),
  by: hostName,
});

export const stateSchema = z.object({
  current: versionSchema,
  /** The highest version ever stored (a dropped version's number is never reused). */
  issued: z.optional(count()),
  pending: z.optional(
    z.object({
      ...versionSchema.shape,
      startedAt: isoTime,
      deadline: isoTime,
      partialOk: z.boolean(),
      /** A revocation's replacement: a host that fails it keeps it pending too (never back to the leaked value). */
      revocation: z.optional(z.boolean()),
    }),
  ),
});
export type SecretState = z.output<typeof stateSchema>;
export type PendingVersion = NonNullable<SecretState['pending']>;

/**
 * A state as stored: signed by the member that wrote it, over the fleet, the secret, a sequence
 * number that grows with every write, and the state (./trust.ts). A host pins the highest
 * sequence number it has seen, so a replayed older state, genuine as it was, is refused.
 */
export const storedStateSchema = z.object({
  ...stateSchema.shape,
  seq: z.number().check(z.int(), z.positive(), z.maximum(Number.MAX_SAFE_INTEGER)),
  signedBy: hostName,
  signature: z.string().check(z.maxLength(8192)),
});
export type StoredState = z.output<typeof storedStateSchema>;

/** The state without its signature, as it is signed. */
export function stateBody(stored: SecretState): SecretState {
  return {
    current: stored.current,
    ...(stored.issued !== undefined ? { issued: stored.issued } : {}),
    ...(stored.pending ? { pending: stored.pending } : {}),
  };
}

export const valueSchema = z.object({ by: hostName, message: z.string(), signature: z.string() });
export type ValueRecord = z.output<typeof valueSchema>;

export const ackSchema = z.object({
  outcome: z.enum(['applied', 'failed']),
  message: plainText,
  at: isoTime,
  /** The host's signature over ackStatement() (./protocol.ts). */
  signature: z.string(),
});
export type AckRecord = z.output<typeof ackSchema>;

export const hostStatusSchema = z.object({
  lastSync: isoTime,
  applied: z.record(z.string(), z.number()),
});
export type HostStatus = z.output<typeof hostStatusSchema>;

export const lockSchema = z.object({ host: hostName, pid: z.number(), command: plainText, since: plainText });

/** Key names, all under the fleet's prefix. */
export function fleetKeys(prefix: string) {
  const p = prefix.replace(/\/+$/, '');
  const pad = (seq: number) => String(seq).padStart(10, '0');
  return {
    fleet: `${p}/fleet`,
    membership: `${p}/membership/`,
    membershipDoc: (version: number) => `${p}/membership/${pad(version)}`,
    requests: `${p}/requests/`,
    request: (host: string) => `${p}/requests/${host}`,
    secrets: `${p}/secrets/`,
    secret: (id: string) => `${p}/secrets/${id}`,
    values: (id: string) => `${p}/values/${id}/`,
    value: (id: string, version: number) => `${p}/values/${id}/${pad(version)}`,
    acks: (id: string, version: number) => `${p}/acks/${id}/${pad(version)}/`,
    ack: (id: string, version: number, host: string) => `${p}/acks/${id}/${pad(version)}/${host}`,
    acksOf: (id: string) => `${p}/acks/${id}/`,
    hosts: `${p}/hosts/`,
    host: (name: string) => `${p}/hosts/${name}`,
    lock: `${p}/lock`,
    audit: `${p}/audit/`,
    auditLine: (seq: number) => `${p}/audit/${pad(seq)}`,
    auditHead: `${p}/audit-head`,
    fingerprintKey: `${p}/fingerprint-key`,
    /** Everything the watch of `sync --watch` needs: a secret's state and the membership. */
    watched: [`${p}/secrets/`, `${p}/membership/`],
    prefix: `${p}/`,
  };
}
export type FleetKeys = ReturnType<typeof fleetKeys>;

/** One open connection to the fleet, as this host sees it. */
export interface Fleet {
  spec: FleetSpec;
  host: string;
  kv: FleetKv;
  keys: FleetKeys;
  applyTimeoutMs: number;
  lockTtlSeconds: number;
  /** This host's state folder: its key and its pins (./trust.ts). */
  stateDir: string;
  /** What the membership chain is read and verified with. */
  deps: Pick<Deps, 'files' | 'loadPgp'>;
  /** This host's pins, once loaded; the membership head last verified (./trust.ts). */
  pins?: Pins;
  membership?: { version: number; hash: string; members: MemberRecord[] };
  close(): Promise<void>;
}

export function fleetSpecOf(policy: Policy): FleetSpec {
  const spec = policy.doc.fleet;
  if (!spec)
    throw new SecretsError('fleet-missing', 'the policy has no fleet: section (several hosts need one)', {
      where: policy.path,
      hint: 'see docs/fleet.md for the fleet: section',
    });
  return spec;
}

/** The secrets of the policy that every host of the fleet shares. */
export function sharedSecrets(policy: Policy) {
  return policy.secrets.filter(({ spec }) => spec.shared === true);
}

/** Connects to the policy's etcd cluster (nothing is asked of it until the first request). */
export async function openFleet(
  policy: Policy,
  deps: Deps,
  options: { requestTimeoutMs?: number } = {},
): Promise<Fleet> {
  const spec = fleetSpecOf(policy);
  if (!deps.openFleetKv) throw new Error('no etcd client in this build');
  const etcd = spec.etcd;
  let password: string | undefined;
  if (etcd.password_env) {
    password = deps.env[etcd.password_env];
    if (password === undefined || password === '')
      throw new SecretsError(
        'etcd-credentials',
        `fleet.etcd.password_env names ${etcd.password_env}, which is not set in this environment`,
        { where: policy.path, hint: `export ${etcd.password_env} in the environment secrets runs in` },
      );
    // Masked wherever it could surface (an error gRPC echoes, a hook's output).
    rememberValues([password]);
  }
  const resolve = (path: string | undefined) =>
    path === undefined ? undefined : path.startsWith('/') ? path : `${policy.root}/${path}`;
  const kv = await deps.openFleetKv({
    endpoints: etcd.endpoints,
    ...(etcd.ca ? { ca: resolve(etcd.ca)! } : {}),
    ...(etcd.cert ? { cert: resolve(etcd.cert)! } : {}),
    ...(etcd.key ? { key: resolve(etcd.key)! } : {}),
    ...(etcd.user ? { user: etcd.user } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
  });
  return {
    spec,
    host: spec.host,
    kv,
    keys: fleetKeys(spec.prefix),
    applyTimeoutMs: durationMs(parseDuration(spec.apply_timeout)!),
    lockTtlSeconds: Math.max(2, Math.round(durationMs(parseDuration(spec.lock_ttl)!) / 1000)),
    stateDir: policy.stateDir,
    deps,
    close: () => kv.close(),
  };
}

/** A record read through its schema; a record that does not fit is refused with its key. */
export function parseRecord<T>(schema: z.ZodMiniType<T>, entry: KvEntry): T {
  let data: unknown;
  try {
    data = JSON.parse(entry.value);
  } catch {
    throw new SecretsError('fleet-store-invalid', `the fleet record ${entry.key} is not JSON`);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success)
    throw new SecretsError('fleet-store-invalid', `the fleet record ${entry.key} is not one this version understands`);
  return parsed.data;
}

export async function readRecord<T>(
  fleet: Fleet,
  schema: z.ZodMiniType<T>,
  key: string,
): Promise<{ record: T; modRevision: string } | undefined> {
  const entry = await fleet.kv.get(key);
  return entry ? { record: parseRecord(schema, entry), modRevision: entry.modRevision } : undefined;
}

/** The members, as the signed membership chain says (verified from this host's pin: ./trust.ts). */
export async function readMembers(fleet: Fleet): Promise<MemberRecord[]> {
  const { verifiedMembers } = await import('./trust.js');
  fleet.membership = undefined;
  return verifiedMembers(fleet, fleet.deps);
}

export async function readAcks(fleet: Fleet, id: string, version: number): Promise<Map<string, AckRecord>> {
  const prefix = fleet.keys.acks(id, version);
  const acks = new Map<string, AckRecord>();
  for (const entry of await fleet.kv.list(prefix))
    acks.set(entry.key.slice(prefix.length), parseRecord(ackSchema, entry));
  return acks;
}

export const put = (key: string, record: unknown): KvOperation => ({ put: key, value: JSON.stringify(record) });

/** The version every host should hold now: the pending one while a rotation is under way. */
export function targetVersion(state: SecretState): number {
  return state.pending?.version ?? state.current.version;
}

/** Refuses a host that is not (or no longer) a member, or whose key is not the one admitted. */
export async function assertMember(fleet: Fleet, fingerprint: string): Promise<MemberRecord> {
  const members = await readMembers(fleet);
  const found = members.find((member) => member.host === fleet.host);
  if (!found) {
    const exists = await fleet.kv.get(fleet.keys.fleet);
    if (!exists)
      throw new SecretsError('fleet-missing', `there is no fleet at ${fleet.spec.prefix}`, {
        hint: 'secrets fleet init on the first host',
      });
    throw new SecretsError('fleet-not-member', `${fleet.host} is not a member of the fleet at ${fleet.spec.prefix}`, {
      hint: `secrets fleet join here, then secrets fleet admit ${fleet.host} on a member`,
    });
  }
  if (found.fingerprint !== fingerprint)
    throw new SecretsError(
      'fleet-not-member',
      `${fleet.host} was admitted with another key (${formatFingerprint(found.fingerprint)}), not this host's (${formatFingerprint(fingerprint)})`,
      { hint: `a member runs secrets fleet remove ${fleet.host}; then secrets fleet join here` },
    );
  return found;
}

/** 40 hex digits in groups of four, as gpg prints them. */
export function formatFingerprint(fingerprint: string): string {
  return (
    fingerprint
      .toUpperCase()
      .match(/.{1,4}/g)
      ?.join(' ') ?? fingerprint
  );
}

export function sameFingerprint(a: string, b: string): boolean {
  const norm = (text: string) => text.replace(/\s+/g, '').toLowerCase();
  return norm(a) === norm(b);
}
