/**
 * One rotation, every host: the rotation of a `shared: true` secret (docs/fleet.md).
 *
 *   lock      the fleet lock in etcd, bound to this process's lease
 *   create    the kind's create() and test() here, as for a local rotation
 *   pending   the new version encrypted to every member, stored as pending with a
 *             compare-and-swap on the secret's state (two rotators: one wins)
 *   apply     this host applies it now; every other member through its own `secrets sync`
 *   current   every member acknowledged: the version becomes current, `rotated` in the fleet chain
 *   or back   a member failed or stayed silent past apply_timeout: the pending version is dropped
 *             and every host goes back to the current one (--partial-ok: it stays pending)
 *
 * The state in etcd is the journal: a rotator that dies leaves a pending version, and
 * `rotate --recover` on any member waits for the acknowledgements as the rotator would.
 */
import { ExitCode, SecretsError, isSecretsError } from '../../core/errors.js';
import type { Policy } from '../../core/policy.js';
import type { SelectedSecret } from '../../core/rotation/plan.js';
import type { KvLock, KvOperation } from '../../core/ports.js';
import { fingerprint } from '../../core/secret.js';
import type { Deps } from '../deps.js';
import { prepareRotation, type RotateSecretOptions, type RotatedSecret } from '../rotation/rotate-secret.js';
import { passStep } from '../rotation/transaction.js';
import { fingerprintKey } from '../state/audit-trail.js';
import { assertFleetAuditIntact, appendFleetAudit } from './fleet-audit.js';
import { takeFleetLock } from './fleet-lock.js';
import { firstVersion, withFleet } from './membership.js';
import { currentTally, dropPending, makeCurrent, type AckTally } from './protocol.js';
import { put, readMembers, type Fleet, type SecretState, type StoredState } from './store.js';
import { syncHost } from './sync.js';
import { memberHostKey, sealValues, type HostKey } from './values.js';
import { checkVersions, readState, readStates, savePins, signedState } from './trust.js';
import { randomUUID } from 'node:crypto';
import { lastRotations } from '../../core/audit.js';
import { readAuditEntries } from '../state/audit-trail.js';

export interface SharedRotationOptions extends RotateSecretOptions {
  /** --partial-ok: members that did not acknowledge in time leave the version pending, not rolled back. */
  partialOk?: boolean;
}

/** The outcome of waiting for the members: every one applied, or who did not. */
type Waited = { done: true } | { done: false; tally: AckTally; reason: string };

/**
 * Waits until every member acknowledged the version, one failed, or the deadline passed: an etcd
 * watch on the acknowledgements wakes it, a poll each second covers a watch that reconnects.
 */
async function waitForAcks(
  fleet: Fleet,
  id: string,
  version: number,
  deadline: Date,
  lock: KvLock,
  deps: Deps,
): Promise<Waited> {
  let wake: () => void = () => undefined;
  const watcher = await fleet.kv
    .watch(
      fleet.keys.acks(id, version),
      () => wake(),
      () => undefined,
    )
    .catch(() => undefined);
  try {
    for (;;) {
      if (lock.lost)
        throw new SecretsError(
          'fleet-lock-lost',
          `lost the fleet lock while waiting for the hosts to apply version ${version} of ${id}`,
          { hint: 'secrets rotate --recover on any member finishes or undoes it' },
        );
      const tally = await currentTally(fleet, id, version);
      if (tally.failed.length > 0)
        return {
          done: false,
          tally,
          reason: `${tally.failed.map((entry) => `${entry.host} failed (${entry.message})`).join('; ')}`,
        };
      if (tally.missing.length === 0) return { done: true };
      const left = deadline.getTime() - deps.clock.now().getTime();
      if (left <= 0)
        return {
          done: false,
          tally,
          reason: `${tally.missing.join(', ')} did not apply it within ${fleet.spec.apply_timeout}`,
        };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(1000, left));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    await watcher?.close();
  }
}

/**
 * Ends a pending version after waiting: current when every member applied it; otherwise dropped
 * (this host re-applies the current version at once), or, with partialOk, left pending.
 */
