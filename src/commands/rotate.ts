import { randomUUID } from 'node:crypto';
import { isAbsolute, relative } from 'node:path';
import { ExitCode, SecretsError, isSecretsError } from '../core/errors.js';
import type { Policy } from '../core/policy.js';
import type { SecretSpec } from '../core/policy-schema.js';
import type { Journal } from '../core/rotation/journal.js';
import { selectSecrets, type SelectedSecret } from '../core/rotation/plan.js';
import { fingerprint, type Secret } from '../core/secret.js';
import { appendAudit, ensureStateDir, fingerprintKey, readAuditEntries } from './audit-trail.js';
import { createBackup } from './backup.js';
import type { Deps } from './deps.js';
import { describeBackup, type BackupBeforeSwap } from './rotation/backup-before-swap.js';
import { hookFailure, runHooks } from './rotation/hooks.js';
import { clearJournal, readIfExists, readJournal } from './rotation/journal-store.js';
import type { CurrentFiles, PendingRotation, RotationContext, RotationOutline } from './rotation/kind-handler.js';
import { handlerFor } from './rotation/kinds/index.js';
import { managedEnvValues } from './rotation/env-values.js';
import { markRecording, passStep, recoverInterrupted, rollBack, swapFiles, type RecoveryReport } from './rotation/transaction.js';

export interface RotateInput {
  policy: Policy;
  /** Secret ids; empty: every secret that is due, overdue, never rotated or within warn_before. */
  ids: string[];
  dryRun?: boolean;
  /** --yes: no confirmation prompt. */
  yes?: boolean;
  /** --wait: wait this long for another rotation's lock instead of failing at once. */
  waitMs?: number;
  /** --recover: only finish or roll back an interrupted rotation. */
  recoverOnly?: boolean;
  /** The encrypted backup before the swap; default createBackup (commands/backup.ts). Tests hand in their own. */
  backup?: BackupBeforeSwap;
  now: Date;
}

export interface PlannedSecret {
  id: string;
  kind: string;
  reason: SelectedSecret['reason'];
  outline: RotationOutline;
  hooks: string[];
}

export interface RotatedSecret {
  id: string;
  kind: string;
  fingerprint: string;
  previous?: string;
  warnings: string[];
}

export interface RotateOutcome {
  deployment: string;
  dryRun: boolean;
  plan: PlannedSecret[];
  recovered?: RecoveryReport;
  rotated: RotatedSecret[];
  skipped: string[];
  /** Secrets refused or rolled back (exit 3 each; nothing of theirs changed). */
  failed: Array<{ id: string; code: string; message: string }>;
}

/** The wait for --wait without a number: long enough for an operator to answer prompts. */
export const DEFAULT_LOCK_WAIT_MS = 10 * 60_000;

export function planOf(selected: SelectedSecret[], policy: Policy): PlannedSecret[] {
  return selected.map(({ id, spec, reason }) => ({ id, kind: spec.kind, reason, outline: handlerFor(spec).outline(spec, policy), hooks: spec.after_change }));
}

/** The plan as text (dry run and confirmation): files, keys, how the value is made and tested, hooks. */
export function describePlan(plan: PlannedSecret[], policy: Policy): string {
  const lines: string[] = [];
  const shown = (path: string) => relative(policy.root, path) || path;
  for (const item of plan) {
    lines.push(`${item.id} (${item.kind}, ${item.reason})`);
    lines.push(`  create: ${item.outline.source}`);
    lines.push(`  test:   ${item.outline.test}`);
    lines.push(item.outline.files.length > 0 ? `  swap:   ${item.outline.files.map(shown).join(', ')}: ${item.outline.targets.join(', ')} (encrypted backup first)` : '  swap:   no file changes');
    lines.push(`  hooks:  ${item.hooks.length > 0 && item.outline.files.length > 0 ? item.hooks.join(' → ') : 'none'}`);
    lines.push('  record: audit trail, fingerprints only');
  }
  return `${lines.join('\n')}\n`;
}

/** The new and replaced values, so the hook environment can be scrubbed of them under any name. */
function secretValues(pending: PendingRotation): string[] {
  return [...Object.values(pending.next), ...Object.values(pending.previous)].flatMap((value) => (value ? [value.reveal()] : []));
}

async function readFiles(paths: string[], deps: Deps): Promise<CurrentFiles> {
  const current = new Map<string, string | undefined>();
  for (const path of paths) current.set(path, await readIfExists(path, deps));
  return current;
}

/** Keyed fingerprints of each labelled value, and one for the whole set (the audit's `fingerprint`). */
function fingerprintsOf(values: Record<string, Secret | undefined>, key: Uint8Array): { each: Record<string, string>; whole: string | undefined } {
  const labels = Object.keys(values).sort();
  const each: Record<string, string> = {};
  for (const label of labels) {
    const value = values[label];
    if (value) each[label] = fingerprint(value, key);
  }
  if (labels.length === 0 || labels.some((label) => !values[label])) return { each, whole: undefined };
  const whole = labels.length === 1 ? each[labels[0]!]! : fingerprint(labels.map((label) => `${label}=${values[label]!.reveal()}`).join('\n'), key);
  return { each, whole };
}

