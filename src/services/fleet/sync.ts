/**
 * `secrets sync`: brings this host to the fleet's version of every shared secret. Each version
 * is opened with this host's key and written through the one write path (encrypted backup,
 * journal, atomic format-preserving write, this host's after_change hooks and probe, roll-back
 * on failure), then acknowledged in etcd. A file that already holds the value is not rewritten
 * and no hook runs. Idempotent: run it from cron, a timer, or as a service with --watch.
 */
import { randomUUID } from 'node:crypto';
import { ExitCode, SecretsError, isSecretsError } from '../../core/errors.js';
import type { Policy } from '../../core/policy.js';
import type { SecretSpec } from '../../core/policy-schema.js';
import type { Secret } from '../../core/secret.js';
import { currentEnvValues } from '../../kinds/env-values.js';
import { envKeysOfSecret, managedEnvValues } from '../../kinds/index.js';
import type { FileChange, RotationContext } from '../../kinds/kind.js';
import { handlerFor } from '../../kinds/rotations.js';
import type { Deps } from '../deps.js';
import { applyChanges, auditedSteps } from '../rotation/apply-changes.js';
import { fingerprintsOf, readFiles } from '../rotation/rotate-secret.js';
import { appendAudit, fingerprintKey, readAuditEntries } from '../state/audit-trail.js';
import { clearJournal } from '../state/journal-store.js';
import { withStateLock } from '../state/state-lock.js';
import { ackIsGenuine, ackStatement, currentTally, makeCurrent } from './protocol.js';
import {
  readMembers,
  readRecord,
  sharedSecrets,
  hostStatusSchema,
  ackSchema,
  parseRecord,
  put,
  targetVersion,
  valueSchema,
  type Fleet,
  type MemberRecord,
  type SecretState,
} from './store.js';
import { memberHostKey, openValues, type HostKey } from './values.js';
import { checkVersions, invalid, loadPins, readStatesEach, savePins } from './trust.js';

export interface SyncOutcome {
  host: string;
  applied: Array<{ secret: string; version: number }>;
  /** Shared secrets whose files already held the fleet's value (nothing written, no hook). */
  unchanged: string[];
  failed: Array<{ secret: string; version: number; code: string; message: string }>;
  /** Shared in the policy, but the fleet has no version of it yet (its first rotation uploads one). */
  notInFleet: string[];
  /** Rotations this host completed as the last to acknowledge (--partial-ok). */
  completed: string[];
}

/**
 * Puts one version's values into this host's files (the caller holds the state lock). Returns
 * whether a file changed. Throws the write path's error (rolled back: exit 3; exit 4: a human).
 */
