import type { Command } from 'commander';
import { SecretsError } from '../../core/errors.js';
import type { CliContext } from '../context.js';

export function registerSweep(program: Command, ctx: CliContext): void {
  program
    .command('sweep')
    .description('find stray copies of managed values on this host (.env.backup.*, swap files, shell histories)')
    .argument('[paths...]', 'where to look (default: the deployment root, /tmp, /home, /root, /var/tmp)')
    .option('--all-filesystems', 'also enter filesystems other than the one each path lives on')
    .option('--max-file-size <bytes>', 'skip files larger than this (default 5 MiB)')
    .addHelpText(
      'after',
      `
Reports each file holding a current or past value of a managed secret (past values by their
keyed fingerprint from the audit trail): path, owner, mode, age. Never prints a value.
Skips /proc, /sys, /dev, other filesystems (unless --all-filesystems), FIFOs and sockets, files
over the size limit, and the places values live by design (the env file, the state folder, the
backups); unreadable files are counted.

Exit codes: 0 nothing found; 1 only past values found; 2 a current value has a stray copy;
3 could not run.

Examples:
  secrets sweep
  sudo secrets sweep /home /root --json`,
    )
    .action(async (paths: string[], options: { allFilesystems?: boolean; maxFileSize?: string }, command: Command) => {
      const deps = ctx.deps(command);
      const policy = await ctx.policy(command, deps);
      const maxFileSize = options.maxFileSize === undefined ? undefined : Number(options.maxFileSize);
      if (maxFileSize !== undefined && !(Number.isInteger(maxFileSize) && maxFileSize > 0))
        throw new SecretsError('bad-option', '--max-file-size must be a positive number of bytes');
      const { runSweep, renderSweepText } = await import('../../services/sweep.js');
      const outcome = await runSweep(
        {
          policy,
          paths,
          allFilesystems: Boolean(options.allFilesystems),
          ...(maxFileSize === undefined ? {} : { maxFileSize }),
        },
        deps,
      );
      deps.output.out(ctx.globals(command).json ? `${JSON.stringify(outcome, null, 2)}\n` : renderSweepText(outcome));
      ctx.report(outcome.exitCode);
    });
}
