import { randomUUID } from 'node:crypto';
import { join, relative } from 'node:path';
import { ExitCode, SecretsError, isSecretsError, type ExitCodeValue } from '../core/errors.js';
import { replacementsText } from '../core/filter-repo.js';
import { needsApproval } from '../core/approval/rule.js';
import { findSecret, type Policy } from '../core/policy.js';
import type { SecretSpec } from '../core/policy-schema.js';
import { Secret } from '../core/secret.js';
import { filesOfSecret, kindOf, lockOnlyKinds, managedEnvValues } from '../kinds/index.js';
import type { CutOffPlan } from '../kinds/kind.js';
import { appendAudit, ensureStateDir, fingerprintKey } from './state/audit-trail.js';
import type { Deps } from './deps.js';
import { notifyTeam } from './notify.js';
import {
  findRevokedValue,
  type RevokedValueLocation,
  type RevokedValueSearch,
} from './revocation/find-revoked-value.js';
import { applyChanges } from './rotation/apply-changes.js';
import type { BackupBeforeSwap } from './rotation/backup-before-swap.js';
import { clearJournal } from './state/journal-store.js';
import { fingerprintsOf, readFiles, rotateSecret } from './rotation/rotate-secret.js';
import { recoverInterrupted } from './rotation/transaction.js';

export interface RevokeInput {
  policy: Policy;
  id: string;
  reason?: string;
  incident?: string;
  /** htpasswd and dingtalk: stop after the cut-off; the secret stays revoked-but-not-replaced. */
  lockOnly?: boolean;
  /** False with --no-scan: skip the search of the tree and history. */
  scan?: boolean;
  /** --yes: no prompt at all. */
  yes?: boolean;
  /** --password-stdin / --password-prompt for the htpasswd replacement. */
  passwordFrom?: 'prompt' | 'stdin';
  backup?: BackupBeforeSwap;
  waitMs?: number;
  now: Date;
}

export interface RevokeOutcome {
  secret: string;
  kind: string;
  /** What the cut-off did. */
  cutOff: string;
  /** Fingerprint of the revoked value (never the value). */
  fingerprint?: string;
  replaced: boolean;
  /** Why the secret is revoked but not replaced (lock-only, no new pair yet, a refusal). */
  notReplaced?: string;
  /** undefined with --no-scan. */
  leaks?: { tree: RevokedValueLocation[]; history: RevokedValueLocation[]; commitsScanned: number };
  /** The git filter-repo --replace-text file (mode 600, in the state folder) when the value was found. */
  replacementsFile?: string;
  alert: string;
  /** 0 revoked and replaced · 1 replaced but the value is in the tree or history · 2 revoked, not replaced. */
  exitCode: ExitCodeValue;
}

function resetSteps(spec: SecretSpec): string[] {
  if (spec.steps.length > 0) return spec.steps;
  return kindOf(spec).revocation.defaultSteps ?? [];
}

/** What the confirmation shows before anything changes. */
function describeRevocation(id: string, spec: SecretSpec, policy: Policy, input: RevokeInput): string {
  const shown = (path: string) => relative(policy.root, path) || path;
  const files = filesOfSecret(policy, spec).map(shown).join(', ') || 'no file';
  const { revocation } = kindOf(spec);
  return [
    `revoke ${id} (${spec.kind})${input.reason ? `: ${input.reason}` : ''}${input.incident ? ` [incident ${input.incident}]` : ''}`,
    `  cut off:  ${revocation.cutOff} (${files}; encrypted backup first)`,
    `  replace:  ${revocation.replace(Boolean(input.lockOnly))}`,
    `  tell:     the team through the notify robot`,
    `  search:   ${input.scan === false ? 'skipped (--no-scan)' : 'working tree and full history for the revoked value'}`,
    '',
  ].join('\n');
}

/**
 * `secrets revoke ID`: cut the leaked value off now, record it, replace it, tell the team, then
 * show where it leaked. The cut-off is written through the rotation engine's write path (backup,
 * journal, atomic writes, hooks, roll-back); the replacement is a normal rotation.
 */
