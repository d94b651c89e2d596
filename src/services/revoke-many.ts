import { ExitCode, SecretsError, isSecretsError, type ExitCodeValue } from '../core/errors.js';
import { findSecret, type Policy } from '../core/policy.js';
import { Secret as SecretValue, type Secret } from '../core/secret.js';
import type { Deps } from './deps.js';
import { notifyTeam } from './notify.js';
import { runRevoke, searchRevokedValues, type RevokeInput, type RevokeOutcome } from './revoke.js';
import { runScan } from './scan.js';

export interface RevokeManyInput extends Omit<RevokeInput, 'id' | 'batch' | 'lockOnly'> {
  /** Named on the command line (may be empty with --all or --leaked-in). */
  ids: string[];
  all?: boolean;
  /** A commit or a range (A..B): every managed secret whose value appears in it. */
  leakedIn?: string;
}

export interface RevokeManyOutcome {
  incident: string;
  /** The ids, in the order they were revoked. */
  order: string[];
  /** With --leaked-in: what was found in it (ids; never values). */
  leakedIn?: { revision: string; secrets: string[]; pastOnly: string[] };
  secrets: Array<
    RevokeOutcome | { secret: string; error: ReturnType<SecretsError['toJson']>; exitCode: ExitCodeValue }
  >;
  alert: string;
  leaks?: NonNullable<RevokeOutcome['leaks']>;
  /** One git filter-repo --replace-text file for every value cut off (mode 600, in the state folder). */
  replacementsFile?: string;
  exitCode: ExitCodeValue;
}

/**
 * The managed secrets whose value was added in that commit or range: `current` those whose
 * current value is there (they are revoked), `past` those of which only an old value is there
 * (dead already: not revoked, but their old values go into the purge file).
 */
export async function secretsLeakedIn(
  policy: Policy,
  revision: string,
  deps: Deps,
): Promise<{ current: string[]; past: Map<string, string[]> }> {
  if (!deps.scanSources)
    throw new SecretsError('bad-option', '--leaked-in needs the scanner, which is not available here');
  const range = revision.includes('..') ? revision : `${revision}^!`;
  const scanned = await runScan(
    { cwd: policy.root, policy, mode: 'history', range, pastValues: true },
    { sources: await deps.scanSources(), files: deps.files, rules: [] },
  );
  const current = new Set<string>();
  const past = new Map<string, string[]>();
  for (const finding of scanned.findings) {
    if (finding.ruleId.startsWith('managed:')) current.add(finding.ruleId.slice('managed:'.length));
    else if (finding.ruleId.startsWith('managed-past:')) {
      const id = finding.ruleId.slice('managed-past:'.length);
      past.set(id, [...(past.get(id) ?? []), finding.secret.reveal()]);
    }
  }
  for (const id of current) past.delete(id);
  return { current: policy.secrets.map((secret) => secret.id).filter((id) => current.has(id)), past };
}

/**
 * The order that keeps alerts working longest: the notify robot last, so the others' cut-offs
 * do not wait on it, unless it leaked itself: then it goes first (whoever holds it can post to
 * the group as us) and the one alert goes out through its replacement.
 */
export function revocationOrder(ids: string[], robot: string | undefined, robotLeaked: boolean): string[] {
  if (!robot || !ids.includes(robot)) return ids;
  const others = ids.filter((id) => id !== robot);
  return robotLeaked ? [robot, ...others] : [...others, robot];
}

const worse = (a: ExitCodeValue, b: ExitCodeValue): ExitCodeValue => (b > a ? b : a);

/**
 * `secrets revoke ID… | --all | --leaked-in REV`: each secret still goes cut off → record →
 * replace (runRevoke, one at a time, each under the lock), under one incident id; then one team
 * alert summarising all of them, one search and one purge file for every value cut off.
 */
