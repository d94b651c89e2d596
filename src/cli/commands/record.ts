import type { Command } from 'commander';
import { runRecord } from '../../services/record.js';
import { parseDate, formatDay } from '../../core/duration.js';
import { SecretsError } from '../../core/errors.js';
import { findSecret } from '../../core/policy.js';
import type { CliContext } from '../context.js';

export function registerRecord(program: Command, ctx: CliContext): void {
  program
    .command('record')
    .description('record that a secret was rotated out of band (first adoption, a manual secret)')
    .argument('<id...>', 'secret ids from the policy (several: the same date for each)')
    .option('--on <date>', 'when it was rotated (YYYY-MM-DD); default today')
    .option('--note <text>', 'a note for the audit trail (no secret values)')
    .addHelpText(
      'after',
      '\nExit codes: 0 recorded, 3 could not run (unknown id, bad date); with several ids, all are checked before any is recorded.\n\nExamples:\n  secrets record postgres-password --on 2026-09-30\n  secrets record postgres-password wallet-private-key --on 2026-09-30\n  secrets record dingtalk --note "adopted from the old runbook"',
    )
    .action(async (ids: string[], options: { on?: string; note?: string }, command: Command) => {
      const deps = ctx.deps(command);
      const policy = await ctx.policy(command, deps);
      const on = options.on === undefined ? deps.clock.now() : parseDate(options.on);
      if (!on) throw new SecretsError('bad-date', `--on: expected a date like 2026-09-30, got "${options.on}"`);
      // Every id is checked before the first entry is written: a typo in the third records nothing.
      for (const id of ids) findSecret(policy, id);
      const unique = [...new Set(ids)];
      const recorded: Array<{ id: string; on: Date }> = [];
      for (const id of unique)
        recorded.push(await runRecord({ policy, id, on, ...(options.note ? { note: options.note } : {}) }, deps));
      if (ctx.globals(command).json) {
        const on = recorded[0]!.on.toISOString();
        deps.output.out(
          `${JSON.stringify(recorded.length === 1 ? { recorded: recorded[0]!.id, on } : { recorded: unique, on })}\n`,
        );
      } else
        for (const outcome of recorded)
          deps.output.out(`recorded: ${outcome.id} rotated on ${formatDay(outcome.on)}\n`);
    });
}