export async function runRevoke(input: RevokeInput, deps: Deps): Promise<RevokeOutcome> {
  const { policy, id } = input;
  const spec = findSecret(policy, id);
  const out = (text: string) => deps.output.out(`${text}\n`);
  const { revocation } = kindOf(spec);
  if (input.lockOnly && revocation.noLockOnly !== undefined) {
    throw new SecretsError(
      'bad-option',
      `--lock-only applies to ${lockOnlyKinds()} secrets; ${id} is ${spec.kind}, whose cut-off ${revocation.noLockOnly}`,
    );
  }

  // Asked once, up front: the confirmation and, for htpasswd with a probe, the old password.
  let oldPassword: Secret | undefined;
  if (deps.interactive && !input.yes) {
    out(describeRevocation(id, spec, policy, input));
    if (!(await deps.prompts.confirm(`revoke ${id} now?`, false)))
      throw new SecretsError('cancelled', 'not confirmed; nothing was changed');
    const leakedPrompt = revocation.askLeakedValue?.(spec);
    if (leakedPrompt !== undefined) {
      const answer = await deps.prompts.password(leakedPrompt);
      if (answer !== '') oldPassword = new Secret(answer);
    }
  }

  // Standard input is read once: the replacement (password or robot pair) may be on it.
  let stdin: Promise<string> | undefined;
  const runDeps: Deps = { ...deps, readStdin: () => (stdin ??= deps.readStdin()) };
  const outcome: RevokeOutcome = {
    secret: id,
    kind: spec.kind,
    cutOff: '',
    replaced: false,
    alert: '',
    exitCode: ExitCode.ok,
  };
  let revokedValues: Secret[] = [];

  await ensureStateDir(policy.stateDir, deps);
  const lock = await deps.locker.acquire(policy.stateDir, {
    command: `secrets revoke ${id}`,
    waitMs: input.waitMs ?? 0,
  });
  try {
    const recovered = await recoverInterrupted(policy, deps);
    if (recovered) out(`recovered: ${recovered.summary}; ${recovered.detail}`);

    // 1 cut off
    out(`${id} (${spec.kind}): revoking${input.reason ? ` — ${input.reason}` : ''}`);
    out('  1/4 cut off');
    const say = (line: string) => out(`      ${line}`);
    const current = await readFiles(filesOfSecret(policy, spec), deps);
    const plan: CutOffPlan = revocation.planCutOff(id, spec, policy, current, oldPassword ? { oldPassword } : {}, deps);
    revokedValues = Object.values(plan.revoked);
    say(plan.summary);
    const cutOffId = randomUUID();
    const auditStep = (step: string, result: 'ok' | 'failed', message: string) =>
      appendAudit(
        policy.stateDir,
        { action: 'revoke-step', secret: id, details: { rotation: cutOffId, step, outcome: result, message } },
        deps,
      ).then(() => undefined);
    const changes = plan.changes.filter((change) => current.get(change.path) !== change.content);
    const journal = await applyChanges(
      {
        policy,
        id,
        spec,
        rotation: cutOffId,
        changes,
        targets: plan.targets,
        backupReason: `before revoking ${id}`,
        ...(input.backup ? { backup: input.backup } : {}),
        managedValues: async () => [
          ...revokedValues.map((value) => value.reveal()),
          ...managedEnvValues(policy, await readFiles([policy.envFile], deps)),
        ],
        ...(plan.verify ? { verify: plan.verify } : {}),
        attempt: async (step, action, describe) => {
          try {
            const value = await action();
            await auditStep(step, 'ok', describe(value));
            return value;
          } catch (error) {
            await auditStep(step, 'failed', isSecretsError(error) ? error.message : String(error)).catch(
              () => undefined,
            );
            throw error;
          }
        },
        auditStep,
        say,
      },
      deps,
    );
    outcome.cutOff = changes.length > 0 ? plan.summary : (revocation.unchanged ?? 'already cut off');
    for (const line of plan.after) say(line);

    // 2 record: from this entry on, a crash keeps the cut-off (recovery reads it as recorded)
    out('  2/4 record');
    const key = await fingerprintKey(policy.stateDir, deps);
    const fingerprints = fingerprintsOf(plan.revoked, key);
    const entry = await appendAudit(
      policy.stateDir,
      {
        action: 'revoked',
        secret: id,
        ...(fingerprints.whole ? { fingerprint: fingerprints.whole } : {}),
        details: {
          rotation: cutOffId,
          kind: spec.kind,
          ...(input.reason ? { reason: input.reason } : {}),
          ...(input.incident ? { incident: input.incident } : {}),
          cutOff: outcome.cutOff,
          files: changes.map((change) => change.path),
          fingerprints: fingerprints.each,
          // Never blocked by approval (the worst day cannot wait), but approved after the fact.
          ...(needsApproval(policy, id) ? { approval: 'pending' } : {}),
        },
      },
      deps,
    );
    if (journal) await clearJournal(policy.stateDir, deps);
    if (fingerprints.whole) outcome.fingerprint = fingerprints.whole;
    say(`audit #${entry.seq}: revoked${fingerprints.whole ? `, fingerprint ${fingerprints.whole}` : ''}`);

    // 3 replace
    out('  3/4 replace');
    const steps = resetSteps(spec);
    if (steps.length > 0 && revocation.stepsIntro !== undefined) {
      say(revocation.stepsIntro);
      steps.forEach((step, index) => say(`  ${index + 1}. ${step}`));
    }
    if (needsApproval(policy, id))
      say(`approval: pending; a pinned approver records it with secrets approve --after ${entry.seq} --key KEY`);
    const notReplaced = await replace(input, spec, runDeps, entry.seq).catch((error: unknown) => {
      // A refused replacement changed nothing more: the secret stays revoked (exit 2). Exit 4 stops.
      if (!isSecretsError(error) || error.exitCode === ExitCode.mustAct) throw error;
      return `the replacement was refused: ${error.toLine()}`;
    });
    outcome.replaced = notReplaced === undefined;
    if (notReplaced !== undefined) {
      outcome.notReplaced = notReplaced;
      say(`NOT replaced: ${notReplaced}`);
      say(`${id} stays revoked: secrets check reports it as critical until secrets rotate ${id} succeeds`);
    }
  } finally {
    await lock.release();
  }

  // 4 tell and search: after the lock, so a long history scan holds up no rotation.
  out('  4/4 tell the team, find the leak');
  const say = (line: string) => out(`      ${line}`);
  outcome.alert = await alertTeam(input, spec, outcome, deps);
  say(outcome.alert);
  if (input.scan !== false) {
    // The secret is revoked whatever the search finds: a failed search is a warning, never exit 3.
    await searchAndReport(input, revokedValues, outcome, deps, say).catch((error: unknown) => {
      const message = isSecretsError(error) ? error.toLine() : error instanceof Error ? error.message : String(error);
      deps.output.err(
        `secrets: warning: ${id} was revoked, but the search for the revoked value failed: ${message} (run secrets scan --history)\n`,
      );
      say('search FAILED: see the warning; run secrets scan --history');
    });
  } else say('search skipped (--no-scan): run secrets scan --history to find where it leaked');

  outcome.exitCode = !outcome.replaced
    ? ExitCode.critical
    : outcome.leaks && outcome.leaks.tree.length + outcome.leaks.history.length > 0
      ? ExitCode.warning
      : ExitCode.ok;
  return outcome;
}

