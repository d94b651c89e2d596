import type { Command } from 'commander';
import type { BackupAccess, BackupListing } from '../../services/backup.js';
import { SecretsError } from '../../core/errors.js';
import type { CliContext } from '../context.js';

const ACCESS_TEXT: Record<BackupAccess, string> = {
  opens: 'opens with the passphrase',
  'recipient-key': 'for a configured recipient (restore --key)',
  'needs-passphrase': 'needs the passphrase (not set)',
  'wrong-passphrase': 'does NOT open with the configured passphrase (wrong passphrase, or damaged)',
  'other-keys': 'for keys not in the policy',
  damaged: 'damaged or not an OpenPGP message',
};

function formatSize(bytes: number): string {
  return bytes < 1024
    ? `${bytes} B`
    : bytes < 1024 * 1024
      ? `${(bytes / 1024).toFixed(1)} KiB`
      : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function listingText(listings: BackupListing[]): string {
  if (listings.length === 0) return 'no backups yet; run secrets backup\n';
  return listings
    .map((entry) => {
      const when = entry.date
        .toISOString()
        .replace(/:\d{2}\.\d{3}Z$/, 'Z')
        .replace('T', ' ');
      const inside = entry.files ? `\n    ${entry.files.join(', ') || '(empty)'}` : '';
      return `${when}  ${formatSize(entry.size).padStart(9)}  ${entry.name}  ${ACCESS_TEXT[entry.access]}${inside}\n`;
    })
    .join('');
}

/** The honest part of --adopt: unlinking a file does not erase its old blocks. */
const ADOPT_NOTE =
  'The plaintext was unlinked, not overwritten: on journaling, copy-on-write (btrfs, ZFS) and SSD storage an overwrite\n' +
  'does not reliably reach the old blocks, so its bytes may survive on the disk. If it held secrets still in use, rotate\n' +
  'them (secrets rotate).\n';

export function registerBackup(program: Command, ctx: CliContext): void {
  program
    .command('backup')
    .description('encrypted (OpenPGP) backup of the secret files, that gpg --decrypt can open')
    .option('--list', 'list backups: date, size, files inside, whether the configured material opens them')
    .option('--prune', 'delete backups older than backup.keep (the newest is always kept)')
    .option('--dry-run', 'with --prune: show what would be deleted')
    .option(
      '--adopt <file>',
      'encrypt a plaintext copy found by `secrets check` into a backup, verify it, remove the copy',
    )
    .option('--reason <text>', 'why, for the audit trail (no secret values)', 'manual')
    .addHelpText(
      'after',
      `
The passphrase comes from the variable named by backup.passphrase_env in the policy or, on a terminal,
a hidden prompt asked twice; backup.recipients (armored public key files) need no passphrase at all.
Never pass a passphrase on the command line.

Exit codes: 0 done, 3 could not run or failed with nothing changed (no passphrase, unwritable folder,
verification failed), 4 --adopt encrypted the copy but could not remove it (the message says what to do).

Examples:
  SECRETS_BACKUP_PASSPHRASE=... secrets backup   # writes backups/<deployment>-<UTC time>.tar.gpg, verified
  secrets backup --list
  secrets backup --prune --dry-run
  secrets backup --adopt .env.backup.1700000000  # the old cp .env .env.backup habit, encrypted and removed
  gpg --decrypt backups/mt5-crs-20261124T120000Z.tar.gpg | tar -xv   # no secrets tool needed`,
    )
    .action(
      async (
        options: { list?: boolean; prune?: boolean; dryRun?: boolean; adopt?: string; reason: string },
        command: Command,
      ) => {
        const chosen = [options.list, options.prune, options.adopt !== undefined].filter(Boolean).length;
        if (chosen > 1) throw new SecretsError('backup-options', '--list, --prune and --adopt go one at a time');
        if (options.dryRun && !options.prune) throw new SecretsError('backup-options', '--dry-run goes with --prune');
        const deps = ctx.deps(command);
        const policy = await ctx.policy(command, deps);
        const json = ctx.globals(command).json;
        // Loaded on use, so the backup code stays out of the chunk `secrets check` starts with.
        const { adoptPlaintext, createBackup, listBackups, pruneBackups } = await import('../../services/backup.js');

        if (options.list) {
          const listings = await listBackups({ policy }, deps);
          deps.output.out(
            json
              ? `${JSON.stringify(
                  listings.map((entry) => ({ ...entry, date: entry.date.toISOString() })),
                  null,
                  2,
                )}\n`
              : listingText(listings),
          );
          return;
        }
        if (options.prune) {
          const result = await pruneBackups({ policy, dryRun: Boolean(options.dryRun) }, deps);
          if (json) deps.output.out(`${JSON.stringify({ ...result, dryRun: Boolean(options.dryRun) })}\n`);
          else {
            const verb = options.dryRun ? 'would delete' : 'deleted';
            for (const name of result.removed) deps.output.out(`${verb} ${name}\n`);
            deps.output.out(
              `${result.removed.length === 0 ? 'nothing older than ' + policy.doc.backup.keep + ' to delete' : `${verb} ${result.removed.length}`}; kept ${result.kept.length}\n`,
            );
          }
          return;
        }
        if (options.adopt !== undefined) {
          const result = await adoptPlaintext({ policy, file: options.adopt }, deps);
          if (json)
            deps.output.out(
              `${JSON.stringify({ backup: result.backup.path, removed: result.removed, overwritten: false })}\n`,
            );
          else
            deps.output.out(
              `encrypted ${result.removed} into ${result.backup.path} (verified) and removed it.\n${ADOPT_NOTE}`,
            );
          return;
        }
        const result = await createBackup({ policy, reason: options.reason }, deps);
        if (json) deps.output.out(`${JSON.stringify(result, null, 2)}\n`);
        else
          deps.output.out(
            `backup written and verified: ${result.path}\n${result.files.map((file) => `  ${file.path} (${formatSize(file.size)})\n`).join('')}`,
          );
      },
    );
}
