import type { Command } from 'commander';
import { SecretsError } from '../../core/errors.js';
import type { CliContext } from '../context.js';

export function registerNotify(program: Command, ctx: CliContext): void {
  program
    .command('notify')
    .description('test the DingTalk robot the policy notifies (notify.dingtalk), with the current URL and secret')
    .option('--test', 'send a signed test message (the only action so far)')
    .addHelpText(
      'after',
      '\nExit codes: 0 DingTalk answered errcode 0, 3 it did not (the message says why).\n\nExamples:\n  secrets notify --test',
    )
    .action(async (options: { test?: boolean }, command: Command) => {
      if (!options.test) throw new SecretsError('bad-option', 'say what to send: secrets notify --test');
      const deps = ctx.deps(command);
      const policy = await ctx.policy(command, deps);
      const { runNotifyTest } = await import('../../services/notify.js');
      const result = await runNotifyTest({ policy }, deps);
      if (ctx.globals(command).json) deps.output.out(`${JSON.stringify({ sent: true, robot: result.robot })}\n`);
      else deps.output.out(`test message accepted by ${result.robot}\n`);
    });
}
