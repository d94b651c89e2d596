import type { Command } from 'commander';
import { runLog } from '../../services/log.js';
import { ExitCode } from '../../core/errors.js';
import type { CliContext } from '../context.js';

export function registerLog(program: Command, ctx: CliContext): void {
  program
    .command('log')
    .description('the audit trail; --verify checks that no entry was altered or removed')
    .option('--verify', 'check the hash chain; exit 2 and name the first bad line when it is broken')
    .option('--secret <id>', 'only the events of one secret')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 2 the trail was altered (with --verify), 3 could not run.\n\nExamples:\n  secrets log\n  secrets log --secret dingtalk --json\n  secrets log --verify',
    )
    .action(async (options: { verify?: boolean; secret?: string }, command: Command) => {
      const deps = ctx.deps(command);
      const policy = await ctx.policy(command, deps);
      const outcome = await runLog(
        { policy, verify: Boolean(options.verify), ...(options.secret ? { secret: options.secret } : {}) },
        deps,
      );
      if (ctx.globals(command).json) {
        deps.output.out(
          `${JSON.stringify({ entries: outcome.entries, ...(outcome.verification ? { verification: outcome.verification } : {}) }, null, 2)}\n`,
        );
      } else if (!options.verify) {
        for (const entry of outcome.entries) {
          const what = [entry.secret, entry.fingerprint ? `new ${entry.fingerprint}` : undefined]
            .filter(Boolean)
            .join(' ');
          const details = entry.details ? ` ${JSON.stringify(entry.details)}` : '';
          deps.output.out(`${entry.time}  ${entry.actor}  ${entry.action}${what ? `  ${what}` : ''}${details}\n`);
        }
      }
      if (outcome.verification) {
        const result = outcome.verification;
        if (result.ok) {
          if (!ctx.globals(command).json)
            deps.output.out(`audit trail intact: ${result.entries} entries (${outcome.path})\n`);
        } else {
          deps.output.err(`${outcome.path}:${result.badLine}: audit trail broken: ${result.reason}\n`);
          ctx.report(ExitCode.critical);
        }
      }
    });
}
