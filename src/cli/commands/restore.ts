import type { Command } from 'commander';
import type { RestoredFile } from '../../services/restore.js';
import { SecretsError } from '../../core/errors.js';
import type { CliContext } from '../context.js';

/** What restoring a file changes, by key name only: values never reach the terminal. */
function changeText(file: RestoredFile): string {
  switch (file.change.kind) {
    case 'identical':
      return 'identical to the live file';
    case 'new':
      return 'no live file';
    case 'differs':
      return 'differs from the live file';
    case 'env': {
      const { added, removed, changed } = file.change.diff;
      const parts = [
        added.length > 0 ? `adds ${added.join(', ')}` : '',
        removed.length > 0 ? `removes ${removed.join(', ')}` : '',
        changed.length > 0 ? `changes ${changed.join(', ')}` : '',
      ].filter(Boolean);
      return parts.length > 0 ? parts.join('; ') : 'same keys and values, other text differs';
    }
  }
}

export function registerRestore(program: Command, ctx: CliContext): void {
  program
    .command('restore')
    .description('decrypt a backup into a new folder (default) or back over the live files')
    .argument('[file]', 'the backup (ours, or any gpg --symmetric / gpg --encrypt file)')
    .option('--recover', 'only finish or undo an in-place restore (or rotation) that a crash interrupted')
    .option('--to <dir>', 'restore into this new folder (default: <backup>.restored beside the backup)')
    .option('--key <file>', 'armored private key, for backups encrypted to a public key')
    .option(
      '--in-place',
      'replace the live files atomically (modes and owners kept), after backing up their current state',
    )
    .addHelpText(
      'after',
      `
The backup passphrase comes from backup.passphrase_env or a hidden prompt; the --key passphrase from
backup.key_passphrase_env or a hidden prompt. The summary names keys added, removed or changed — never values.

Exit codes: 0 restored, 3 nothing written (wrong passphrase or key, damaged, truncated, not a backup),
4 a human must act (recovery found a file that is neither the old nor the restored content).
--in-place is all-or-nothing: a failure puts every file back; after a crash, secrets restore --recover
(or the next rotate or restore) finishes or undoes it.

Examples:
  secrets restore backups/mt5-crs-20261124T120000Z.tar.gpg            # into a new folder, with a key diff
  secrets restore backups/mt5-crs-20261124T120000Z.tar.gpg --in-place
  secrets restore old.env.gpg --key ops-private.asc --to /root/restored`,
    )
    .action(
      async (
        file: string | undefined,
        options: { to?: string; key?: string; inPlace?: boolean; recover?: boolean },
        command: Command,
      ) => {
        if (options.inPlace && options.to)
          throw new SecretsError('restore-options', '--in-place and --to exclude each other');
        const deps = ctx.deps(command);
        const policy = await ctx.policy(command, deps);
        // Loaded on use, so the restore code stays out of the chunk `secrets check` starts with.
        const { restoreBackup, recoverRestore } = await import('../../services/restore.js');
        if (options.recover) {
          const recovered = await recoverRestore({ policy }, deps);
          deps.output.out(
            recovered
              ? `recovered: ${recovered.summary}; ${recovered.detail}\n`
              : 'nothing to recover: no restore or rotation was interrupted\n',
          );
          return;
        }
        if (!file) throw new SecretsError('restore-options', 'name the backup to restore (or pass --recover)');
        const outcome = await restoreBackup(
          {
            policy,
            file,
            ...(options.to ? { to: options.to } : {}),
            ...(options.key ? { keyFile: options.key } : {}),
            inPlace: Boolean(options.inPlace),
          },
          deps,
        );
        if (ctx.globals(command).json) {
          deps.output.out(`${JSON.stringify(outcome, null, 2)}\n`);
          return;
        }
        const where = outcome.mode === 'in-place' ? 'over the live files' : `into ${outcome.folder}`;
        deps.output.out(`restored ${outcome.files.length} file(s) from ${outcome.backup} ${where}\n`);
        for (const restored of outcome.files) deps.output.out(`  ${restored.name}: ${changeText(restored)}\n`);
        if (outcome.skipped.length > 0)
          deps.output.err(
            `not restored (not managed by the policy, or an unsafe name): ${outcome.skipped.join(', ')}\n`,
          );
        if (outcome.previousState) deps.output.out(`the state before the restore is in ${outcome.previousState}\n`);
        if (outcome.folder)
          deps.output.out(
            `${outcome.folder} holds plaintext secrets: delete it when you are done (rm -r ${outcome.folder})\n`,
          );
      },
    );
}