export async function runRevokeMany(input: RevokeManyInput, deps: Deps): Promise<RevokeManyOutcome> {
  const { policy } = input;
  const out = (text: string) => deps.output.out(`${text}\n`);
  for (const id of input.ids) findSecret(policy, id);
  let ids = [...new Set(input.ids)];
  if (input.all) ids = policy.secrets.map((secret) => secret.id);
  let leakedIn: RevokeManyOutcome['leakedIn'];
  const pastValues: Secret[] = [];
  if (input.leakedIn !== undefined) {
    const found = await secretsLeakedIn(policy, input.leakedIn, deps);
    leakedIn = { revision: input.leakedIn, secrets: found.current, pastOnly: [...found.past.keys()] };
    out(
      `leaked in ${input.leakedIn}: ${found.current.length > 0 ? found.current.join(', ') : 'no current managed value'}`,
    );
    for (const [id, old] of found.past) {
      out(`  ${id}: only a past value is there (dead since its rotation): not revoked; it goes into the purge file`);
      for (const value of old) pastValues.push(new SecretValue(value));
    }
    ids = [...new Set([...ids, ...found.current])];
  }
  if (ids.length === 0 && pastValues.length === 0)
    throw new SecretsError(
      'revoke-nothing',
      input.leakedIn !== undefined
        ? `no managed secret's value appears in ${input.leakedIn}; nothing was changed`
        : 'no secret to revoke; nothing was changed',
    );
  const robot = policy.doc.notify.dingtalk;
  // Named on the command line or found in the commit: it leaked. Swept up by --all: it did not.
  const robotLeaked =
    robot !== undefined && (input.ids.includes(robot) || (leakedIn?.secrets.includes(robot) ?? false));
  const order = revocationOrder(ids, robot, robotLeaked);
  const stamp = deps.clock
    .now()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const incident = input.incident ?? `INC-${stamp}`;

  if (deps.interactive && !input.yes) {
    out(`revoke ${order.length} secret(s), in this order: ${order.join(', ')} [incident ${incident}]`);
    if (!(await deps.prompts.confirm(`revoke all ${order.length} now?`, false)))
      throw new SecretsError('cancelled', 'not confirmed; nothing was changed');
  }

  const outcome: RevokeManyOutcome = {
    incident,
    order,
    ...(leakedIn ? { leakedIn } : {}),
    secrets: [],
    alert: '',
    exitCode: ExitCode.ok,
  };
  const values: Secret[] = [...pastValues];
  for (const id of order) {
    try {
      const one = await runRevoke(
        {
          ...input,
          id,
          incident,
          yes: true,
          batch: { onRevokedValues: (revoked) => values.push(...revoked) },
        },
        deps,
      );
      outcome.secrets.push(one);
      outcome.exitCode = worse(outcome.exitCode, one.exitCode);
    } catch (error) {
      // One secret whose cut-off was refused or rolled back (exit 3) does not stop the others;
      // exit 4 (a human must act on a half-written state) does.
      if (!isSecretsError(error) || error.exitCode === ExitCode.mustAct) throw error;
      out(`${id}: NOT revoked: ${error.toLine()}`);
      outcome.secrets.push({ secret: id, error: error.toJson(), exitCode: error.exitCode });
      outcome.exitCode = worse(outcome.exitCode, ExitCode.critical);
    }
  }

  out(`incident ${incident}: tell the team, find the leak`);
  const say = (line: string) => out(`  ${line}`);
  outcome.alert = await alertAll(input, outcome, deps);
  say(outcome.alert);
  if (input.scan !== false) {
    try {
      const found = await searchRevokedValues(policy, incident, values, deps, say);
      if (found.leaks) outcome.leaks = found.leaks;
      if (found.replacementsFile) outcome.replacementsFile = found.replacementsFile;
      if (found.leaks && found.leaks.tree.length + found.leaks.history.length > 0)
        outcome.exitCode = worse(outcome.exitCode, ExitCode.warning);
    } catch (error) {
      const message = isSecretsError(error) ? error.toLine() : error instanceof Error ? error.message : String(error);
      deps.output.err(
        `secrets: warning: the search for the revoked values failed: ${message} (run secrets scan --history)\n`,
      );
    }
  } else say('search skipped (--no-scan): run secrets scan --history to find where they leaked');
  return outcome;
}

/** One alert for the whole incident, sent after the last replacement: a replaced robot sends it. */
async function alertAll(input: RevokeManyInput, outcome: RevokeManyOutcome, deps: Deps): Promise<string> {
  const { policy } = input;
  if (outcome.secrets.length === 0) return 'team alert: not sent (nothing was revoked: only past values leaked)';
  if (!policy.doc.notify.dingtalk) return 'team alert: not sent (the policy names no notify robot)';
  const lines = [
    `- **incident**: ${outcome.incident}`,
    `- **reason**: ${input.reason ?? (outcome.leakedIn ? `leaked in ${outcome.leakedIn.revision}` : 'not given')}`,
    `- **by**: ${deps.actor} at ${deps.clock.now().toISOString()}`,
    ...outcome.secrets.map((one) =>
      'error' in one
        ? `- **${one.secret}**: NOT revoked (${one.error.code})`
        : `- **${one.secret}** (${one.kind}): cut off, ${one.replaced ? 'replaced' : `NOT replaced (${one.notReplaced ?? ''})`}`,
    ),
  ];
  try {
    await notifyTeam(
      {
        policy,
        title: `[${policy.deployment}] ${outcome.secrets.length} secret(s) revoked: ${outcome.incident}`,
        lines,
      },
      deps,
    );
    return `team alert sent through the notify robot (one message for ${outcome.secrets.length} secret(s))`;
  } catch (error) {
    const message = isSecretsError(error) ? error.toLine() : String(error);
    deps.output.err(`secrets: warning: the secrets were revoked, but the team alert failed: ${message}\n`);
    return `team alert FAILED: ${message} (tell the team another way)`;
  }
}
