import { Option, type Command } from 'commander';
import type { InitOutcome } from '../../services/init.js';
import { policyPathFrom } from '../../services/policy/load-policy.js';
import { ExitCode, SecretsError, type ExitCodeValue } from '../../core/errors.js';
import { formatDay, parseDate } from '../../core/duration.js';
import type { Severity } from '../../core/checks/types.js';
import { renderCheckJson } from '../../report/check-json.js';
import { renderCheckText } from '../../report/check-text.js';
import type { CliContext } from '../context.js';
import { palette } from '../render/color.js';

const EXIT_OF: Record<Severity, ExitCodeValue> = {
  ok: ExitCode.ok,
  warning: ExitCode.warning,
  critical: ExitCode.critical,
};

interface InitOptions {
  root?: string;
  dotenv?: string;
  envFile?: string;
  htpasswd?: string;
  htpasswdUser?: string;
  interval?: string;
  recipient: string[];
  passphraseEnv?: string;
  adoptedOn: string[];
  force?: boolean;
  yes?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function renderSummary(outcome: InitOutcome, policyShown: string): string {
  const lines = [
    `wrote ${policyShown}: ${outcome.managed.length} secret(s)${outcome.managed.length > 0 ? ` (${outcome.managed.join(', ')})` : ''}`,
  ];
  const allOn = outcome.recorded.length === outcome.managed.length && outcome.adoptedOn;
  if (allOn && outcome.recorded.every((item) => item.on.getTime() === outcome.adoptedOn!.getTime()))
    lines.push(`recorded: every secret rotated on ${formatDay(outcome.adoptedOn!)}`);
  else if (outcome.recorded.length > 0) {
    for (const item of outcome.recorded) lines.push(`recorded: ${item.id} rotated on ${formatDay(item.on)}`);
    const missing = outcome.managed.filter((id) => !outcome.recorded.some((item) => item.id === id));
    if (missing.length > 0) lines.push(`no rotation date recorded for ${missing.join(', ')}`);
  } else if (outcome.managed.length > 0)
    lines.push(
      'no rotation date recorded: check reports every secret as never rotated until you run secrets record ID --on DATE (or init again with --adopted-on)',
    );
  lines.push(
    outcome.check.findings.length === 0
      ? 'secrets check: all well'
      : `secrets check found ${outcome.check.findings.length} problem(s):`,
  );
  return `${lines.join('\n')}\n`;
}

export function registerInit(program: Command, ctx: CliContext): void {
  program
    .command('init')
    .description('asks about a deployment (or reads flags) and writes a commented policy file for it')
    .option('--root <dir>', 'the deployment folder (default: the current folder)')
    .option('--dotenv <file>', 'the .env to read (default: .env in the root)')
    // The old spelling, kept only to say what it became: node claims --env-file as its own flag.
    .addOption(new Option('--env-file <file>').hideHelp())
    .option('--htpasswd <file>', 'an nginx Basic Auth file whose password rotates too')
    .option('--htpasswd-user <user>', 'the user in --htpasswd (default: the only user in the file)')
    .option('--interval <duration>', 'how often every secret rotates (default 90d)')
    .option('--recipient <keyfile>', 'an OpenPGP public key that can open backups (repeatable)', collect, [])
    .option(
      '--passphrase-env <name>',
      'environment variable holding a backup passphrase (default without --recipient: SECRETS_BACKUP_PASSPHRASE)',
    )
    .option(
      '--adopted-on <[id=]date>',
      'record secrets as last rotated on DATE (YYYY-MM-DD): DATE for every secret, ID=DATE for one (repeatable)',
      collect,
      [],
    )
    .option('--force', 'replace an existing policy file')
    .option('-y, --yes', 'take flags and defaults without asking, even on a terminal')
    .addHelpText(
      'after',
      `
Writes --policy FILE (default ./secrets.yaml, mode 644), records --adopted-on (DATE for every
secret, ID=DATE for one), then runs secrets check once. Without --htpasswd it reads nginx -T for
the Basic Auth file and a probe URL. Reads .env only to classify its keys; never prints a value.
On a terminal it asks, each question defaulting to its flag; elsewhere, or with --yes or --json,
it never waits for input.

Exit codes: those of secrets check (0 all well, 1 warning, 2 critical), or 3 when nothing was
written (a policy already exists without --force, bad input, cancelled).

Examples:
  secrets init                                          # on a terminal: asks
  secrets init --root /opt/mt5-crs --policy /opt/mt5-crs/secrets.yaml \\
    --htpasswd /etc/nginx/.htpasswd --htpasswd-user admin \\
    --recipient keys/ops.asc --adopted-on 2026-09-30 --yes
  secrets init --dotenv .env.production --adopted-on 2026-11-01 --adopted-on wallet-private-key=2026-03-15`,
    )
    .action(async (options: InitOptions, command: Command) => {
      const deps = ctx.deps(command);
      const globals = ctx.globals(command);
      if (options.envFile !== undefined)
        throw new SecretsError(
          'renamed-option',
          `--env-file is now --dotenv: secrets init --dotenv ${options.envFile}`,
          {
            hint: 'node itself reads --env-file, so the option was renamed',
          },
        );
      let adoptedOn: Date | undefined;
      const adoptedOnById: Record<string, Date> = {};
      for (const text of options.adoptedOn) {
        const split = /^([^=]+)=(.*)$/.exec(text);
        const date = parseDate(split ? split[2]! : text);
        if (!date)
          throw new SecretsError('bad-date', `--adopted-on: expected DATE or ID=DATE like 2026-09-30, got "${text}"`);
        if (split) adoptedOnById[split[1]!.trim()] = date;
        else adoptedOn = date;
      }
      if (options.htpasswdUser !== undefined && options.htpasswd === undefined)
        throw new SecretsError('htpasswd-file', '--htpasswd-user needs --htpasswd FILE');
      const policyPath = policyPathFrom(globals.policy, deps);
      // Loaded on use: the daily `secrets check` should not pay for init's classifier and renderer.
      const { runInit } = await import('../../services/init.js');
      const outcome = await runInit(
        {
          policyPath,
          ...(options.root !== undefined ? { root: options.root } : {}),
          ...(options.dotenv !== undefined ? { envFile: options.dotenv } : {}),
          ...(options.htpasswd !== undefined
            ? {
                htpasswd: {
                  file: options.htpasswd,
                  ...(options.htpasswdUser !== undefined ? { user: options.htpasswdUser } : {}),
                },
              }
            : {}),
          ...(options.interval !== undefined ? { interval: options.interval } : {}),
          recipients: options.recipient,
          ...(options.passphraseEnv !== undefined ? { passphraseEnv: options.passphraseEnv } : {}),
          ...(adoptedOn ? { adoptedOn } : {}),
          adoptedOnById,
          force: options.force === true,
          // --json means a program reads stdout: questions would corrupt it, so it asks nothing.
          yes: options.yes === true || globals.json === true,
          now: ctx.asOf(command, deps),
        },
        deps,
      );
      if (globals.json) {
        const check = JSON.parse(renderCheckJson(outcome.check)) as unknown;
        deps.output.out(
          `${JSON.stringify({ policy: outcome.policy.path, secrets: outcome.managed, adoptedOn: outcome.adoptedOn ? formatDay(outcome.adoptedOn) : null, check }, null, 2)}\n`,
        );
      } else {
        const colors = palette(deps.output.color);
        deps.output.out(renderSummary(outcome, policyPath));
        deps.output.out(renderCheckText(outcome.check, { critical: colors.red, warning: colors.yellow }));
      }
      ctx.report(EXIT_OF[outcome.check.status]);
    });
}