/**
 * The replacement, as a normal rotation. Returns why there is none (lock-only, no new robot pair
 * yet, a manual secret), or undefined when the secret was replaced.
 */
async function replace(
  input: RevokeInput,
  spec: SecretSpec,
  deps: Deps,
  revocation: number,
): Promise<string | undefined> {
  const { policy, id } = input;
  if (input.lockOnly) return '--lock-only';
  const why = await kindOf(spec).revocation.noReplacement?.(id, spec, deps);
  if (why !== undefined) return why;
  // The rotation's own four steps, indented under "3/4 replace" so the two numberings do not mix.
  const indent = (text: string) => text.replace(/^(?=.)/gm, '    ');
  const nested: Deps = { ...deps, output: { ...deps.output, out: (text) => deps.output.out(indent(text)) } };
  const rotated = await rotateSecret(
    { id, spec, reason: 'named' },
    {
      policy,
      yes: true,
      // The kind also ends the sessions the revoked value opened (postgres, redis).
      revoking: true,
      ...(input.passwordFrom ? { passwordFrom: input.passwordFrom } : {}),
      ...(input.backup ? { backup: input.backup } : {}),
      // The replacement is part of the revocation: its approval is the revocation's (approve --after).
      auditDetails: { revocation },
    },
    nested,
  );
  return rotated ? undefined : 'skipped by the operator';
}

