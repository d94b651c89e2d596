import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { parseDotenv } from '../../core/dotenv.js';
import { ExitCode, SecretsError, isSecretsError } from '../../core/errors.js';
import type { Policy } from '../../core/policy.js';
import type { SecretSpec } from '../../core/policy-schema.js';
import { timeoutMs, type SelectedSecret } from '../../core/rotation/plan.js';
import { fingerprint, type Secret } from '../../core/secret.js';
import { appendAudit, fingerprintKey, readAuditEntries } from '../state/audit-trail.js';
import type { Deps } from '../deps.js';
import { applyChanges, auditedSteps, type AuditedStep } from './apply-changes.js';
import type { BackupBeforeSwap } from './backup-before-swap.js';
import { envKeysOfSecret, managedEnvValues } from '../../kinds/index.js';
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
  /** --add: a policy env_key missing from the env file may be added (otherwise refused). */
  addKeys?: boolean;
  /** The replacement of a revoked value (secrets revoke): the kind also ends the sessions it opened. */
  revoking?: boolean;
  /** Added to the `rotated` audit entry's details (the approval that allowed it, the revocation it replaces). */
  auditDetails?: Record<string, unknown>;
}

/**
 * A policy env_key the env file lacks: appending it would report "rotated" while the app reads
 * another key, so it is refused before anything is asked or generated, unless --add says the
 * key is meant to be new.
 */
function refuseMissingKeys(id: string, spec: SecretSpec, policy: Policy, current: CurrentFiles): void {
  const keys = envKeysOfSecret(spec);
  const text = current.get(policy.envFile);
  if (keys.length === 0 || text === undefined) return;
  const present = new Set(parseDotenv(text, policy.envFile).entries.map((entry) => entry.key));
  const missing = keys.filter((key) => !present.has(key));
  if (missing.length === 0) return;
  throw new SecretsError(
    'env-key-missing',
    `${id}: ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not in ${basename(policy.envFile)}; nothing was changed`,
    {
      where: policy.envFile,
      hint: `fix env_key in the policy if the app reads another key, or pass --add to add ${missing.length === 1 ? 'it' : 'them'}`,
    },
  );
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

/** A secret past steps 1 and 2: its pending value made and proven, nothing written yet. */
export interface PreparedRotation {
  item: SelectedSecret;
  spec: SecretSpec;
  handler: ReturnType<typeof handlerFor>;
  rotation: string;
  outline: ReturnType<ReturnType<typeof handlerFor>['outline']>;
  ctx: RotationContext;
  pending: PendingRotation;
  attempt: AuditedStep;
  out(text: string): void;
}

/**
 * Steps 1 and 2 of one secret: create and test. Returns undefined when the operator skipped it.
 * `rotation` joins the secret to a run's shared transaction (see rotateTogether).
 */
export async function prepareRotation(
  item: SelectedSecret,
  input: RotateSecretOptions,
  deps: Deps,
  rotation: string = randomUUID(),
): Promise<PreparedRotation | undefined> {
  const { policy } = input;
  const spec: SecretSpec = item.spec;
  const handler = handlerFor(spec);
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
  const attempt = auditedSteps((step, outcome, message) =>
    auditStep(policy, item.id, rotation, step, outcome, message, deps),
  );

  // 1 create
  out('  1/4 create');
  const before = await readFiles(outline.files, deps);
  if (!input.addKeys) refuseMissingKeys(item.id, spec, policy, before);
  const pending: PendingRotation | undefined = await attempt(
    'create',
    () => handler.create(spec, ctx, before),
    (value) => (value ? 'pending value ready' : 'skipped by the operator'),
  );
  if (!pending) return undefined;
  passStep('created', deps);

  // 2 test
  out('  2/4 test');
  try {
    const proven = await attempt(
      'test',
      () => handler.test(spec, pending, ctx),
      (value) => value,
    );
    ctx.say(proven);
  } catch (error) {
    if (handler.abandon) await handler.abandon(spec, pending, ctx).catch(() => undefined);
    throw error;
  }
  passStep('tested', deps);
  return { item, spec, handler, rotation, outline, ctx, pending, attempt, out };
}

/** Step 4 of one secret: the audit entry, then the kind's hand-over. */
async function finishRotation(
  prepared: PreparedRotation,
  files: string[],
  options: { clearJournalAfter: boolean; auditDetails?: Record<string, unknown> },
  deps: Deps,
): Promise<RotatedSecret> {
  const { item, spec, handler, pending, ctx, rotation, out } = prepared;
  const { policy } = ctx;
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
      details: { rotation, kind: spec.kind, files, fingerprints, ...options.auditDetails },
    },
    deps,
  );
  passStep('recorded', deps);
  if (options.clearJournalAfter) await clearJournal(policy.stateDir, deps);
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

/** One secret through the four steps. Returns undefined when the operator skipped it. */
export async function rotateSecret(
  item: SelectedSecret,
  input: RotateSecretOptions,
  deps: Deps,
): Promise<RotatedSecret | undefined> {
  const prepared = await prepareRotation(item, input, deps);
  if (!prepared) return undefined;
  const { spec, handler, pending, ctx, outline, attempt, rotation, out } = prepared;
  const { policy } = input;

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
  return finishRotation(
    prepared,
    changes.map((change) => change.path),
    { clearJournalAfter: journalOpen, ...(input.auditDetails ? { auditDetails: input.auditDetails } : {}) },
    deps,
  );
}