/**
 * `secrets rotate`: for each selected secret, create → test → swap → record (DESIGN.md).
 * Everything before the swap changes nothing; the swap is journaled and rolled back on any
 * failure; one lock per state folder keeps two rotations from writing at once.
 */
export async function runRotate(input: RotateInput, deps: Deps): Promise<RotateOutcome> {
  const { policy } = input;
  const outcome: RotateOutcome = { deployment: policy.deployment, dryRun: Boolean(input.dryRun), plan: [], rotated: [], skipped: [], failed: [] };
  const { entries } = await readAuditEntries(policy.stateDir, deps);
  const chosen = input.recoverOnly ? [] : selectSecrets(policy, input.ids, entries, input.now);
  // A manual secret is done by a person: an unattended run (no terminal, no ids) never records one,
  // even with --yes, which there would only mean "no prompt" for the generated kinds.
  const byHand = input.ids.length === 0 && !deps.interactive ? chosen.filter((item) => item.spec.kind === 'manual') : [];
  const selected = chosen.filter((item) => !byHand.includes(item));
  if (byHand.length > 0) deps.output.err(`secrets: rotated by hand, so not in an unattended run: ${byHand.map((item) => item.id).join(', ')} (secrets rotate ID once the steps are done)\n`);
  outcome.plan = planOf(selected, policy);

  if (input.dryRun) {
    const journal = await readJournal(policy.stateDir, deps);
    if (journal) deps.output.err(`secrets: an interrupted rotation of ${journal.secret} (${journal.phase}) will be recovered first\n`);
    deps.output.out(outcome.plan.length > 0 ? `dry run: nothing will be changed\n${describePlan(outcome.plan, policy)}` : 'dry run: nothing is due\n');
    return outcome;
  }
  if (!input.recoverOnly && outcome.plan.length > 0 && deps.interactive && !input.yes) {
    deps.output.out(describePlan(outcome.plan, policy));
    if (!(await deps.prompts.confirm(`rotate ${outcome.plan.length} secret(s) now?`, false))) {
      throw new SecretsError('cancelled', 'not confirmed; nothing was changed');
    }
  }

  await ensureStateDir(policy.stateDir, deps);
  const lock = await deps.locker.acquire(policy.stateDir, { command: `secrets rotate${input.ids.length > 0 ? ` ${input.ids.join(' ')}` : ''}`, waitMs: input.waitMs ?? 0 });
  try {
    const recovered = await recoverInterrupted(policy, deps);
    if (recovered) {
      outcome.recovered = recovered;
      deps.output.out(`recovered: ${recovered.summary}; ${recovered.detail}\n`);
    }
    if (input.recoverOnly) {
      if (!recovered) deps.output.out('nothing to recover: no rotation was interrupted\n');
      return outcome;
    }
    if (selected.length === 0) {
      deps.output.out('nothing is due\n');
      return outcome;
    }
    // Standard input is read once and shared: one dotenv block may carry the values of several secrets.
    let stdin: Promise<string> | undefined;
    const runDeps: Deps = { ...deps, readStdin: () => (stdin ??= deps.readStdin()) };
    for (const item of selected) {
      try {
        const rotated = await rotateSecret(item, input, runDeps);
        if (rotated) outcome.rotated.push(rotated);
        else outcome.skipped.push(item.id);
      } catch (error) {
        // A refusal (exit 3) changed nothing: report it and go on with the others, so one robot
        // awaiting its new URL does not hold back every random key. Exit 4 stops everything.
        if (!isSecretsError(error) || error.exitCode === ExitCode.mustAct) throw error;
        outcome.failed.push({ id: item.id, code: error.code, message: error.toLine() });
        if (selected.length > 1) deps.output.err(`secrets: ${item.id} not rotated: ${error.toLine()}\n`);
      }
    }
    if (outcome.failed.length > 0) {
      const rotatedNote = outcome.rotated.length > 0 ? ` (rotated: ${outcome.rotated.map((item) => item.id).join(', ')})` : '';
      throw new SecretsError(
        outcome.failed.length === 1 && selected.length === 1 ? outcome.failed[0]!.code : 'rotate-failed',
        outcome.failed.length === 1 && selected.length === 1 ? outcome.failed[0]!.message : `${outcome.failed.length} of ${selected.length} secrets not rotated: ${outcome.failed.map((item) => item.id).join(', ')}${rotatedNote}`,
        { cause: outcome },
      );
    }
    return outcome;
  } finally {
    await lock.release();
  }
}

async function auditStep(policy: Policy, id: string, rotation: string, step: string, result: 'ok' | 'failed' | 'skipped', message: string, deps: Deps): Promise<void> {
  await appendAudit(policy.stateDir, { action: 'rotate-step', secret: id, details: { rotation, step, outcome: result, message } }, deps);
}