export async function applyVersion(
  policy: Policy,
  fleet: Fleet,
  id: string,
  spec: SecretSpec,
  version: { version: number; rotation: string; createdAt: string | null },
  values: Record<string, Secret>,
  deps: Deps,
): Promise<boolean> {
  const handler = handlerFor(spec);
  const outline = handler.outline(spec, policy);
  const current = await readFiles(outline.files, deps);
  const labels = envKeysOfSecret(spec);
  const previous = currentEnvValues(policy, current, labels);
  if (labels.every((label) => values[label] && previous[label]?.equals(values[label]!))) return false;
  const rotation = randomUUID();
  const say = (line: string) => deps.output.out(`      ${line}\n`);
  const ctx: RotationContext = {
    policy,
    id,
    deps,
    audit: {
      fingerprintKey: () => fingerprintKey(policy.stateDir, deps),
      entries: async () => (await readAuditEntries(policy.stateDir, deps)).entries,
    },
    assumeYes: true,
    say,
  };
  const auditStep = (step: string, outcome: 'ok' | 'failed', message: string) =>
    appendAudit(
      policy.stateDir,
      {
        action: 'rotate-step',
        secret: id,
        details: { rotation, step, outcome, message, fleetVersion: version.version },
      },
      deps,
    );
  const attempt = auditedSteps(auditStep);
  const pending = { next: values, previous };
  const planned: FileChange[] = handler.planChanges(spec, pending, current, ctx);
  const changes = planned.filter((change) => current.get(change.path) !== change.content);
  if (changes.length === 0) return false;
  deps.output.out(`${id}: applying fleet version ${version.version}\n`);
  await applyChanges(
    {
      policy,
      id,
      spec,
      rotation,
      changes,
      targets: outline.targets,
      backupReason: `before applying version ${version.version} of ${id} from the fleet`,
      managedValues: async () => [
        ...Object.values(values).map((value) => value.reveal()),
        ...Object.values(previous).flatMap((value) => (value ? [value.reveal()] : [])),
        ...managedEnvValues(policy, await readFiles([policy.envFile], deps)),
      ],
      ...(handler.verify ? { verify: () => handler.verify!(spec, pending, ctx) } : {}),
      attempt,
      auditStep: async (step, outcome, message) => void (await auditStep(step, outcome, message)),
      say,
    },
    deps,
  );
  const key = await fingerprintKey(policy.stateDir, deps);
  const next = fingerprintsOf(values, key);
  const old = fingerprintsOf(previous, key);
  const fingerprints: Record<string, { new: string; old?: string }> = {};
  for (const [label, print] of Object.entries(next.each))
    fingerprints[label] = { new: print, ...(old.each[label] ? { old: old.each[label] } : {}) };
  await appendAudit(
    policy.stateDir,
    {
      action: 'fleet-applied',
      secret: id,
      ...(next.whole ? { fingerprint: next.whole } : {}),
      ...(old.whole ? { previous: old.whole } : {}),
      details: {
        rotation,
        fleetRotation: version.rotation,
        version: version.version,
        versionCreated: version.createdAt,
        kind: spec.kind,
        files: changes.map((change) => change.path),
        fingerprints,
      },
    },
    deps,
  );
  await clearJournal(policy.stateDir, deps);
  return true;
}

/** Keyed fingerprint (this host's key) of one version's values, for the pins' `held`. */
async function heldFingerprint(
  policy: Policy,
  values: Record<string, Secret | undefined>,
  deps: Deps,
): Promise<string | undefined> {
  const labels = Object.keys(values);
  if (labels.length === 0 || labels.some((label) => !values[label])) return undefined;
  return fingerprintsOf(values, await fingerprintKey(policy.stateDir, deps)).whole;
}

/** This host holds `target` (same version, same rotation) and its files still hold what it wrote. */
async function stillHeld(
  policy: Policy,
  fleet: Fleet,
  id: string,
  spec: SecretSpec,
  target: { version: number; rotation: string },
  deps: Deps,
): Promise<boolean> {
  const held = (await loadPins(fleet, deps)).held?.[id];
  if (!held || held.version !== target.version || held.rotation !== target.rotation) return false;
  const labels = envKeysOfSecret(spec);
  if (labels.length === 0) return false;
  const current = currentEnvValues(policy, await readFiles([policy.envFile], deps), labels);
  return (await heldFingerprint(policy, current, deps)) === held.fingerprint;
}

async function rememberHeld(
  policy: Policy,
  fleet: Fleet,
  id: string,
  target: { version: number; rotation: string },
  values: Record<string, Secret>,
  deps: Deps,
): Promise<void> {
  const pins = await loadPins(fleet, deps);
  const print = await heldFingerprint(policy, values, deps);
  pins.held ??= {};
  if (print) pins.held[id] = { version: target.version, rotation: target.rotation, fingerprint: print };
  else delete pins.held[id];
}

/** The version record the state names as this host's target. */
function targetOf(state: SecretState) {
  return state.pending ?? state.current;
}

