import type { Command } from 'commander';
import type { RevokeOutcome } from '../../services/revoke.js';
import type { RevokeManyOutcome } from '../../services/revoke-many.js';
import { parseLockWait as parseWait } from '../lock-wait.js';
import { SecretsError } from '../../core/errors.js';
import { parseDate } from '../../core/duration.js';
import type { CliContext } from '../context.js';

interface RevokeOptions {
  reason?: string;
  incident?: string;
  lockOnly?: boolean;
  scan?: boolean;
  yes?: boolean;
  passwordStdin?: boolean;
  passwordPrompt?: boolean;
  wait?: string | boolean;
  all?: boolean;
  leakedIn?: string;
  past?: boolean;
  current?: boolean;
  since?: string;
}

function summary(outcome: RevokeOutcome): string {
  if (!outcome.replaced) return `revoked, NOT replaced: ${outcome.secret} (${outcome.notReplaced ?? ''})\n`;
  const found = outcome.leaks ? outcome.leaks.tree.length + outcome.leaks.history.length : 0;
  if (outcome.preImages)
    return `revoked and replaced WITHOUT an encrypted backup: ${outcome.secret} (previous content in ${outcome.preImages.map((kept) => kept.dir).join(', ')})\n`;
  return `revoked and replaced: ${outcome.secret}${found > 0 ? `; the old value is still in ${found} place(s) listed above` : ''}\n`;
}

function manySummary(outcome: RevokeManyOutcome): string {
  const lines = outcome.secrets.map((one) =>
    'error' in one ? `  ${one.secret}: NOT revoked (${one.error.code})` : `  ${summary(one).trimEnd()}`,
  );
  const file = outcome.replacementsFile ? [`  one purge file for every value: ${outcome.replacementsFile}`] : [];
  return [`incident ${outcome.incident}: ${outcome.secrets.length} secret(s)`, ...lines, ...file, ''].join('\n');
}

