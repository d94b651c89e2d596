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
import { appendAudit, ensureStateDir, fingerprintKey, readAuditEntries } from './state/audit-trail.js';
import type { Deps } from './deps.js';
import { acquireStateLock } from './state/state-lock.js';
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
import { describePastLeak, findPastLeaks } from './revocation/past-leaks.js';
import { pastValuesMatcher } from './state/past-values.js';
import { readManagedValues } from './policy/managed-values.js';
import { lastRotations } from '../core/audit.js';
import type { LoginSummary } from '../core/access-log.js';
import { loginsInWindow } from './access-log.js';
import { backupOrKeepPreImage, type KeptPreImage } from './revocation/pre-image.js';

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
  /**
   * Part of `revoke ID… / --all / --leaked-in`: no alert and no search of its own (the batch sends
   * one alert and writes one purge file for all); the values cut off are handed back here.
   */
  batch?: { onRevokedValues(values: Secret[]): void };
  /** --since: the start of the leak window for the access-log logins (default: the last rotation). */
  since?: Date;
  /** --current: the current value leaked (the responder knows); skip the past-value question. */
  currentLeaked?: boolean;
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
  /**
   * Set when no encrypted backup could be made: the previous content was kept in these folders of
   * the state folder instead (mode 600), and the revoke exits 2 until a backup can be made.
   */
  preImages?: KeptPreImage[];
  /** A Basic Auth password with an access_log: who logged in as its user in the leak window. */
  logins?: { user: string; since: string; clients: LoginSummary[] };
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
export async function runRevoke(request: RevokeInput, deps: Deps): Promise<RevokeOutcome> {
  let input = request;
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

  if (!input.batch && !input.currentLeaked && input.scan !== false) await refuseIfOnlyPastLeaked(policy, id, deps);

  // Asked once, up front: the confirmation and, for htpasswd with a probe, the old password.
  let oldPassword: Secret | undefined;
  if (deps.interactive && !input.yes) {
    out(describeRevocation(id, spec, policy, input));
    if (!(await deps.prompts.confirm(`revoke ${id} now?`, false)))
      throw new SecretsError('cancelled', 'not confirmed; nothing was changed');
    const leakedPrompt = revocation.askLeakedValue?.(spec);
    if (leakedPrompt !== undefined) {
      const answer = await deps.prompts.password(leakedPrompt);
      if (answer !== '') oldPassword = Secret.known(answer);
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
  const keptPreImages: KeptPreImage[] = [];
  const backup = backupOrKeepPreImage(input.backup, id, (kept) => {
    keptPreImages.push(kept);
    out(`      no encrypted backup: ${kept.reason}`);
    out(
      `      previous content kept in ${kept.dir} (mode 600, in the 700 state folder): the cut-off goes ahead; delete it once a backup is made`,
    );
  });
  input = { ...input, backup };

  await ensureStateDir(policy.stateDir, deps);
  const lock = await acquireStateLock(
    policy.stateDir,
    {
      command: `secrets revoke ${id}`,
      waitMs: input.waitMs ?? 0,
    },
    deps,
  );
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
  if (input.batch) {
    input.batch.onRevokedValues(revokedValues);
    say('one alert and one search for all the secrets revoked together, after the last one');
    outcome.exitCode = !outcome.replaced || keptPreImages.length > 0 ? ExitCode.critical : ExitCode.ok;
    if (keptPreImages.length > 0) outcome.preImages = keptPreImages;
    return outcome;
  }
  outcome.alert = await alertTeam(input, spec, outcome, deps);
  say(outcome.alert);
  await reportLogins(input, spec, outcome, deps, say).catch((error: unknown) => {
    const message = isSecretsError(error) ? error.toLine() : error instanceof Error ? error.message : String(error);
    say(`access log: could not be read: ${message}`);
  });
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

  if (keptPreImages.length > 0) {
    outcome.preImages = keptPreImages;
    say(
      `${id} was written without an encrypted backup: fix the policy's backup section (secrets check says what is wrong), then run secrets backup`,
    );
  }
  outcome.exitCode =
    !outcome.replaced || keptPreImages.length > 0
      ? ExitCode.critical
      : outcome.leaks && outcome.leaks.tree.length + outcome.leaks.history.length > 0
        ? ExitCode.warning
        : ExitCode.ok;
  return outcome;
}

/** "Who used it": successful logins of the secret's user in the leak window, from the access log. */
async function reportLogins(
  input: RevokeInput,
  spec: SecretSpec,
  outcome: RevokeOutcome,
  deps: Deps,
  say: (line: string) => void,
): Promise<void> {
  const { policy, id } = input;
  const user = kindOf(spec).revocation.accessLogUser?.(spec);
  if (user === undefined || !policy.doc.access_log) return;
  const since =
    input.since ?? lastRotations((await readAuditEntries(policy.stateDir, deps)).entries).get(id) ?? new Date(0);
  const clients = await loginsInWindow(policy, user, since, deps);
  outcome.logins = { user, since: since.toISOString(), clients };
  const window = since.getTime() === 0 ? 'in the whole log' : `since ${since.toISOString()}`;
  if (clients.length === 0) {
    say(`access log: no successful login as ${user} ${window}`);
    return;
  }
  say(`access log: successful logins as ${user} ${window} (who used it):`);
  for (const client of clients)
    say(`  ${client.client}  first ${client.first}  last ${client.last}  ${client.requests} request(s)`);
}

/**
 * A secret rotated before may be named because its old value turned up (in a commit, a chat):
 * that value is dead already, and blanking the healthy current one (a robot, a live password)
 * would only hurt. When a past value is found and the current value nowhere, nothing is changed.
 * Only searched when the trail remembers past values of this secret.
 */
async function refuseIfOnlyPastLeaked(policy: Policy, id: string, deps: Deps): Promise<void> {
  if (!deps.scanSources || !(await pastValuesMatcher(policy.stateDir, deps, id))) return;
  const past = await findPastLeaks(policy, id, deps);
  if (past.leaks.length === 0) return;
  const current = (await readManagedValues(policy, deps))
    .filter((value) => value.id === id)
    .map((value) => new Secret(value.value));
  if (current.length > 0) {
    const found = await findRevokedValue(policy, id, current, await deps.scanSources());
    if (found.tree.length + found.history.length > 0) return;
  }
  const first = past.leaks[0]!;
  throw new SecretsError(
    'revoke-past-only',
    `${id}: the leak found is a past value (${describePastLeak(first)}${past.leaks.length > 1 ? `, and ${past.leaks.length - 1} more` : ''}); the current value was never seen leaked, so it was not revoked; nothing was changed`,
    {
      hint: `purge the old value with secrets revoke --past ${id}; if the current value leaked too: secrets revoke ${id} --current`,
    },
  );
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
  if (spec.shared && policy.doc.fleet) {
    // A shared value is replaced on every host of the fleet. A host that is down must not keep the
    // leaked value live on all the others: the new version stays pending for it (--partial-ok).
    const { rotateShared } = await import('./fleet/rotate-shared.js');
    const shared = await rotateShared(
      { id, spec, reason: 'named' },
      {
        policy,
        yes: true,
        revoking: true,
        partialOk: true,
        ...(input.passwordFrom ? { passwordFrom: input.passwordFrom } : {}),
        ...(input.backup ? { backup: input.backup } : {}),
        auditDetails: { revocation },
      },
      nested,
    );
    if (shared?.pendingOn && shared.pendingOn.length > 0)
      deps.output.err(
        `secrets: warning: ${id}'s replacement is pending on ${shared.pendingOn.join(', ')}: they hold the leaked value until their next secrets sync\n`,
      );
    return shared ? undefined : 'skipped by the operator';
  }
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

export function describeLocation(location: RevokedValueLocation): string {
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
  const found = await searchRevokedValues(input.policy, input.id, values, deps, say);
  if (found.leaks) outcome.leaks = found.leaks;
  if (found.replacementsFile) outcome.replacementsFile = found.replacementsFile;
}

/**
 * Where did these revoked values go? The working tree and every commit, literally; when found, one
 * replacements file for git filter-repo (named after `name`: a secret or an incident) and the advice.
 */
export async function searchRevokedValues(
  policy: Policy,
  name: string,
  values: Secret[],
  deps: Deps,
  say: (line: string) => void,
): Promise<{ leaks?: NonNullable<RevokeOutcome['leaks']>; replacementsFile?: string }> {
  if (values.length === 0) {
    say('search skipped: no value of this secret was known before the cut-off');
    return {};
  }
  if (!deps.scanSources) {
    say('search skipped: the scanner is not available here (run secrets scan --history)');
    return {};
  }
  const found: RevokedValueSearch = await findRevokedValue(policy, name, values, await deps.scanSources());
  const leaks = { tree: found.tree, history: found.history, commitsScanned: found.commitsScanned };
  const all = [...found.tree, ...found.history];
  const scope = found.git
    ? `the working tree and the history (${found.commitsScanned} commit(s) searched on every branch and tag)`
    : 'the files (not a git repository)';
  if (all.length === 0) {
    say(`the revoked value was not found in ${scope}`);
    return { leaks };
  }
  say(`the revoked value was found ${all.length} time(s) in ${scope}:`);
  for (const location of all) say(`  ${describeLocation(location)}`);
  const stamp = deps.clock
    .now()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const path = join(policy.stateDir, `revoke-${name}-${stamp}.replacements`);
  await deps.files.writeAtomic(path, replacementsText(values.map((value) => value.reveal())), { mode: 0o600 });
  say(`replacements for git filter-repo: ${path}`);
  say('  it holds the revoked value itself (mode 600, in the 700 state folder): delete it once the purge is done');
  if (found.history.length > 0) {
    say(`to purge the history (in a fresh clone, then force-push every branch and tag):`);
    say(`  git filter-repo --replace-text ${path}`);
    say('  every clone, fork and CI cache must then be re-made from the purged repository;');
    say('  a purge does not un-leak: whoever copied the value still has it. The rotation is the fix.');
  }
  if (found.tree.length > 0) say('remove the value from the working-tree files listed above (they still hold it)');
  return { leaks, replacementsFile: path };
}
