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
    .option(
      '--repair',
      'after a broken --verify: record what was found and start a new chain segment (audited; the old lines stay)',
    )
    .option('--note <text>', 'with --repair: what you found out (no secret values)')
    .addHelpText(
      'after',
      '\nA broken trail stops every change (exit 3) until someone looks and runs secrets log --repair.\n\nExit codes: 0 ok, 2 the trail was altered (with --verify), 3 could not run.\n\nExamples:\n  secrets log\n  secrets log --secret dingtalk --json\n  secrets log --verify\n  secrets log --repair --note "restored audit.jsonl from last night\'s disk image"',
    )
    .action(
      async (options: { verify?: boolean; secret?: string; repair?: boolean; note?: string }, command: Command) => {
        const deps = ctx.deps(command);
        const policy = await ctx.policy(command, deps);
        if (options.repair) {
          const { repairAuditTrail } = await import('../../services/state/audit-trail.js');
          const repaired = await repairAuditTrail(policy.stateDir, deps, options.note);
          if (ctx.globals(command).json) deps.output.out(`${JSON.stringify(repaired, null, 2)}\n`);
          else if (repaired.repaired)
            deps.output.out(
              `audit trail repaired: found line ${repaired.found?.badLine}: ${repaired.found?.reason}; recorded as entry ${repaired.entry?.seq}, a new segment starts there\n`,
            );
          else deps.output.out(`audit trail intact: ${repaired.found?.entries ?? 0} entries; nothing to repair\n`);
          return;
        }
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
              deps.output.out(
                `audit trail intact: ${result.entries} entries (${outcome.path})${result.repairedAt ? `; repaired at line ${result.repairedAt}` : ''}${result.pendingHead ? '; the last line was written just before a crash (its head is completed by the next change)' : ''}\n`,
              );
          } else {
            deps.output.err(`${outcome.path}:${result.badLine}: audit trail broken: ${result.reason}\n`);
            ctx.report(ExitCode.critical);
          }
        }
      },
    );
}
