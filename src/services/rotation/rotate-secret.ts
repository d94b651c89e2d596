import { randomUUID } from 'node:crypto';
import { isSecretsError } from '../../core/errors.js';
import type { Policy } from '../../core/policy.js';
import type { SecretSpec } from '../../core/policy-schema.js';
import type { SelectedSecret } from '../../core/rotation/plan.js';
import { fingerprint, type Secret } from '../../core/secret.js';
import { appendAudit, fingerprintKey, readAuditEntries } from '../state/audit-trail.js';
import type { Deps } from '../deps.js';
import { applyChanges } from './apply-changes.js';
import type { BackupBeforeSwap } from './backup-before-swap.js';
import { managedEnvValues } from '../../kinds/index.js';
import { handlerFor } from '../../kinds/rotations.js';
import { clearJournal } from '../state/journal-store.js';
import type { CurrentFiles, FileChange, PendingRotation, RotationContext } from '../../kinds/kind.js';
import { passStep } from './transaction.js';

/** What one secret's rotation needs from the run: --yes, and the backup function. */
export interface RotateSecretOptions {
  policy: Policy;
  yes?: boolean;
  /** --password-stdin / --password-prompt: the operator supplies the new password (htpasswd). */
  passwordFrom?: 'prompt' | 'stdin';
  backup?: BackupBeforeSwap;
  /** The replacement of a revoked value (secrets revoke): the kind also ends the sessions it opened. */
  revoking?: boolean;
  /** Added to the `rotated` audit entry's details (the approval that allowed it, the revocation it replaces). */
  auditDetails?: Record<string, unknown>;
}

export interface RotatedSecret {
  id: string;
  kind: string;
  fingerprint: string;
  previous?: string;
  warnings: string[];
}

/** The new and replaced values, so the hook environment can be scrubbed of them under any name. */
function secretValues(pending: PendingRotation): string[] {
  return [...Object.values(pending.next), ...Object.values(pending.previous)].flatMap((value) =>
    value ? [value.reveal()] : [],
  );
}

export async function readFiles(paths: string[], deps: Deps): Promise<CurrentFiles> {
  const current = new Map<string, string | undefined>();
  for (const path of paths) current.set(path, await deps.files.readTextIfExists(path));
  return current;
}

/** Keyed fingerprints of each labelled value, and one for the whole set (the audit's `fingerprint`). */
export function fingerprintsOf(
  values: Record<string, Secret | undefined>,
  key: Uint8Array,
): { each: Record<string, string>; whole: string | undefined } {
  const labels = Object.keys(values).sort();
  const each: Record<string, string> = {};
  for (const label of labels) {
    const value = values[label];
    if (value) each[label] = fingerprint(value, key);
  }
  if (labels.length === 0 || labels.some((label) => !values[label])) return { each, whole: undefined };
  const whole =
    labels.length === 1
      ? each[labels[0]!]!
      : fingerprint(labels.map((label) => `${label}=${values[label]!.reveal()}`).join('\n'), key);
  return { each, whole };
}

async function auditStep(
  policy: Policy,
  id: string,
  rotation: string,
  step: string,
  result: 'ok' | 'failed' | 'skipped',
  message: string,
  deps: Deps,
): Promise<void> {
  await appendAudit(
    policy.stateDir,
    { action: 'rotate-step', secret: id, details: { rotation, step, outcome: result, message } },
    deps,
  );
}

