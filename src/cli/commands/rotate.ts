import type { Command } from 'commander';
import type { runRotate as RunRotate, RotateOutcome } from '../../services/rotate.js';
import { parseLockWait as parseWait } from '../lock-wait.js';
import { ExitCode, SecretsError } from '../../core/errors.js';
import type { CliContext } from '../context.js';

function renderJson(outcome: RotateOutcome): string {
  return `${JSON.stringify(outcome, null, 2)}\n`;
}

/**
 * With --json, a run that failed part-way still reports what it did (rotated, failed): the
 * outcome is printed and src/cli/main.ts adds the error to that one document.
 */
async function runRotateReportingJson(
  input: Parameters<typeof RunRotate>[0],
  deps: Parameters<typeof RunRotate>[1],
  onFailure?: (outcome: RotateOutcome) => void,
): Promise<RotateOutcome> {
  // Loaded on demand: the rotation engine is not part of every command's start-up.
  const { runRotate, RotateFailedError } = await import('../../services/rotate.js');
  try {
    return await runRotate(input, deps);
  } catch (error) {
    if (onFailure && error instanceof RotateFailedError) onFailure(error.outcome);
    throw error;
  }
}

export function registerRotate(program: Command, ctx: CliContext): void {
  program
    .command('rotate')
    .description('rotate the named secrets, or every one that is due: create → test → swap → record')
    .argument('[id...]', 'secret ids from the policy (default: all due or within warn_before)')
    .option('--dry-run', 'show the plan (files, keys, hooks) and change nothing')
    .option('-y, --yes', 'no confirmation prompt (manual secrets: the steps are done)')
    .option('--wait [seconds]', 'wait for another rotation to finish (default 600 s) instead of failing at once')
    .option(
      '--recover',
      'only finish or roll back a rotation that was interrupted (here, and a shared one in the fleet)',
    )
    .option(
      '--partial-ok',
      'shared secrets: hosts that do not apply the new version in time leave it pending (exit 1) instead of rolling the fleet back',
    )
    .option(
      '--password-stdin',
      'htpasswd: read the new password from standard input (one line) instead of generating one',
    )
    .option('--password-prompt', 'htpasswd: type the new password at a hidden prompt (twice) instead of generating one')
    .option(
      '--add',
      'add a policy env_key the env file does not have yet (refused otherwise: the app may read another key)',
    )
    .option(
      '--request <file>',
      'two-person approval: write a change request for the named secrets to FILE; rotate nothing',
    )
    .option('--ticket <id>', 'with --request: the change ticket id recorded in the request and the audit trail')
    .option(
      '--key <file>',
      'with --request: your armored private key; it signs the request and marks you as the requester',
    )
    .option('--passphrase-env <name>', 'the variable holding the --key passphrase (default SECRETS_KEY_PASSPHRASE)')
    .option('--approved <file>', 'run exactly the plan of this change request, once enough approvers have signed it')
    .option(
      '--signature <file>',
      'with --approved: a signature kept elsewhere than REQUEST.*.sig (repeatable)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .addHelpText(
      'after',
      `
New values never come from the command line (ps and shell history keep it): a hidden prompt on a
terminal, or standard input in dotenv form with the policy's key names. An htpasswd password is
generated (shown once on the terminal, or encrypted to the policy's deliver: recipients), or
typed (--password-prompt), or one line of standard input (--password-stdin).

Two-person approval (the policy's approval: section): secrets under approval.applies_to rotate
only from a signed change request: secrets rotate ID --request FILE [--ticket T] [--key KEY];
each approver: secrets approve FILE --key THEIR-KEY; then secrets rotate --approved FILE. A plain
secrets rotate of such a secret is refused (exit 3). See docs/approval.md.

Exit codes: 0 rotated (or nothing due), 3 refused or failed with nothing changed (the test send
failed, a hook failed and the files were rolled back, locked), 4 failed part-way and could not
roll back: the message says exactly what to do.

Examples:
  secrets rotate --dry-run                       # what is due, which files and hooks
  secrets rotate dingtalk                        # asks for the new robot URL and secret
  printf 'DINGTALK_WEBHOOK_URL=%s\\nDINGTALK_SECRET=%s\\n' "$URL" "$SEC" | secrets rotate dingtalk --yes
  secrets rotate jwt-secret --yes --wait 60
  secrets rotate dashboard-password              # generated; shown once here after the probe passed
  pass show dashboard | secrets rotate dashboard-password --password-stdin --yes
  secrets rotate --recover                       # after a crash or a power cut
  secrets rotate jwt-secret --yes --partial-ok   # shared: a host that is down catches up later

A shared secret (shared: true, docs/fleet.md) is rotated once for every host of the fleet: each
host applies it through its own secrets sync; exit 0 once every host has it, 3 rolled back
(a host failed or did not answer within fleet.apply_timeout), 1 pending on hosts (--partial-ok).`,
    )
    .action(
      async (
        ids: string[],
        options: {
          dryRun?: boolean;
          yes?: boolean;
          wait?: string | boolean;
          recover?: boolean;
          passwordStdin?: boolean;
          passwordPrompt?: boolean;
          add?: boolean;
          request?: string;
          ticket?: string;
          key?: string;
          passphraseEnv?: string;
          approved?: string;
          signature?: string[];
          partialOk?: boolean;
        },
        command: Command,
      ) => {
        const deps = ctx.deps(command);
        const policy = await ctx.policy(command, deps);
        if (options.recover && ids.length > 0)
          throw new SecretsError(
            'bad-option',
            '--recover takes no secret ids: it finishes whatever rotation was interrupted',
          );
        if (options.request !== undefined) {
          if (options.approved !== undefined || options.recover || options.dryRun)
            throw new SecretsError(
              'bad-option',
              '--request only writes a request: not with --approved, --recover or --dry-run',
            );
          const { runRequestChange } = await import('../../services/request-change.js');
          const asJson = Boolean(ctx.globals(command).json);
          const requestDeps = asJson ? { ...deps, output: { ...deps.output, out: deps.output.err } } : deps;
          const made = await runRequestChange(
            {
              policy,
              ids,
              requestPath: options.request,
              ...(options.ticket !== undefined ? { ticket: options.ticket } : {}),
              ...(options.key !== undefined
                ? {
                    key: {
                      keyFile: options.key,
                      ...(options.passphraseEnv ? { passphraseEnv: options.passphraseEnv } : {}),
                    },
                  }
                : {}),
              now: ctx.asOf(command, deps),
            },
            requestDeps,
          );
          if (asJson) deps.output.out(`${JSON.stringify(made, null, 2)}\n`);
          return;
        }
        if (options.ticket !== undefined || options.key !== undefined)
          throw new SecretsError(
            'bad-option',
            '--ticket and --key go with --request (the ticket of an approved run is in the request)',
          );
        if (options.approved !== undefined && (ids.length > 0 || options.recover))
          throw new SecretsError('bad-option', '--approved runs the secrets of the request: name no ids, no --recover');
        if (options.signature && options.approved === undefined)
          throw new SecretsError('bad-option', '--signature goes with --approved');
        const waitMs = parseWait(options.wait);
        if (options.passwordStdin && options.passwordPrompt)
          throw new SecretsError('bad-option', '--password-stdin and --password-prompt exclude each other');
        // One line of standard input is one password: it cannot serve two secrets.
        if (options.passwordStdin && ids.length !== 1 && options.approved === undefined)
          throw new SecretsError('bad-option', '--password-stdin needs exactly one secret id');
        const passwordFrom = options.passwordStdin ? 'stdin' : options.passwordPrompt ? 'prompt' : undefined;
        const json = Boolean(ctx.globals(command).json);
        // With --json, stdout holds the JSON document only; the step lines go to stderr.
        const runDeps = json ? { ...deps, output: { ...deps.output, out: deps.output.err } } : deps;
        const outcome = await runRotateReportingJson(
          {
            policy,
            ids,
            dryRun: Boolean(options.dryRun),
            yes: Boolean(options.yes),
            ...(passwordFrom ? { passwordFrom } : {}),
            recoverOnly: Boolean(options.recover),
            addKeys: Boolean(options.add),
            ...(options.partialOk ? { partialOk: true } : {}),
            ...(options.approved !== undefined
              ? { approved: { requestPath: options.approved, signatures: options.signature ?? [] } }
              : {}),
            ...(waitMs === undefined ? {} : { waitMs }),
            now: ctx.asOf(command, deps),
          },
          runDeps,
          json ? (partial) => deps.output.out(renderJson(partial)) : undefined,
        );
        if (json) deps.output.out(renderJson(outcome));
        else if (outcome.rotated.length > 0)
          deps.output.out(`rotated: ${outcome.rotated.map((item) => item.id).join(', ')}\n`);
        const partial = outcome.rotated.filter((item) => item.pendingOn && item.pendingOn.length > 0);
        for (const item of partial)
          deps.output.err(
            `secrets: ${item.id}: the new version is pending on ${item.pendingOn!.join(', ')} (--partial-ok); their next secrets sync applies it\n`,
          );
        if (partial.length > 0) ctx.report(ExitCode.warning);
        if (outcome.skipped.length > 0) {
          deps.output.err(`secrets: not rotated (not confirmed): ${outcome.skipped.join(', ')}\n`);
          ctx.report(ExitCode.failed);
        }
      },
    );
}