async function conclude(
  policy: Policy,
  fleet: Fleet,
  id: string,
  key: HostKey,
  lock: KvLock,
  deps: Deps,
  how: string,
): Promise<{ outcome: 'current' | 'pending' | 'rolled-back'; tally?: AckTally; reason?: string }> {
  const found = await readState(fleet, id);
  const pending = found?.record.pending;
  if (!found || !pending) return { outcome: 'current' };
  // Never decide on a state older than one this host has seen (put back by an etcd writer).
  await checkVersions(fleet, id, found.record, deps);
  // Never longer than apply_timeout from now: a deadline in etcd (an etcd writer, a skewed clock) may be far off.
  const cap = deps.clock.now().getTime() + fleet.applyTimeoutMs;
  const deadline = new Date(Math.min(new Date(pending.deadline).getTime(), cap));
  const waited = await waitForAcks(fleet, id, pending.version, deadline, lock, deps);
  const fresh = await readState(fleet, id);
  if (fresh) await checkVersions(fleet, id, fresh.record, deps);
  if (!fresh?.record.pending || fresh.record.pending.version !== pending.version) return { outcome: 'current' };
  if (waited.done) {
    passStep('fleet-acknowledged', deps);
    await makeCurrent(fleet, id, fresh.record, fresh.modRevision, key, deps, how);
    return { outcome: 'current' };
  }
  // --partial-ok keeps it pending for the hosts that did not answer; a revocation's replacement also
  // for those that failed it: the fleet never goes back to a leaked value because one host did.
  if (pending.partialOk && (waited.tally.failed.length === 0 || pending.revocation)) {
    await appendFleetAudit(
      fleet,
      {
        action: 'rotate-partial',
        secret: id,
        details: {
          rotation: pending.rotation,
          version: pending.version,
          missing: waited.tally.missing,
          failed: waited.tally.failed.map((entry) => entry.host),
          by: fleet.host,
        },
      },
      deps,
    );
    return {
      outcome: 'pending',
      tally: { ...waited.tally, missing: [...waited.tally.missing, ...waited.tally.failed.map((entry) => entry.host)] },
      reason: waited.reason,
    };
  }
  await dropPending(fleet, id, fresh.record, fresh.modRevision, waited.tally, key, deps, waited.reason);
  // This host goes back at once; the others on their next sync.
  await syncHost(policy, fleet, deps, { only: [id], nested: true }).catch(() => undefined);
  return { outcome: 'rolled-back', tally: waited.tally, reason: waited.reason };
}

function rolledBack(id: string, version: number, reason: string): SecretsError {
  return new SecretsError(
    'fleet-rolled-back',
    `${id}: version ${version} was not applied everywhere (${reason}); the fleet is back on the previous version`,
    { hint: 'bring the named hosts back (secrets sync there) and rotate again, or rotate with --partial-ok' },
  );
}

/**
 * A secret shared after fleet init has no version in the fleet: this host's value becomes
 * version 1, stored in the same transaction as the first pending version, so a roll-back has a
 * version to go back to and a refused rotation stores nothing at all.
 */
async function planFirstVersion(
  policy: Policy,
  fleet: Fleet,
  item: SelectedSecret,
  key: HostKey,
  deps: Deps,
): Promise<{ record: StoredState; modRevision: string; valueOperation: KvOperation }> {
  const members = await readMembers(fleet);
  const envText = await deps.files.readTextIfExists(policy.envFile);
  const { entries } = await readAuditEntries(policy.stateDir, deps);
  const first = await firstVersion(
    policy,
    fleet,
    item.id,
    item.spec,
    members,
    key,
    envText,
    { createdAt: lastRotations(entries).get(item.id) ?? null, rotation: randomUUID() },
    deps,
  );
  if ('reason' in first)
    throw new SecretsError(
      'fleet-no-value',
      `${item.id} has no version in the fleet yet, and this host cannot upload one (${first.reason}); nothing was changed`,
      { hint: 'rotate it from a host whose env file holds it, or add it here first' },
    );
  return { record: first.state, modRevision: '0', valueOperation: first.valueOperation };
}