/** One secret through the four steps. Returns undefined when the operator skipped it. */
export async function rotateSecret(
  item: SelectedSecret,
  input: RotateSecretOptions,
  deps: Deps,
): Promise<RotatedSecret | undefined> {
  const { policy } = input;
  const spec: SecretSpec = item.spec;
  const handler = handlerFor(spec);
  const rotation = randomUUID();
  const outline = handler.outline(spec, policy);
  const out = (text: string) => deps.output.out(`${text}\n`);
  const ctx: RotationContext = {
    policy,
    id: item.id,
    deps,
    audit: {
      fingerprintKey: () => fingerprintKey(policy.stateDir, deps),
      entries: async () => (await readAuditEntries(policy.stateDir, deps)).entries,
    },
    assumeYes: Boolean(input.yes),
    ...(input.passwordFrom ? { passwordFrom: input.passwordFrom } : {}),
    ...(input.revoking ? { revoking: true } : {}),
    say: (line) => out(`      ${line}`),
  };
  out(`${item.id} (${spec.kind}, ${item.reason})`);

  // Every step's outcome goes to the audit trail; a refusal before the swap changes nothing.
  const attempt = async <T>(step: string, action: () => Promise<T>, describe: (value: T) => string): Promise<T> => {
    try {
      const value = await action();
      await auditStep(policy, item.id, rotation, step, 'ok', describe(value), deps);
      return value;
    } catch (error) {
      const message = isSecretsError(error) ? error.message : error instanceof Error ? error.message : String(error);
      await auditStep(policy, item.id, rotation, step, 'failed', message, deps).catch(() => undefined);
      throw error;
    }
  };

  // 1 create
  out('  1/4 create');
  const before = await readFiles(outline.files, deps);
  const pending: PendingRotation | undefined = await attempt(
    'create',
    () => handler.create(spec, ctx, before),
    (value) => (value ? 'pending value ready' : 'skipped by the operator'),
  );
  if (!pending) return undefined;
  passStep('created', deps);

  // 2 test
  out('  2/4 test');
  const proven = await attempt(
    'test',
    () => handler.test(spec, pending, ctx),
    (value) => value,
  );
  ctx.say(proven);
  passStep('tested', deps);

  // 3 swap
  out('  3/4 swap');
  let changes: FileChange[] = [];
  let journalOpen = false;
  try {
    const current = await readFiles(outline.files, deps);
    const planned = await attempt(
      'plan',
      async () => handler.planChanges(spec, pending, current, ctx),
      (list) => `${list.length} file(s) to write`,
    );
    changes = planned.filter((change) => current.get(change.path) !== change.content);
    if (changes.length > 0) {
      await applyChanges(
        {
          policy,
          id: item.id,
          spec,
          rotation,
          changes,
          targets: outline.targets,
          backupReason: `before rotating ${item.id}`,
          ...(input.backup ? { backup: input.backup } : {}),
          managedValues: async () => [
            ...secretValues(pending),
            ...managedEnvValues(policy, await readFiles([policy.envFile], deps)),
          ],
          ...(handler.verify ? { verify: () => handler.verify!(spec, pending, ctx) } : {}),
          attempt,
          auditStep: (step, result, message) => auditStep(policy, item.id, rotation, step, result, message, deps),
          say: ctx.say,
        },
        deps,
      );
      journalOpen = true;
    } else {
      ctx.say(outline.files.length > 0 ? 'the files already hold the new values' : 'no file to change');
    }
  } catch (error) {
    // The pending value will never be live: let the kind remove what test() prepared for it.
    if (handler.abandon) await handler.abandon(spec, pending, ctx).catch(() => undefined);
    throw error;
  }

  // 4 record
  out('  4/4 record');
  const key = await fingerprintKey(policy.stateDir, deps);
  const next = fingerprintsOf(pending.next, key);
  const previous = fingerprintsOf(pending.previous, key);
  const fingerprints: Record<string, { new: string; old?: string }> = {};
  for (const [label, value] of Object.entries(next.each))
    fingerprints[label] = { new: value, ...(previous.each[label] ? { old: previous.each[label] } : {}) };
  const entry = await appendAudit(
    policy.stateDir,
    {
      action: 'rotated',
      secret: item.id,
      ...(next.whole ? { fingerprint: next.whole } : {}),
      ...(previous.whole ? { previous: previous.whole } : {}),
      details: {
        rotation,
        kind: spec.kind,
        files: changes.map((change) => change.path),
        fingerprints,
        ...input.auditDetails,
      },
    },
    deps,
  );
  passStep('recorded', deps);
  if (journalOpen) await clearJournal(policy.stateDir, deps);
  ctx.say(`audit #${entry.seq}${next.whole ? `, fingerprint ${next.whole}` : ''}`);

  const warnings: string[] = [];
  if (handler.deliver) {
    try {
      const delivered = await handler.deliver(spec, pending, ctx);
      if (delivered) ctx.say(delivered);
    } catch (error) {
      const message = isSecretsError(error) ? error.message : String(error);
      warnings.push(message);
      deps.output.err(`secrets: warning: ${item.id} was rotated, but ${message}\n`);
    }
  }
  return {
    id: item.id,
    kind: spec.kind,
    fingerprint: next.whole ?? '',
    ...(previous.whole ? { previous: previous.whole } : {}),
    warnings,
  };
}
