import { relative } from 'node:path';
import { ExitCode, SecretsError, isSecretsError, type ErrorCode, type SecretsErrorOptions } from '../core/errors.js';
import type { Policy } from '../core/policy.js';
import { reviewSchedule, selectSecrets, type SelectedSecret } from '../core/rotation/plan.js';
import { ensureStateDir, readAuditEntries } from './state/audit-trail.js';
import type { Deps } from './deps.js';
import { acquireStateLock } from './state/state-lock.js';
import type { BackupBeforeSwap } from './rotation/backup-before-swap.js';
import { readJournal } from './state/journal-store.js';
import type { RotationOutline } from '../kinds/kind.js';
import { kindOf } from '../kinds/index.js';
import { handlerFor } from '../kinds/rotations.js';
import { recoverPendingCredentials } from './rotation/recover-credentials.js';
import { rotateSecret, rotateTogether, type RotatedSecret } from './rotation/rotate-secret.js';

import { recoverInterrupted, type RecoveryReport } from './rotation/transaction.js';
import { needsApproval } from '../core/approval/rule.js';
import { verifyApproval } from './approval/verify-approval.js';

export type { RotatedSecret } from './rotation/rotate-secret.js';

/** The selected secrets whose after_change shares a command with another selected secret's. */
export function sharingHooks(selected: SelectedSecret[]): SelectedSecret[] {
  const uses = new Map<string, number>();
  for (const item of selected)
    for (const hook of new Set(item.spec.after_change)) uses.set(hook, (uses.get(hook) ?? 0) + 1);
  return selected.filter((item) => item.spec.after_change.some((hook) => (uses.get(hook) ?? 0) > 1));
}

export interface RotateInput {
  policy: Policy;
  /** Secret ids; empty: every secret that is due, overdue, never rotated or within warn_before. */
  ids: string[];
  dryRun?: boolean;
  /** --yes: no confirmation prompt. */
  yes?: boolean;
  /** --password-stdin / --password-prompt: the operator supplies the new password (htpasswd). */
  passwordFrom?: 'prompt' | 'stdin';
  /** --add: a policy env_key missing from the env file may be added. */
  addKeys?: boolean;
  /** --wait: wait this long for another rotation's lock instead of failing at once. */
  waitMs?: number;
  /** --recover: only finish or roll back an interrupted rotation. */
  recoverOnly?: boolean;
  /** --partial-ok: a shared secret's hosts that do not apply it in time leave it pending. */
  partialOk?: boolean;
  /** The encrypted backup before the swap; default createBackup (services/backup.ts). Tests hand in their own. */
  backup?: BackupBeforeSwap;
  /** --approved REQUEST [--signature FILE]: run exactly the plan of a signed change request. */
  approved?: { requestPath: string; signatures: string[] };
  now: Date;
}

export interface PlannedSecret {
  id: string;
  kind: string;
  reason: SelectedSecret['reason'];
  /** The reason with its dates: "overdue since 2025-07-10 (508 days ago, every 90d, last 2025-04-11)". */
  why: string;
  outline: RotationOutline;
  hooks: string[];
}

export interface RotateOutcome {
  deployment: string;
  dryRun: boolean;
  plan: PlannedSecret[];
  recovered?: RecoveryReport;
  /** Shared rotations in the fleet that --recover finished or undid. */
  fleetRecovered?: Array<{ secret: string; version: number; outcome: string; detail: string }>;
  rotated: Array<RotatedSecret & { pendingOn?: string[] }>;
  skipped: string[];
  /**
   * Due secrets this run leaves to a person: manual secrets in an unattended run (no terminal,
   * no ids). Listed so that "nothing rotated" never reads as "nothing due".
   */
  byHand: Array<{ id: string; kind: string; reason: SelectedSecret['reason']; why: string }>;
  /** Dry run only: the secrets that are not due, and when they will be. */
  notDue?: Array<{ id: string; kind: string; why: string }>;
  /** Secrets refused or rolled back (exit 3 each; nothing of theirs changed). */
  failed: Array<{ id: string; code: ErrorCode; message: string; where?: string }>;
}

/**
 * A rotation run that failed after it had done part of its work (other secrets rotated, or a
 * recovery): the error, and the outcome so far, so that `--json` still reports what changed.
 */
export class RotateFailedError extends SecretsError {
  constructor(
    readonly outcome: RotateOutcome,
    code: ErrorCode,
    message: string,
    options: SecretsErrorOptions = {},
  ) {
    super(code, message, options);
    this.name = 'RotateFailedError';
  }
}

