import { parseDate, parseDuration, formatDay } from '../../core/duration.js';
import { SecretsError } from '../../core/errors.js';
import type { SecretProposal } from '../../core/env-classifier.js';
import { DEFAULT_BACKUP_PASSPHRASE_ENV } from '../../kinds/policy-draft.js';
import type { Deps } from '../deps.js';

/** What init needs to know beyond the `.env`: from flags, or asked on a terminal. */
export interface InitAnswers {
  /** Ids of the proposals to manage. */
  selected: string[];
  rotateEvery: string;
  /** Paths as typed (relative to the current folder) or absolute. */
  htpasswd?: { file: string; user: string };
  recipients: string[];
  passphraseEnv?: string;
  /** When the secrets were last rotated; undefined records nothing. */
  adoptedOn?: Date;
}

/** The flags init takes, before they become answers. */
export interface InitFlags {
  htpasswd?: { file: string; user?: string };
  interval?: string;
  recipients: string[];
  passphraseEnv?: string;
  adoptedOn?: Date;
}

export const DEFAULT_INTERVAL = '90d';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function requireDuration(text: string, flag: string): string {
  if (!parseDuration(text))
    throw new SecretsError('bad-duration', `${flag}: expected a duration like 90d, got "${text}"`);
  return text.trim();
}

function requireEnvName(text: string, flag: string): string {
  if (!ENV_NAME.test(text))
    throw new SecretsError(
      'bad-env-name',
      `${flag}: expected an environment variable name like ${DEFAULT_BACKUP_PASSPHRASE_ENV}, got "${text}"`,
    );
  return text;
}

/**
 * Answers from flags alone (no terminal, or --yes): every proposal is managed, and a backup with
 * no recipient gets a passphrase variable, so `secrets backup` has a way to encrypt from day one.
 */
export function answersFromFlags(
  proposals: SecretProposal[],
  flags: InitFlags,
  htpasswdUser: string | undefined,
): InitAnswers {
  if (flags.htpasswd && !htpasswdUser) {
    throw new SecretsError('htpasswd-user', `--htpasswd ${flags.htpasswd.file}: which user's password is managed?`, {
      hint: 'pass --htpasswd-user USER',
    });
  }
  const passphraseEnv =
    flags.passphraseEnv !== undefined
      ? requireEnvName(flags.passphraseEnv, '--passphrase-env')
      : flags.recipients.length === 0
        ? DEFAULT_BACKUP_PASSPHRASE_ENV
        : undefined;
  return {
    selected: proposals.map((proposal) => proposal.id),
    rotateEvery: requireDuration(flags.interval ?? DEFAULT_INTERVAL, '--interval'),
    ...(flags.htpasswd && htpasswdUser ? { htpasswd: { file: flags.htpasswd.file, user: htpasswdUser } } : {}),
    recipients: flags.recipients,
    ...(passphraseEnv ? { passphraseEnv } : {}),
    ...(flags.adoptedOn ? { adoptedOn: flags.adoptedOn } : {}),
  };
}

/** Asks until the answer passes `parse`; three wrong answers end the run (a script typing into a pty). */
async function askUntilValid<T>(
  deps: Deps,
  message: string,
  defaultValue: string,
  parse: (text: string) => T,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const text = (await deps.prompts.input(message, defaultValue)).trim();
    try {
      return parse(text);
    } catch (error) {
      if (!(error instanceof SecretsError) || attempt >= 3) throw error;
      deps.output.err(`  ${error.message.replace(/^[^:]*: /, '')}\n`);
    }
  }
}

/**
 * Asks on a terminal, each question defaulting to its flag. Ctrl+C in any prompt is exit 3
 * (the prompt adapter's rule) and nothing has been written yet: the questions come first.
 */
export async function askInitAnswers(
  proposals: SecretProposal[],
  flags: InitFlags,
  htpasswdUsers: (file: string) => Promise<string[]>,
  deps: Deps,
): Promise<InitAnswers> {
  const selected =
    proposals.length === 0
      ? []
      : await deps.prompts.checkbox(
          'Manage which secrets? (space toggles, enter confirms)',
          // The reasons were listed just above; short names keep the list on one screen.
          proposals.map((proposal) => ({
            name: `${proposal.id} (${proposal.kind})`,
            value: proposal.id,
            checked: true,
          })),
        );

  const rotateEvery = await askUntilValid(
    deps,
    'Rotate every (e.g. 90d, 6m, 1y):',
    flags.interval ?? DEFAULT_INTERVAL,
    (text) => requireDuration(text, 'interval'),
  );

  let htpasswd: InitAnswers['htpasswd'];
  const protectedSite =
    flags.htpasswd !== undefined ||
    (await deps.prompts.confirm('Is a site behind nginx Basic Auth (an htpasswd file) to manage as well?', false));
  if (protectedSite) {
    const file = (await deps.prompts.input('htpasswd file:', flags.htpasswd?.file ?? '/etc/nginx/.htpasswd')).trim();
    const users = await htpasswdUsers(file);
    const user = (
      await deps.prompts.input(
        `user whose password rotates${users.length > 0 ? ` (in the file: ${users.join(', ')})` : ''}:`,
        flags.htpasswd?.user ?? users[0] ?? 'admin',
      )
    ).trim();
    if (file && user) htpasswd = { file, user };
  }

  const recipientText = await deps.prompts.input(
    'OpenPGP public key files that can open backups (comma-separated; empty for none):',
    flags.recipients.join(', '),
  );
  const recipients = recipientText
    .split(',')
    .map((path) => path.trim())
    .filter((path) => path !== '');
  const passphraseEnv = await askUntilValid(
    deps,
    recipients.length === 0
      ? 'Environment variable holding the backup passphrase (needed: there is no recipient):'
      : 'Environment variable holding a backup passphrase (empty for none):',
    flags.passphraseEnv ?? (recipients.length === 0 ? DEFAULT_BACKUP_PASSPHRASE_ENV : ''),
    (text) => {
      // Without recipients or a passphrase no backup can be made, and every rotation backs up first.
      if (text === '' && recipients.length === 0)
        throw new SecretsError('bad-option', 'no recipient and no passphrase variable: no backup could ever be made');
      return text === '' ? undefined : requireEnvName(text, 'passphrase variable');
    },
  );

  const today = formatDay(deps.clock.now());
  const adoptedOn = await askUntilValid(
    deps,
    'When were these secrets last rotated? (YYYY-MM-DD; empty: record nothing, check will call them never rotated)',
    flags.adoptedOn ? formatDay(flags.adoptedOn) : today,
    (text) => {
      if (text === '') return undefined;
      const date = parseDate(text);
      if (!date) throw new SecretsError('bad-date', `date: expected YYYY-MM-DD, got "${text}"`);
      return date;
    },
  );

  return {
    selected,
    rotateEvery,
    ...(htpasswd ? { htpasswd } : {}),
    recipients,
    ...(passphraseEnv ? { passphraseEnv } : {}),
    ...(adoptedOn ? { adoptedOn } : {}),
  };
}