async function openTarget(
  fleet: Fleet,
  id: string,
  state: SecretState,
  members: MemberRecord[],
  key: HostKey,
  deps: Deps,
): Promise<Record<string, Secret>> {
  const version = targetVersion(state);
  const found = await readRecord(fleet, valueSchema, fleet.keys.value(id, version));
  if (!found)
    throw new SecretsError(
      'fleet-store-invalid',
      `version ${version} of ${id} is missing from the fleet (${fleet.keys.value(id, version)})`,
    );
  return openValues(found.record, { secret: id, version }, members, key, deps);
}

/**
 * One sync of this host, under its state lock: every shared secret brought to its target version,
 * pending versions acknowledged, and this host's status written. `only` limits it to some secrets
 * (the rotator applying its own new version).
 */
export async function syncHost(
  policy: Policy,
  fleet: Fleet,
  deps: Deps,
  options: { only?: string[]; waitMs?: number; nested?: boolean } = {},
): Promise<SyncOutcome> {
  const outcome: SyncOutcome = {
    host: fleet.host,
    applied: [],
    unchanged: [],
    failed: [],
    notInFleet: [],
    completed: [],
  };
  // What the fleet says is read before this host's lock is taken: with etcd down, a sync waits out
  // its requests' deadlines, and must not hold the lock meanwhile (a rotation here would find it taken).
  if (!options.nested) fleet.pins = undefined;
  const key = await memberHostKey(policy, fleet, deps);
  // memberHostKey has just read and verified the membership.
  const members = fleet.membership?.members ?? (await readMembers(fleet));
  const verified = fleet.membership;
  let states = await readStatesEach(fleet, members);
  const statusEntry = await readRecord(fleet, hostStatusSchema, fleet.keys.host(fleet.host)).catch(() => undefined);
  return withStateLock(
    policy.stateDir,
    { command: 'secrets sync', waitMs: options.waitMs ?? 60_000 },
    deps,
    async () => {
      // Pins are read again under the lock: another command on this host may have moved them (a
      // long sync --watch must never write back older pins over newer ones); the membership just
      // verified moves them on.
      if (!options.nested) {
        fleet.pins = undefined;
        const pins = await loadPins(fleet, deps);
        if (verified && verified.version > 0 && (pins.membership?.version ?? 0) <= verified.version)
          pins.membership = { version: verified.version, hash: verified.hash };
      }
      // Another command on this host (a rotation, the other of cron's sync and sync --watch) may have
      // seen newer states while this one waited for the lock: read them again rather than take the
      // older ones for a replay.
      const pinned = (await loadPins(fleet, deps)).states ?? {};
      if ([...states].some(([id, entry]) => 'state' in entry && entry.state.seq < (pinned[id]?.seq ?? 0)))
        states = await readStatesEach(fleet, members);
      // A state refused (forged, replayed, gone) stops its own secret only; the sync ends with it.
      const refused: Array<{ id: string; error: SecretsError }> = [];
      const applied: Record<string, number> = { ...(statusEntry?.record.applied ?? {}) };
      for (const { id, spec } of sharedSecrets(policy)) {
        if (options.only && !options.only.includes(id)) continue;
        const found = states.get(id);
        if (!found) {
          const seen = pinned[id];
          if (seen)
            refused.push({
              id,
              error: invalid(
                `the state of ${id} is gone from the fleet, though this host has seen its number ${seen.seq}`,
              ),
            });
          else outcome.notInFleet.push(id);
          continue;
        }
        if ('error' in found) {
          refused.push({ id, error: found.error });
          continue;
        }
        const { state } = found;
        const target = targetOf(state);
        try {
          await checkVersions(fleet, id, state, deps);
        } catch (error) {
          // Not this host's failure to apply: nothing is acknowledged for a state it does not trust.
          if (!isSecretsError(error)) throw error;
          refused.push({ id, error });
          continue;
        }
        try {
          // A host that already holds this very version, its files unchanged since, has nothing to open:
          // most syncs (the one after a version becomes current, every cron run) end here, without
          // decrypting anything.
          const held = await stillHeld(policy, fleet, id, spec, target, deps);
          const values = held ? undefined : await openTarget(fleet, id, state, members, key, deps);
          const changed = values ? await applyVersion(policy, fleet, id, spec, target, values, deps) : false;
          if (values) await rememberHeld(policy, fleet, id, target, values, deps);
          if (changed) outcome.applied.push({ secret: id, version: target.version });
          else outcome.unchanged.push(id);
          applied[id] = target.version;
          if (state.pending)
            await acknowledge(
              fleet,
              id,
              state.pending.version,
              'applied',
              changed ? 'applied' : 'already held',
              key,
              deps,
            );
        } catch (error) {
          if (!isSecretsError(error)) throw error;
          outcome.failed.push({ secret: id, version: target.version, code: error.code, message: error.message });
          if (state.pending)
            await acknowledge(
              fleet,
              id,
              state.pending.version,
              'failed',
              `${error.code}: ${error.message}`.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 1000),
              key,
              deps,
            ).catch(() => undefined);
          if (error.exitCode === ExitCode.mustAct) throw error;
          continue;
        }
        // --partial-ok: the last member to acknowledge makes the version current.
        if (state.pending?.partialOk) {
          const tally = await currentTally(fleet, id, state.pending.version);
          if (tally.missing.length === 0 && tally.failed.length === 0) {
            // Compared with the state this sync read and acted on: if anyone moved it since, this
            // transaction fails and the next sync sees what they did (never a stale state written over it).
            if (
              await makeCurrent(
                fleet,
                id,
                state,
                found.modRevision,
                key,
                deps,
                'completed by the last host to apply it',
              )
            )
              outcome.completed.push(id);
          }
        }
      }
      await savePins(fleet, deps);
      if (!options.only)
        await fleet.kv.txn(
          [],
          [put(fleet.keys.host(fleet.host), { lastSync: deps.clock.now().toISOString(), applied })],
        );
      else if (outcome.applied.length + outcome.unchanged.length > 0)
        await fleet.kv.txn(
          [],
          [
            put(fleet.keys.host(fleet.host), {
              lastSync: statusEntry?.record.lastSync ?? deps.clock.now().toISOString(),
              applied,
            }),
          ],
        );
      if (refused.length > 0) {
        // The rotator's own apply reports it among its failures; a sync ends with the first refusal
        // (exit 3, fleet-store-invalid), the secrets it trusts already brought in step.
        if (!options.nested) throw refused[0]!.error;
        for (const { id, error } of refused)
          outcome.failed.push({ secret: id, version: 0, code: error.code, message: error.message });
      }
      return outcome;
    },
  );
}

/** A host's acknowledgement, signed with its key: a forged one neither completes nor rolls back a rotation. */
async function acknowledge(
  fleet: Fleet,
  id: string,
  version: number,
  outcome: 'applied' | 'failed',
  message: string,
  key: HostKey,
  deps: Deps,
): Promise<void> {
  const ackKey = fleet.keys.ack(id, version, fleet.host);
  const existing = await fleet.kv.get(ackKey);
  if (existing && outcome === 'applied') {
    // Already said (a sync that runs again): only our own signed "applied" counts as said.
    const said = (() => {
      try {
        return parseRecord(ackSchema, existing);
      } catch {
        return undefined;
      }
    })();
    if (
      said?.outcome === 'applied' &&
      (await ackIsGenuine(fleet, id, version, { host: fleet.host, publicKey: key.publicKey }, said))
    )
      return;
  }
  const pgp = await deps.loadPgp();
  const at = deps.clock.now().toISOString();
  const { signature } = await pgp.signDetached(ackStatement(fleet, id, version, fleet.host, outcome, at), {
    armored: key.privateKey,
  });
  await fleet.kv.txn([], [put(ackKey, { outcome, message, at, signature })]);
}