export interface SharedRotated extends RotatedSecret {
  /** --partial-ok: hosts that have not applied it yet. */
  pendingOn?: string[];
}

/** `secrets rotate ID` for a shared secret (the caller holds this host's state lock). */
export async function rotateShared(
  item: SelectedSecret,
  input: SharedRotationOptions,
  deps: Deps,
): Promise<SharedRotated | undefined> {
  const { policy } = input;
  return withFleet(policy, deps, async (fleet) => {
    fleet.pins = undefined;
    const key = await memberHostKey(policy, fleet, deps);
    await assertFleetAuditIntact(fleet);
    const lock = await takeFleetLock(fleet, `secrets rotate ${item.id}`, deps);
    try {
      const stored0 = await readState(fleet, item.id);
      const first = stored0 ? undefined : await planFirstVersion(policy, fleet, item, key, deps);
      const found = stored0 ?? first!;
      // A first version planned here is not stored yet: nothing to check it against, nothing to pin.
      if (stored0) await checkVersions(fleet, item.id, stored0.record, deps);
      if (found.record.pending)
        throw new SecretsError(
          'fleet-pending',
          `${item.id}: version ${found.record.pending.version} (rotated by ${found.record.pending.by}) is still pending; nothing was changed`,
          { hint: 'secrets rotate --recover finishes or undoes it; a laggard host completes it with secrets sync' },
        );
      const prepared = await prepareRotation(item, input, deps);
      if (!prepared) return undefined;
      const members = await readMembers(fleet);
      const current = found.record.current;
      const version = Math.max(current.version, found.record.issued ?? 0) + 1;
      const now = deps.clock.now();
      const rotation = prepared.rotation;
      const sealed = await sealValues(item.id, version, prepared.pending.next, members, key, fleet.host, deps);
      const pendingState: SecretState = {
        issued: version,
        current,
        pending: {
          version,
          createdAt: now.toISOString(),
          rotation,
          by: fleet.host,
          startedAt: now.toISOString(),
          deadline: new Date(now.getTime() + fleet.applyTimeoutMs).toISOString(),
          partialOk: Boolean(input.partialOk),
          ...(input.revoking ? { revocation: true } : {}),
        },
      };
      prepared.out('  3/4 swap, on every host of the fleet');
      const signed = await signedState(fleet, item.id, pendingState, found.record, key, deps);
      const stored = await fleet.kv.txn(
        [{ key: fleet.keys.secret(item.id), modRevision: found.modRevision }, ...signed.guard],
        [...(first ? [first.valueOperation] : []), put(fleet.keys.value(item.id, version), sealed), signed.operation],
      );
      if (!stored) {
        const now2 = await readState(fleet, item.id).catch(() => undefined);
        throw new SecretsError(
          'fleet-busy',
          `${item.id} was changed by ${now2?.record.pending?.by ?? now2?.record.current.by ?? 'another host'} meanwhile; nothing was changed`,
        );
      }
      passStep('fleet-pending-written', deps);
      prepared.ctx.say(`version ${version} stored for ${members.length} member(s), encrypted to each`);
      let ended: Awaited<ReturnType<typeof conclude>>;
      try {
        const here = await syncHost(policy, fleet, deps, { only: [item.id], nested: true });
        for (const failure of here.failed)
          prepared.ctx.say(`this host could not apply it: ${failure.code}: ${failure.message}`);
        prepared.ctx.say(`waiting for ${members.length - 1} other host(s) (until ${pendingState.pending!.deadline})`);
        ended = await conclude(policy, fleet, item.id, key, lock, deps, 'completed by the rotator');
      } catch (error) {
        // The version is stored and hosts may hold it: "nothing changed" (exit 3) would be false.
        if (isSecretsError(error) && (error.exitCode === ExitCode.mustAct || error.code === 'fleet-rolled-back'))
          throw error;
        throw new SecretsError(
          'fleet-interrupted',
          `${item.id}: version ${version} is stored as pending and may be applied on some hosts, but the rotation could not go on (${isSecretsError(error) ? error.message : String(error)})`,
          {
            hint: 'when etcd answers again, secrets rotate --recover on any member finishes or undoes it',
            cause: error,
          },
        );
      }
      prepared.out('  4/4 record');
      if (ended.outcome === 'rolled-back') throw rolledBack(item.id, version, ended.reason ?? 'unknown');
      const localKey = await fingerprintKey(policy.stateDir, deps);
      const labels = Object.keys(prepared.pending.next);
      const whole =
        labels.length === 1 ? fingerprint(prepared.pending.next[labels[0]!]!, localKey) : `version ${version}`;
      if (ended.outcome === 'pending') {
        prepared.ctx.say(`pending on ${ended.tally?.missing.join(', ')}: their next secrets sync applies it`);
        return {
          id: item.id,
          kind: item.spec.kind,
          fingerprint: whole,
          warnings: [`version ${version} is pending on ${ended.tally?.missing.join(', ')}`],
          pendingOn: ended.tally?.missing ?? [],
        };
      }
      prepared.ctx.say(`every host applied version ${version}; recorded in the fleet audit trail`);
      const warnings: string[] = [];
      if (prepared.handler.deliver) {
        try {
          const delivered = await prepared.handler.deliver(prepared.spec, prepared.pending, prepared.ctx);
          if (delivered) prepared.ctx.say(delivered);
        } catch (error) {
          warnings.push(error instanceof Error ? error.message : String(error));
        }
      }
      return { id: item.id, kind: item.spec.kind, fingerprint: whole, warnings };
    } finally {
      await lock.release();
      await savePins(fleet, deps).catch(() => undefined);
    }
  });
}

