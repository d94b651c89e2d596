/**
 * `secrets fleet status` and the fleet's part of `secrets check`: per host and shared secret, the
 * version applied, the last sync and how far behind; pending rotations and who has not applied
 * them; member keys close to expiry.
 */
import type { Finding } from '../../core/checks/types.js';
import { SecretsError, isSecretsError } from '../../core/errors.js';
import type { Policy } from '../../core/policy.js';
import type { Deps } from '../deps.js';
import { withFleet } from './membership.js';
import { currentTally } from './protocol.js';
import { readCheckedStates } from './trust.js';
import {
  hostStatusSchema,
  parseRecord,
  readMembers,
  requestSchema,
  targetVersion,
  openFleet,
  type Fleet,
  type HostStatus,
  type MemberRecord,
  type SecretState,
} from './store.js';

export interface FleetStatus {
  prefix: string;
  /** This host's name. */
  host: string;
  secrets: Record<
    string,
    {
      current: number;
      /** null: a value uploaded that was never rotated. */
      currentSince: string | null;
      pending: number | null;
      pendingBy?: string;
      pendingSince?: string;
      deadline?: string;
      partialOk?: boolean;
      /** Members that have not acknowledged the pending version. */
      waitingFor?: string[];
    }
  >;
  hosts: Array<{
    host: string;
    fingerprint: string;
    expires: string | null;
    lastSync: string | null;
    /**
     * lag: versions behind the target; negative: the host still holds a version the fleet dropped
     * (it goes back on its next sync). inStep: it holds exactly the target.
     */
    secrets: Record<string, { applied: number | null; target: number; lag: number | null; inStep: boolean }>;
  }>;
  requests: Array<{ host: string; fingerprint: string; requestedAt: string }>;
}

export async function readFleetStatus(policy: Policy, deps: Deps): Promise<FleetStatus> {
  return withFleet(policy, deps, (fleet) => statusOf(fleet));
}

async function statusOf(fleet: Fleet): Promise<FleetStatus> {
  const members = await readMembers(fleet);
  // Checked against this host's pins too (never saved here): a replayed older state is shown as one.
  const states = await readCheckedStates(fleet);
  const statuses = new Map<string, HostStatus>();
  for (const entry of await fleet.kv.list(fleet.keys.hosts))
    statuses.set(entry.key.slice(fleet.keys.hosts.length), parseRecord(hostStatusSchema, entry));
  const requests = (await fleet.kv.list(fleet.keys.requests)).map((entry) => parseRecord(requestSchema, entry));
  const secrets: FleetStatus['secrets'] = {};
  for (const [id, { state }] of states) {
    secrets[id] = {
      current: state.current.version,
      currentSince: state.current.createdAt,
      pending: state.pending?.version ?? null,
      ...(state.pending
        ? {
            pendingBy: state.pending.by,
            pendingSince: state.pending.startedAt,
            deadline: state.pending.deadline,
            partialOk: state.pending.partialOk,
            waitingFor: (await currentTally(fleet, id, state.pending.version)).missing,
          }
        : {}),
    };
  }
  return {
    prefix: fleet.spec.prefix,
    host: fleet.host,
    secrets,
    hosts: members.map((member) => hostRow(member, statuses.get(member.host), states)),
    requests: requests.map(({ host, fingerprint, requestedAt }) => ({ host, fingerprint, requestedAt })),
  };
}

function hostRow(
  member: MemberRecord,
  status: HostStatus | undefined,
  states: Map<string, { state: SecretState }>,
): FleetStatus['hosts'][number] {
  const secrets: FleetStatus['hosts'][number]['secrets'] = {};
  for (const [id, { state }] of states) {
    const applied = status?.applied[id] ?? null;
    const target = targetVersion(state);
    secrets[id] = { applied, target, lag: applied === null ? null : target - applied, inStep: applied === target };
  }
  return {
    host: member.host,
    fingerprint: member.fingerprint,
    expires: member.expires,
    lastSync: status?.lastSync ?? null,
    secrets,
  };
}

const DAY = 24 * 3600 * 1000;

/** The fleet findings of `secrets check`; etcd unreachable is a warning: the local checks still ran. */
export async function fleetFindings(policy: Policy, now: Date, deps: Deps): Promise<Finding[]> {
  let status: FleetStatus;
  try {
    // The daily check never waits long on etcd: 5 s for the whole fleet part, whatever the retries;
    // closing the client at the end of it cancels what is still in flight.
    const fleet = await openFleet(policy, deps, { requestTimeoutMs: 3_000 });
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new SecretsError(
              'etcd-unreachable',
              `etcd did not answer within 5 s at ${policy.doc.fleet!.etcd.endpoints.join(', ')}`,
            ),
          ),
        5_000,
      );
    });
    try {
      status = await Promise.race([statusOf(fleet), budget]);
    } finally {
      clearTimeout(timer);
      await fleet.close().catch(() => undefined);
    }
  } catch (error) {
    const message = isSecretsError(error) ? error.message : String(error);
    // etcd away is a warning; a fleet store that fails its signatures or this host's pins was
    // changed by someone with write access to etcd: critical.
    const tampered = isSecretsError(error) && error.code === 'fleet-store-invalid';
    return [
      {
        check: 'fleet',
        severity: tampered ? 'critical' : 'warning',
        message: `${message.replace(/; nothing was applied$/, '')}; the local checks ran without it`,
      },
    ];
  }
  const findings: Finding[] = [];
  if (!status.hosts.some((member) => member.host === status.host))
    findings.push({
      check: 'fleet',
      severity: 'warning',
      message: `${status.host} is not a member of the fleet at ${status.prefix} (secrets fleet join, then admit it on a member)`,
    });
  for (const [id, secret] of Object.entries(status.secrets)) {
    if (secret.pending !== null && secret.deadline && new Date(secret.deadline) < now)
      findings.push({
        check: 'fleet',
        severity: 'critical',
        secret: id,
        message: `the rotation of ${id} to version ${secret.pending} by ${secret.pendingBy} has been pending since ${secret.pendingSince}, past its deadline; not applied on ${secret.waitingFor?.join(', ') || 'no host'} (secrets sync there, or secrets rotate --recover)`,
      });
  }
  for (const member of status.hosts) {
    const behind = Object.entries(member.secrets).filter(
      ([id, row]) =>
        row.applied === null ||
        (row.applied !== status.secrets[id]?.current && row.applied !== status.secrets[id]?.pending),
    );
    if (behind.length > 0)
      findings.push({
        check: 'fleet',
        severity: 'warning',
        message: `${member.host} is behind the fleet on ${behind.map(([id, row]) => `${id} (has ${row.applied ?? 'none'}, fleet ${status.secrets[id]?.current})`).join(', ')}; last sync ${member.lastSync ?? 'never'}`,
      });
    if (member.expires) {
      const left = new Date(member.expires).getTime() - now.getTime();
      if (left < 30 * DAY)
        findings.push({
          check: 'fleet',
          severity: left <= 0 ? 'critical' : 'warning',
          message: `the key of member ${member.host} ${left <= 0 ? 'has expired' : `expires on ${member.expires.slice(0, 10)}`}: new versions cannot be encrypted to it (fleet remove ${member.host}, then join again with a new key)`,
        });
    }
  }
  return findings;
}
