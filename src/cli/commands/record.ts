import type { Command } from 'commander';
import { runRecord } from '../../services/record.js';
import { parseDate, formatDay } from '../../core/duration.js';
import { SecretsError } from '../../core/errors.js';
import type { CliContext } from '../context.js';

export function registerRecord(program: Command, ctx: CliContext): void {
  program
    .command('record')
    .description('record that a secret was rotated out of band (first adoption, a manual secret)')
    .argument('<id>', 'the secret id from the policy')
    .option('--on <date>', 'when it was rotated (YYYY-MM-DD); default today')
    .option('--note <text>', 'a note for the audit trail (no secret values)')
    .addHelpText(
      'after',
      '\nExit codes: 0 recorded, 3 could not run (unknown id, bad date).\n\nExamples:\n  secrets record postgres-password --on 2026-09-30\n  secrets record dingtalk --note "adopted from the old runbook"',
    )
    .action(async (id: string, options: { on?: string; note?: string }, command: Command) => {
      const deps = ctx.deps(command);
      const policy = await ctx.policy(command, deps);
      const on = options.on === undefined ? deps.clock.now() : parseDate(options.on);
      if (!on) throw new SecretsError('bad-date', `--on: expected a date like 2026-09-30, got "${options.on}"`);
      const outcome = await runRecord({ policy, id, on, ...(options.note ? { note: options.note } : {}) }, deps);
      if (ctx.globals(command).json)
        deps.output.out(`${JSON.stringify({ recorded: outcome.id, on: outcome.on.toISOString() })}\n`);
      else deps.output.out(`recorded: ${outcome.id} rotated on ${formatDay(outcome.on)}\n`);
    });
}
