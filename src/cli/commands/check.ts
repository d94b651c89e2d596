import { Command, Option } from 'commander';
import { writeFileAtomic } from '../../adapters/files.js';
import { runCheck } from '../../services/check.js';
import { dirname } from 'node:path';
import {
  ExitCode,
  SecretsError,
  errnoCode,
  isSecretsError,
  type ErrorJson,
  type ExitCodeValue,
} from '../../core/errors.js';
import type { Severity } from '../../core/checks/types.js';
import { renderCheckJson } from '../../report/check-json.js';
import { renderCheckPrometheus } from '../../report/check-prometheus.js';
import { renderCheckText } from '../../report/check-text.js';
import type { CliContext } from '../context.js';
import { palette } from '../render/color.js';

const EXIT_OF: Record<Severity, ExitCodeValue> = {
  ok: ExitCode.ok,
  warning: ExitCode.warning,
  critical: ExitCode.critical,
};

export function registerCheck(program: Command, ctx: CliContext): void {
  program
    .command('check')
    .description('rotation deadlines and compliance checks; quiet when all is well')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'prometheus']).default('text'))
    .option(
      '--notify',
      'also send the problems to the DingTalk robot of notify.dingtalk (never values; nothing when all is well)',
    )
    .option(
      '--live',
      'also prove each database and cache password in .env logs in now, and report drift (network; never with --notify)',
    )
    .option(
      '--output <file>',
      'write the report atomically to FILE instead of stdout (any format; node_exporter textfile)',
    )
    .addHelpText(
      'after',
      `
Exit codes: 0 all well, 1 warning (due soon), 2 critical (overdue, violation), 3 could not run.

Examples:
  secrets check                                  # cron: mails only when something is wrong
  secrets check --as-of 2026-04-01               # what will be due on 1 April?
  secrets check --notify                         # cron: problems to the DingTalk group
  secrets check --json
  secrets check --live                           # do the postgres/redis passwords in .env still log in?
  secrets check --format prometheus --output /var/lib/node_exporter/textfile/secrets.prom`,
    )
    .action(
      async (options: { format: string; output?: string; notify?: boolean; live?: boolean }, command: Command) => {
        const deps = ctx.deps(command);
        if (options.live && options.notify)
          // A live probe is a person's question at a terminal, not the cron job's: it never goes to DingTalk.
          throw new SecretsError('bad-option', '--live never sends to DingTalk: run it without --notify');
        const policy = await ctx.policy(command, deps);
        const outcome = await runCheck({ policy, now: ctx.asOf(command, deps), live: Boolean(options.live) }, deps);
        const format = ctx.globals(command).json ? 'json' : options.format;
        const render = (notify?: { sent: boolean; error?: ErrorJson }): string => {
          if (format === 'prometheus') return renderCheckPrometheus(outcome);
          if (format === 'json') return renderCheckJson(outcome, notify);
          // A file gets no colour codes, whatever the terminal can show.
          const colors = palette(options.output ? false : deps.output.color);
          return renderCheckText(outcome, { critical: colors.red, warning: colors.yellow });
        };
        // --output takes any format. A write that fails is one line and exit 3, not a throw: the
        // check ran, and --notify must still tell the group.
        const emit = async (text: string): Promise<void> => {
          if (!options.output) return deps.output.out(text);
          try {
            await writeFileAtomic(options.output, text, { mode: 0o644 });
          } catch (error) {
            const reason =
              errnoCode(error) === 'ENOENT'
                ? `the folder ${dirname(options.output)} does not exist`
                : (errnoCode(error) ?? String(error));
            const failure = new SecretsError('output-unwritable', `cannot write it (${reason}); nothing written`, {
              where: options.output,
            });
            deps.output.err(`secrets: ${failure.toLine()}\n`);
            ctx.report(ExitCode.failed);
          }
        };
        // JSON is written after the notification, so that the one document also says whether it went out.
        if (format !== 'json') await emit(render());
        ctx.report(EXIT_OF[outcome.status]);
        let notify: { sent: boolean; error?: ErrorJson } | undefined;
        if (options.notify) {
          // A notification that did not go out is said plainly (cron mails stderr: nobody must think
          // the group knows), but the exit code stays the check's: a critical deployment whose
          // robot is down is still critical, and exit 3 ("nothing changed, bad input") would hide it.
          try {
            const { notifyCheckOutcome } = await import('../../services/notify.js');
            notify = await notifyCheckOutcome({ policy, outcome }, deps);
          } catch (error) {
            if (!isSecretsError(error)) throw error;
            deps.output.err(
              `secrets: notify: NOT SENT: the group was not told of this check's ${outcome.findings.length} problem(s): ${error.toLine()}\n`,
            );
            if (format === 'text') deps.output.out('notification: NOT SENT (see the error above)\n');
            notify = { sent: false, error: error.toJson() };
          }
        }
        if (format === 'json') await emit(render(notify));
      },
    );
}