export interface FleetRecovery {
  secret: string;
  version: number;
  outcome: 'current' | 'pending' | 'rolled-back' | 'busy';
  detail: string;
}

/**
 * `secrets rotate --recover` with a fleet: a pending version whose rotator is gone (its lease
 * expired, so the lock is free) is finished here: acknowledgements awaited until its deadline,
 * then current, or dropped (left pending under --partial-ok).
 */
export async function recoverFleet(policy: Policy, deps: Deps): Promise<FleetRecovery[]> {
  return withFleet(policy, deps, async (fleet) => {
    const states = await readStates(fleet);
    const pending = [...states].filter(([, { state }]) => state.pending);
    if (pending.length === 0) return [];
    const key = await memberHostKey(policy, fleet, deps);
    // A pending state older than one this host has seen (put back by an etcd writer) is not acted on.
    for (const [id, { state }] of pending) await checkVersions(fleet, id, state, deps);
    const report: FleetRecovery[] = [];
    let lock: KvLock;
    try {
      lock = await takeFleetLock(fleet, 'secrets rotate --recover', deps);
    } catch (error) {
      if (error instanceof SecretsError && error.code === 'fleet-busy')
        return pending.map(([id, { state }]) => ({
          secret: id,
          version: state.pending!.version,
          outcome: 'busy' as const,
          detail: error.message,
        }));
      throw error;
    }
    try {
      for (const [id, { state }] of pending) {
        const version = state.pending!.version;
        deps.output.out(
          `${id}: version ${version} by ${state.pending!.by} is pending; waiting for the hosts to apply it\n`,
        );
        // Past its deadline it is decided now: applying it here first would only run the hooks twice.
        const open = new Date(state.pending!.deadline) > deps.clock.now();
        if (open && policy.secrets.some((secret) => secret.id === id && secret.spec.shared))
          await syncHost(policy, fleet, deps, { only: [id], nested: true }).catch(() => undefined);
        const ended = await conclude(policy, fleet, id, key, lock, deps, `recovered by ${fleet.host}`);
        report.push({
          secret: id,
          version,
          outcome: ended.outcome,
          detail:
            ended.outcome === 'current'
              ? `version ${version} is current on every host`
              : ended.outcome === 'pending'
                ? `still pending on ${ended.tally?.missing.join(', ')} (--partial-ok)`
                : `rolled back: ${ended.reason}`,
        });
      }
    } finally {
      await lock.release();
      await savePins(fleet, deps).catch(() => undefined);
    }
    return report;
  });
}