/** The team hears of it through the notify robot, with who, when, why — never the value. */
async function alertTeam(input: RevokeInput, spec: SecretSpec, outcome: RevokeOutcome, deps: Deps): Promise<string> {
  const { policy, id } = input;
  const robot = policy.doc.notify.dingtalk;
  if (!robot) return 'team alert: not sent (the policy names no notify robot)';
  // The leaked robot itself is blank until the new pair is in place; once it is, the alert goes through it.
  if (robot === id && !outcome.replaced)
    return 'team alert: not sent: the notify robot is the secret that leaked and has no new pair yet (tell the team another way)';
  try {
    await notifyTeam(
      {
        policy,
        title: `[${policy.deployment}] secret revoked: ${id}`,
        lines: [
          `- **secret**: ${id} (${spec.kind})`,
          `- **reason**: ${input.reason ?? 'not given'}`,
          `- **incident**: ${input.incident ?? 'none'}`,
          `- **by**: ${deps.actor} at ${deps.clock.now().toISOString()}`,
          `- **cut off**: ${outcome.cutOff}`,
          `- **replaced**: ${outcome.replaced ? 'yes' : `no (${outcome.notReplaced ?? ''})`}`,
        ],
      },
      deps,
    );
    return robot === id ? 'team alert sent through the new robot' : 'team alert sent through the notify robot';
  } catch (error) {
    // The revocation stands; a failed alert is a warning with what to do.
    const message = isSecretsError(error) ? error.toLine() : String(error);
    deps.output.err(`secrets: warning: ${id} was revoked, but the team alert failed: ${message}\n`);
    return `team alert FAILED: ${message} (tell the team another way)`;
  }
}

function describeLocation(location: RevokedValueLocation): string {
  if (!location.commit) return `working tree  ${location.file}:${location.line}`;
  const by = location.author ? ` by ${location.author}` : '';
  const on = location.date ? ` on ${location.date.slice(0, 10)}` : '';
  return `commit ${location.commit.slice(0, 12)}  ${location.file}:${location.line}${by}${on}`;
}

/** The scan of tree and history for the revoked value, the replacements file and the purge advice. */
async function searchAndReport(
  input: RevokeInput,
  values: Secret[],
  outcome: RevokeOutcome,
  deps: Deps,
  say: (line: string) => void,
): Promise<void> {
  const { policy, id } = input;
  if (values.length === 0) {
    say('search skipped: no value of this secret was known before the cut-off');
    return;
  }
  if (!deps.scanSources) {
    say('search skipped: the scanner is not available here (run secrets scan --history)');
    return;
  }
  const found: RevokedValueSearch = await findRevokedValue(policy, id, values, await deps.scanSources());
  outcome.leaks = { tree: found.tree, history: found.history, commitsScanned: found.commitsScanned };
  const all = [...found.tree, ...found.history];
  const scope = found.git
    ? `the working tree and the history (${found.commitsScanned} commit(s) searched on every branch and tag)`
    : 'the files (not a git repository)';
  if (all.length === 0) {
    say(`the revoked value was not found in ${scope}`);
    return;
  }
  say(`the revoked value was found ${all.length} time(s) in ${scope}:`);
  for (const location of all) say(`  ${describeLocation(location)}`);
  const stamp = deps.clock
    .now()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const path = join(policy.stateDir, `revoke-${id}-${stamp}.replacements`);
  await deps.files.writeAtomic(path, replacementsText(values.map((value) => value.reveal())), { mode: 0o600 });
  outcome.replacementsFile = path;
  say(`replacements for git filter-repo: ${path}`);
  say('  it holds the revoked value itself (mode 600, in the 700 state folder): delete it once the purge is done');
  if (found.history.length > 0) {
    say(`to purge the history (in a fresh clone, then force-push every branch and tag):`);
    say(`  git filter-repo --replace-text ${path}`);
    say('  every clone, fork and CI cache must then be re-made from the purged repository;');
    say('  a purge does not un-leak: whoever copied the value still has it. The rotation is the fix.');
  }
  if (found.tree.length > 0) say('remove the value from the working-tree files listed above (they still hold it)');
}