/**
 * Several secrets that share after_change hooks (two random keys the same app restart reads), as
 * one transaction: each is created and tested on its own, then every file is swapped under one
 * journal, each distinct hook runs once after all the swaps, every probe runs, and only then is
 * each recorded. A failed hook or probe rolls all of them back (the journal reruns the hooks).
 * Returns the rotated secrets, and those refused before the swap (which changed nothing).
 */
export async function rotateTogether(
  items: SelectedSecret[],
  input: RotateSecretOptions,
  deps: Deps,
): Promise<{ rotated: RotatedSecret[]; skipped: string[]; refused: Array<{ id: string; error: unknown }> }> {
  const { policy } = input;
  const rotation = randomUUID();
  const prepared: PreparedRotation[] = [];
  const skipped: string[] = [];
  const refused: Array<{ id: string; error: unknown }> = [];
  for (const item of items) {
    try {
      const ready = await prepareRotation(item, input, deps, rotation);
      if (ready) prepared.push(ready);
      else skipped.push(item.id);
    } catch (error) {
      if (!isSecretsError(error) || error.exitCode === ExitCode.mustAct) throw error;
      refused.push({ id: item.id, error });
      if (items.length > 1) deps.output.err(`secrets: ${item.id} not rotated: ${error.toLine()}\n`);
    }
  }
  if (prepared.length === 0) return { rotated: [], skipped, refused };

  const ids = prepared.map((entry) => entry.item.id);
  const say = (line: string) => deps.output.out(`      ${line}\n`);
  deps.output.out(`${ids.join(', ')}: 3/4 swap, together (they share after_change hooks)\n`);
  const hooks = [...new Set(prepared.flatMap((entry) => entry.spec.after_change))];
  const hookTimeout = prepared
    .map((entry) => entry.spec.hook_timeout)
    .reduce((longest, next) => (timeoutMs(next) > timeoutMs(longest) ? next : longest));
  // Every member's audit trail gets each shared step.
  const auditAll = async (step: string, result: 'ok' | 'failed', message: string) => {
    for (const id of ids) await auditStep(policy, id, rotation, step, result, message, deps);
  };
  const attempt = auditedSteps(auditAll);

  const paths = [...new Set(prepared.flatMap((entry) => entry.outline.files))];
  const filesOf = new Map<string, string[]>();
  let changes: FileChange[] = [];
  try {
    const current = await readFiles(paths, deps);
    // Each secret's edit applies to the text the previous one produced: two keys of one .env compose.
    const working = new Map(current);
    const modes = new Map<string, number | undefined>();
    for (const entry of prepared) {
      const planned = entry.handler.planChanges(entry.spec, entry.pending, working, entry.ctx);
      filesOf.set(
        entry.item.id,
        planned.map((change) => change.path),
      );
      for (const change of planned) {
        // Kinds edit text; a byte change (binary-safe writes exist for restore) is read as UTF-8 here.
        working.set(
          change.path,
          typeof change.content === 'string' ? change.content : Buffer.from(change.content).toString('utf8'),
        );
        if (change.mode !== undefined) modes.set(change.path, change.mode);
      }
    }
    changes = paths
      .filter((path) => working.get(path) !== undefined && working.get(path) !== current.get(path))
      .map((path) => ({
        path,
        content: working.get(path)!,
        ...(modes.get(path) !== undefined ? { mode: modes.get(path)! } : {}),
      }));
    if (changes.length > 0) {
      await applyChanges(
        {
          policy,
          id: ids.join(', '),
          spec: prepared[0]!.spec,
          hooks,
          hookTimeout,
          rotation,
          changes,
          targets: prepared.flatMap((entry) => entry.outline.targets),
          backupReason: `before rotating ${ids.join(', ')}`,
          ...(input.backup ? { backup: input.backup } : {}),
          managedValues: async () => [
            ...prepared.flatMap((entry) => secretValues(entry.pending)),
            ...managedEnvValues(policy, await readFiles([policy.envFile], deps)),
          ],
          verify: async () => {
            const proofs: string[] = [];
            for (const entry of prepared) {
              if (!entry.handler.verify) continue;
              const proof = await entry.handler.verify(entry.spec, entry.pending, entry.ctx);
              if (proof) proofs.push(proof);
            }
            return proofs.length > 0 ? proofs.join('; ') : undefined;
          },
          attempt,
          auditStep: auditAll,
          say,
        },
        deps,
      );
    } else say('the files already hold the new values');
  } catch (error) {
    for (const entry of prepared)
      if (entry.handler.abandon)
        await entry.handler.abandon(entry.spec, entry.pending, entry.ctx).catch(() => undefined);
    throw error;
  }

  const rotated: RotatedSecret[] = [];
  for (const [index, entry] of prepared.entries()) {
    entry.out(`${entry.item.id}`);
    rotated.push(
      await finishRotation(
        entry,
        (filesOf.get(entry.item.id) ?? []).filter((path) => changes.some((change) => change.path === path)),
        // The journal stays until the last one is recorded: recovery keeps the new state from the first.
        {
          clearJournalAfter: changes.length > 0 && index === prepared.length - 1,
          ...(input.auditDetails ? { auditDetails: input.auditDetails } : {}),
        },
        deps,
      ),
    );
  }
  return { rotated, skipped, refused };
}