export function registerRevoke(program: Command, ctx: CliContext): void {
  program
    .command('revoke')
    .description('incident response: cut a leaked secret off now, replace it, tell the team, show where it leaked')
    .argument('[ids...]', 'secret ids from the policy (several: one incident, one alert, one purge file)')
    .option('--all', 'every managed secret (".env was on a stolen laptop")')
    .option('--since <date>', 'access log: list logins from this date (YYYY-MM-DD; default: the last rotation)')
    .option('--past', 'a past value leaked: write the purge file for it; the live secret is not touched')
    .option('--current', 'the current value leaked: revoke it even when only a past value is found')
    .option('--leaked-in <rev>', 'every managed secret whose value appears in that commit or range (A..B)')
    .option('--reason <text>', 'why (recorded in the audit trail and the team alert)')
    .option('--incident <id>', 'incident ticket id (recorded and sent with the alert)')
    .option('--lock-only', 'htpasswd, dingtalk: stop after the cut-off; replace later with secrets rotate ID')
    .option('--no-scan', 'skip the search of the working tree and history for the revoked value')
    .option('-y, --yes', 'no prompt at all (cron, scripts, a responder in a hurry)')
    .option('--password-stdin', 'htpasswd: read the new password from standard input (one line)')
    .option('--password-prompt', 'htpasswd: type the new password at a hidden prompt')
    .option('--wait [seconds]', 'wait for a running rotation to finish (default 600 s) instead of failing at once')
    .addHelpText(
      'after',
      `
Steps, each printed: 1 cut off (htpasswd: the user's line becomes a hash no password matches,
hooks reload nginx, the probe proves the old password gets 401; dingtalk: the pair is blanked
in .env, alerts pause; random: a new value at once; manual: recorded), 2 record ("revoked" in
the audit trail, fingerprint only), 3 replace (a normal rotation; dingtalk: the new pair from
standard input or the prompt, after a signed test send), 4 tell the team through the notify
robot (the leaked robot only once its new pair is in place) and search the working tree and every commit for the
revoked value. When it is found, a replacements file for git filter-repo is written into the
state folder (mode 600: it holds the value) and the purge command is printed.

Exit codes: 0 revoked and replaced; 1 revoked and replaced, but the old value is still in the
working tree or history (purge it); 2 revoked but NOT replaced (--lock-only, no new robot pair
yet, a manual secret, a refused replacement, or written without an encrypted backup because
the backup configuration is missing or broken: the previous content is then kept, mode 600, in
the state folder's pre-images/): secrets check stays critical until secrets rotate
ID; 3 nothing changed (bad input, not confirmed, locked, the cut-off failed and was rolled
back); 4 failed part-way and could not roll back: the message says what to do.

Several at once (secrets revoke A B, --all, --leaked-in REV): one incident id, each secret
cut off, recorded and replaced in turn (the notify robot last unless it leaked), then one team
alert for all of them and one purge file for every value.

Examples:
  secrets revoke --leaked-in 3f2a9c1 --reason ".env committed" --yes
  secrets revoke dashboard-password --reason "password in a chat" --incident INC-42 --yes
  secrets revoke dashboard-password --lock-only --yes                  # lock out now, rotate later
  printf 'DINGTALK_WEBHOOK_URL=%s\\nDINGTALK_SECRET=%s\\n' "$URL" "$SEC" | secrets revoke dingtalk --yes
  secrets revoke jwt-secret --reason ".env committed" --no-scan --yes`,
    )
    .action(async (ids: string[], options: RevokeOptions, command: Command) => {
      const deps = ctx.deps(command);
      const policy = await ctx.policy(command, deps);
      if (options.passwordStdin && options.passwordPrompt)
        throw new SecretsError('bad-option', 'choose one of --password-stdin and --password-prompt');
      const waitMs = parseWait(options.wait);
      const json = Boolean(ctx.globals(command).json);
      // With --json, stdout holds the JSON document only; the step lines go to stderr.
      const runDeps = json ? { ...deps, output: { ...deps.output, out: deps.output.err } } : deps;
      const since = options.since === undefined ? undefined : parseDate(options.since);
      if (options.since !== undefined && !since)
        throw new SecretsError('bad-date', `--since: expected YYYY-MM-DD, got "${options.since}"`);
      if (options.past) {
        if (ids.length !== 1 || options.all || options.leakedIn !== undefined)
          throw new SecretsError('bad-option', '--past takes one secret id');
        const { runRevokePast } = await import('../../services/revocation/past-leaks.js');
        const outcome = await runRevokePast({ policy, id: ids[0]! }, runDeps);
        if (json) deps.output.out(`${JSON.stringify(outcome, null, 2)}\n`);
        ctx.report(outcome.exitCode);
        return;
      }
      const many = ids.length !== 1 || Boolean(options.all) || options.leakedIn !== undefined;
      if (!many && ids.length === 0) throw new SecretsError('usage', 'name a secret, or use --all or --leaked-in REV');
      if (many && options.lockOnly)
        throw new SecretsError('bad-option', '--lock-only takes one secret; revoke the others without it');
      // What one revocation and several take alike.
      const shared = {
        ...(options.reason ? { reason: options.reason } : {}),
        ...(options.incident ? { incident: options.incident } : {}),
        scan: options.scan !== false,
        yes: Boolean(options.yes),
        ...(options.passwordStdin
          ? { passwordFrom: 'stdin' as const }
          : options.passwordPrompt
            ? { passwordFrom: 'prompt' as const }
            : {}),
        ...(waitMs === undefined ? {} : { waitMs }),
        now: ctx.asOf(command, deps),
      };
      if (many) {
        const { runRevokeMany } = await import('../../services/revoke-many.js');
        const outcome = await runRevokeMany(
          {
            policy,
            ids,
            all: Boolean(options.all),
            ...(options.leakedIn !== undefined ? { leakedIn: options.leakedIn } : {}),
            ...shared,
          },
          runDeps,
        );
        deps.output.out(json ? `${JSON.stringify(outcome, null, 2)}\n` : manySummary(outcome));
        ctx.report(outcome.exitCode);
        return;
      }
      const id = ids[0]!;
      const { runRevoke } = await import('../../services/revoke.js');
      const outcome = await runRevoke(
        {
          policy,
          id,
          ...(options.current ? { currentLeaked: true } : {}),
          ...(since ? { since } : {}),
          lockOnly: Boolean(options.lockOnly),
          ...shared,
        },
        runDeps,
      );
      deps.output.out(json ? `${JSON.stringify(outcome, null, 2)}\n` : summary(outcome));
      ctx.report(outcome.exitCode);
    });
}