export function planOf(selected: SelectedSecret[], policy: Policy): PlannedSecret[] {
  return selected.map(({ id, spec, reason, why }) => ({
    id,
    kind: spec.kind,
    reason,
    why: why ?? reason,
    outline: handlerFor(spec).outline(spec, policy),
    hooks: spec.after_change,
  }));
}

/** The plan as text (dry run and confirmation): files, keys, how the value is made and tested, hooks. */
export function describePlan(plan: PlannedSecret[], policy: Policy): string {
  const lines: string[] = [];
  const shown = (path: string) => relative(policy.root, path) || path;
  for (const item of plan) {
    // Named or never rotated says it all; a date-driven reason shows its dates.
    const dated = item.reason === 'overdue' || item.reason === 'due soon';
    lines.push(dated ? `${item.id} (${item.kind}): ${item.why}` : `${item.id} (${item.kind}, ${item.reason})`);
    lines.push(`  create: ${item.outline.source}`);
    lines.push(`  test:   ${item.outline.test}`);
    lines.push(
      item.outline.files.length > 0
        ? `  swap:   ${item.outline.files.map(shown).join(', ')}: ${item.outline.targets.join(', ')} (encrypted backup first)`
        : '  swap:   no file changes',
    );
    lines.push(`  hooks:  ${item.hooks.length > 0 && item.outline.files.length > 0 ? item.hooks.join(' → ') : 'none'}`);
    lines.push('  record: audit trail, fingerprints only');
  }
  return `${lines.join('\n')}\n`;
}

/** The dry run in words: what each due secret would get, and why; what is left to a person. */
function describeDryRun(outcome: RotateOutcome, policy: Policy): string {
  const parts: string[] = [];
  parts.push(
    outcome.plan.length > 0
      ? `dry run: nothing will be changed\n${describePlan(outcome.plan, policy)}`
      : outcome.byHand.length > 0
        ? 'dry run: nothing would be rotated in this run\n'
        : 'dry run: nothing is due\n',
  );
  if (outcome.byHand.length > 0) {
    parts.push('rotated by hand, so not in an unattended run (secrets rotate ID once the steps are done):\n');
    for (const item of outcome.byHand) parts.push(`  ${item.id} (${item.kind}): ${item.why}\n`);
  }
  return parts.join('');
}

/**
 * `secrets rotate`: for each selected secret, create → test → swap → record
 * (docs/architecture.md, the transaction).
 * Everything before the swap changes nothing; the swap is journaled and rolled back on any
 * failure; one lock per state folder keeps two rotations from writing at once.
 */