/** One secret through the four steps. Returns undefined when the operator skipped it. */
async function rotateSecret(item: SelectedSecret, input: RotateInput, deps: Deps): Promise<RotatedSecret | undefined> {
  const { policy } = input;
  const spec: SecretSpec = item.spec;
  const handler = handlerFor(spec);
  const rotation = randomUUID();
  const outline = handler.outline(spec, policy);
  const out = (text: string) => deps.output.out(`${text}\n`);
  const ctx: RotationContext = { policy, id: item.id, deps, assumeYes: Boolean(input.yes), say: (line) => out(`      ${line}`) };
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
  const pending: PendingRotation | undefined = await attempt('create', () => handler.create(spec, ctx, before), (value) => (value ? 'pending value ready' : 'skipped by the operator'));
  if (!pending) return undefined;
  passStep('created', deps);

  // 2 test
  out('  2/4 test');
  const proven = await attempt('test', () => handler.test(spec, pending, ctx), (value) => value);
  ctx.say(proven);
  passStep('tested', deps);

  // 3 swap
  out('  3/4 swap');
  const current = await readFiles(outline.files, deps);
  const planned = await attempt('plan', async () => handler.planChanges(spec, pending, current, ctx), (list) => `${list.length} file(s) to write`);
  const changes = planned.filter((change) => current.get(change.path) !== change.content);
  let journalOpen = false;
  if (changes.length > 0) {
    const files = changes.map((change) => change.path);
    const backup = await attempt('backup', () => (input.backup ?? createBackup)({ policy, files, reason: `before rotating ${item.id}` }, deps), describeBackup);
    const backupName = describeBackup(backup);
    ctx.say(`backup: ${isAbsolute(backupName) ? relative(policy.root, backupName) : backupName}`);
    let journal: Journal | undefined;
    try {
      journal = await attempt(
        'swap',
        () => swapFiles({ policy, rotation, secret: item.id, kind: spec.kind, changes, hooks: spec.after_change, hookTimeout: spec.hook_timeout }, deps),
        () => `wrote ${files.length} file(s)`,
      );
      journalOpen = true;
      ctx.say(`wrote ${files.map((path) => relative(policy.root, path) || path).join(', ')}: ${outline.targets.join(', ')}`);
      const runs = await runHooks(spec.after_change, { policy, hookTimeout: spec.hook_timeout, managedValues: [...secretValues(pending), ...managedEnvValues(policy, await readFiles([policy.envFile], deps))] }, deps);
      for (const run of runs) ctx.say(`hook ${run.ok ? 'ok' : 'FAILED'}: ${run.command}${run.ok ? '' : ` (${run.detail})`}`);
      const failed = runs.find((run) => !run.ok);
      await auditStep(policy, item.id, rotation, 'hooks', failed ? 'failed' : 'ok', failed ? `${failed.command}: ${failed.detail}` : `${runs.length} hook(s) ok`, deps);
      if (failed) throw hookFailure(failed);
      const verified = handler.verify ? await attempt('verify', () => handler.verify!(spec, pending, ctx), (value) => value ?? 'ok') : undefined;
      if (verified) ctx.say(verified);
    } catch (error) {
      // A write that failed half-way left a journal on disk even though swapFiles did not return it.
      journal ??= await readJournal(policy.stateDir, deps);
      if (!journal) throw error;
      ctx.say('rolling back: putting the previous content back');
      const undone = await rollBack(policy, journal, deps).catch(async (rollbackError: unknown) => {
        await auditStep(policy, item.id, rotation, 'rollback', 'failed', isSecretsError(rollbackError) ? rollbackError.message : String(rollbackError), deps).catch(() => undefined);
        throw rollbackError;
      });
      await auditStep(policy, item.id, rotation, 'rollback', 'ok', `restored ${undone.restored.length} file(s); ${undone.hooks}`, deps);
      ctx.say(`rolled back: ${undone.restored.length} file(s) restored; ${undone.hooks}`);
      const reason = isSecretsError(error) ? error.message : error instanceof Error ? error.message : String(error);
      throw new SecretsError('rotation-rolled-back', `${item.id}: ${reason}; the previous values are back in place`, { exitCode: ExitCode.failed, cause: error });
    }
    passStep('hooks-done', deps);
    await markRecording(policy, journal!, deps);
    passStep('recording', deps);
  } else {
    ctx.say(outline.files.length > 0 ? 'the files already hold the new values' : 'no file to change');
  }

  // 4 record
  out('  4/4 record');
  const key = await fingerprintKey(policy.stateDir, deps);
  const next = fingerprintsOf(pending.next, key);
  const previous = fingerprintsOf(pending.previous, key);
  const fingerprints: Record<string, { new: string; old?: string }> = {};
  for (const [label, value] of Object.entries(next.each)) fingerprints[label] = { new: value, ...(previous.each[label] ? { old: previous.each[label] } : {}) };
  const entry = await appendAudit(
    policy.stateDir,
    {
      action: 'rotated',
      secret: item.id,
      ...(next.whole ? { fingerprint: next.whole } : {}),
      ...(previous.whole ? { previous: previous.whole } : {}),
      details: { rotation, kind: spec.kind, files: changes.map((change) => change.path), fingerprints },
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
  return { id: item.id, kind: spec.kind, fingerprint: next.whole ?? '', ...(previous.whole ? { previous: previous.whole } : {}), warnings };
}