export async function runRotate(input: RotateInput, deps: Deps): Promise<RotateOutcome> {
  const { policy } = input;
  const outcome: RotateOutcome = {
    deployment: policy.deployment,
    dryRun: Boolean(input.dryRun),
    plan: [],
    rotated: [],
    skipped: [],
    byHand: [],
    failed: [],
  };
  const { entries } = await readAuditEntries(policy.stateDir, deps);
  // An approved run does exactly the request's plan: its ids, checked before anything is locked or changed.
  const approval = input.approved
    ? await verifyApproval(policy, input.approved.requestPath, input.approved.signatures, deps)
    : undefined;
  const ids = approval ? approval.request.secrets.map((secret) => secret.id) : input.ids;
  const chosen = input.recoverOnly ? [] : selectSecrets(policy, ids, entries, input.now);
  const guarded = approval || input.dryRun ? [] : chosen.filter((item) => needsApproval(policy, item.id));
  if (guarded.length > 0) {
    const names = guarded.map((item) => item.id);
    const refusal = new SecretsError(
      'approval-required',
      `${names.join(', ')} ${names.length > 1 ? 'need' : 'needs'} two-person approval (the policy's approval: section); not rotated`,
      {
        hint: `secrets rotate ${names.join(' ')} --request FILE; approvers: secrets approve FILE --key KEY; then secrets rotate --approved FILE`,
      },
    );
    // Named on the command line: refuse the whole run. A run over what is due goes on without them.
    if (input.ids.length > 0) throw refusal;
    outcome.failed.push(...names.map((id) => ({ id, code: refusal.code, message: refusal.describe() })));
    deps.output.err(`secrets: ${refusal.toLine()}\n`);
  }
  // A manual secret is done by a person: an unattended run (no terminal, no ids) never records one,
  // even with --yes, which there would only mean "no prompt" for the generated kinds.
  const byHand =
    input.ids.length === 0 && !deps.interactive ? chosen.filter((item) => kindOf(item.spec).byHand === true) : [];
  const selected = chosen.filter((item) => !byHand.includes(item) && !guarded.includes(item));
  outcome.byHand = byHand.map(({ id, spec, reason, why }) => ({ id, kind: spec.kind, reason, why: why ?? reason }));
  if (byHand.length > 0 && !input.dryRun)
    deps.output.err(
      `secrets: rotated by hand, so not in an unattended run: ${byHand.map((item) => item.id).join(', ')} (secrets rotate ID once the steps are done)\n`,
    );
  outcome.plan = planOf(selected, policy);

  if (input.dryRun) {
    const journal = await readJournal(policy.stateDir, deps);
    if (journal)
      deps.output.err(
        `secrets: an interrupted rotation of ${journal.secret} (${journal.phase}) will be recovered first\n`,
      );
    if (input.ids.length === 0)
      outcome.notDue = reviewSchedule(policy, entries, input.now)
        .filter((item) => item.state === 'not due')
        .map(({ id, spec, why }) => ({ id, kind: spec.kind, why }));
    deps.output.out(describeDryRun(outcome, policy));
    const shared = sharingHooks(selected).map((item) => item.id);
    if (shared.length > 0)
      deps.output.out(
        `together: ${shared.join(', ')} share hooks: swapped together, each hook run once after all their swaps\n`,
      );
    const unapproved = approval ? [] : selected.filter((item) => needsApproval(policy, item.id)).map((item) => item.id);
    if (unapproved.length > 0)
      deps.output.out(
        `needs two-person approval: ${unapproved.join(', ')} (secrets rotate ${unapproved.join(' ')} --request FILE)\n`,
      );
    return outcome;
  }
  if (!input.recoverOnly && outcome.plan.length > 0 && deps.interactive && !input.yes) {
    deps.output.out(describePlan(outcome.plan, policy));
    if (!(await deps.prompts.confirm(`rotate ${outcome.plan.length} secret(s) now?`, false))) {
      throw new SecretsError('cancelled', 'not confirmed; nothing was changed');
    }
  }

  await ensureStateDir(policy.stateDir, deps);
  const lock = await acquireStateLock(
    policy.stateDir,
    {
      command: `secrets rotate${input.approved ? ` --approved ${input.approved.requestPath}` : input.ids.length > 0 ? ` ${input.ids.join(' ')}` : ''}`,
      waitMs: input.waitMs ?? 0,
    },
    deps,
  );
  let approvalDetails: Record<string, unknown> | undefined;
  try {
    if (input.approved && approval) {
      // The plan was approved for the files as they were: an interrupted rotation must be finished
      // first (secrets rotate --recover), and the check is made again under the lock, just before the swap.
      const journal = await readJournal(policy.stateDir, deps);
      if (journal)
        throw new SecretsError(
          'rotation-interrupted',
          `an interrupted rotation of ${journal.secret} must be recovered first; nothing was changed`,
          { hint: 'secrets rotate --recover, then make a new request' },
        );
      const again = await verifyApproval(policy, input.approved.requestPath, input.approved.signatures, deps);
      deps.output.out(`change request ${again.digest}: ${again.summary}\n`);
      for (const note of again.ignored) deps.output.err(`secrets: note: not counted: ${note}\n`);
      approvalDetails = {
        approval: {
          request: again.digest,
          ticket: again.request.ticket,
          approvers: again.counted.map((key) => key.fingerprint),
        },
      };
    }
    const recovered = await recoverInterrupted(policy, deps);
    if (recovered) {
      outcome.recovered = recovered;
      deps.output.out(`recovered: ${recovered.summary}; ${recovered.detail}\n`);
    }
    // A server credential (postgres, redis) in flight: .env and the server made to agree.
    const credentials = await recoverPendingCredentials(policy, deps);
    for (const item of credentials) deps.output.out(`recovered: ${item.secret}: ${item.detail}\n`);
    if (input.recoverOnly) {
      let fleetRecovered = 0;
      if (policy.doc.fleet) {
        const { recoverFleet } = await import('./fleet/rotate-shared.js');
        outcome.fleetRecovered = await recoverFleet(policy, deps);
        for (const item of outcome.fleetRecovered) deps.output.out(`recovered: ${item.secret}: ${item.detail}\n`);
        fleetRecovered = outcome.fleetRecovered.length;
        const busy = outcome.fleetRecovered.find((item) => item.outcome === 'busy');
        if (busy) throw new RotateFailedError(outcome, 'fleet-busy', busy.detail);
        const back = outcome.fleetRecovered.find((item) => item.outcome === 'rolled-back');
        if (back) throw new RotateFailedError(outcome, 'fleet-rolled-back', `${back.secret}: ${back.detail}`);
      }
      if (!recovered && credentials.length === 0 && fleetRecovered === 0)
        deps.output.out('nothing to recover: no rotation was interrupted\n');
      return outcome;
    }
    if (selected.length === 0) {
      if (outcome.failed.length > 0)
        throw new RotateFailedError(outcome, 'approval-required', outcome.failed[0]!.message);
      deps.output.out(
        byHand.length > 0 ? 'nothing rotated: what is due is rotated by hand (above)\n' : 'nothing is due\n',
      );
      return outcome;
    }
    // Standard input is read once and shared: one dotenv block may carry the values of several secrets.
    let stdin: Promise<string> | undefined;
    const failures: SecretsError[] = [];
    const runDeps: Deps = { ...deps, readStdin: () => (stdin ??= deps.readStdin()) };
    // Secrets that share an after_change hook rotate as one transaction: the hook runs once, after
    // every swap (two keys read by one app restart it once), and a failure rolls all of them back.
    // A shared secret rotates for the whole fleet, alone (docs/fleet.md); the others as before.
    const shared = policy.doc.fleet ? selected.filter((item) => item.spec.shared === true) : [];
    const together = sharingHooks(selected.filter((item) => !shared.includes(item)));
    const failed = (id: string, error: SecretsError) => {
      failures.push(error);
      outcome.failed.push({
        id,
        code: error.code,
        message: error.describe(),
        ...(error.where ? { where: error.where } : {}),
      });
    };
    /** Exit 4 stops everything, carrying what was rotated before it. */
    const mustAct = (error: SecretsError) =>
      new RotateFailedError(outcome, error.code, error.message, {
        ...(error.where ? { where: error.where } : {}),
        ...(error.hint ? { hint: error.hint } : {}),
        cause: error,
      });
    for (const item of selected.filter((candidate) => !together.includes(candidate))) {
      try {
        if (shared.includes(item)) {
          const { rotateShared } = await import('./fleet/rotate-shared.js');
          const rotated = await rotateShared(
            item,
            { ...input, ...(approvalDetails ? { auditDetails: approvalDetails } : {}) },
            runDeps,
          );
          if (rotated) outcome.rotated.push(rotated);
          else outcome.skipped.push(item.id);
          continue;
        }
        const rotated = await rotateSecret(
          item,
          { ...input, ...(approvalDetails ? { auditDetails: approvalDetails } : {}) },
          runDeps,
        );
        if (rotated) outcome.rotated.push(rotated);
        else outcome.skipped.push(item.id);
      } catch (error) {
        // A refusal (exit 3) changed nothing: report it and go on with the others, so one robot
        // awaiting its new URL does not hold back every random key. Exit 4 stops everything.
        if (!isSecretsError(error)) throw error;
        if (error.exitCode === ExitCode.mustAct) throw mustAct(error);
        failed(item.id, error);
        if (selected.length > 1) deps.output.err(`secrets: ${item.id} not rotated: ${error.toLine()}\n`);
      }
    }
    if (together.length > 0) {
      try {
        const group = await rotateTogether(
          together,
          { ...input, ...(approvalDetails ? { auditDetails: approvalDetails } : {}) },
          runDeps,
        );
        outcome.rotated.push(...group.rotated);
        outcome.skipped.push(...group.skipped);
        for (const { id, error } of group.refused) if (isSecretsError(error)) failed(id, error);
      } catch (error) {
        if (!isSecretsError(error)) throw error;
        if (error.exitCode === ExitCode.mustAct) throw mustAct(error);
        // Rolled back together: none of them changed.
        for (const item of together) if (!outcome.failed.some((entry) => entry.id === item.id)) failed(item.id, error);
        deps.output.err(`secrets: ${together.map((item) => item.id).join(', ')} not rotated: ${error.toLine()}\n`);
      }
    }
    // Report in the policy's order, whichever way each was rotated.
    const order = (id: string) => selected.findIndex((item) => item.id === id);
    outcome.rotated.sort((a, b) => order(a.id) - order(b.id));
    if (outcome.failed.length > 0) {
      const total = selected.length + guarded.length;
      const rotatedNote =
        outcome.rotated.length > 0 ? ` (rotated: ${outcome.rotated.map((item) => item.id).join(', ')})` : '';
      // One secret named and refused: its own error, unchanged. Several: one error that names them.
      const only = total === 1 ? failures[0] : undefined;
      if (only)
        throw new RotateFailedError(outcome, only.code, only.message, {
          ...(only.where ? { where: only.where } : {}),
          ...(only.hint ? { hint: only.hint } : {}),
          cause: only,
        });
      throw new RotateFailedError(
        outcome,
        'rotate-failed',
        `${outcome.failed.length} of ${total} secrets not rotated: ${outcome.failed.map((item) => item.id).join(', ')}${rotatedNote}`,
      );
    }
    return outcome;
  } finally {
    await lock.release();
  }
}
