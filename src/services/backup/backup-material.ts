import { SecretsError, errnoCode } from '../../core/errors.js';
import type { Pgp } from '../../core/ports.js';
import { resolveIn, type Policy } from '../../core/policy.js';
import { Secret } from '../../core/secret.js';
import type { Deps } from '../deps.js';

/**
 * Where the secret material of backups comes from. Passphrases come from the environment
 * variable the policy names, or from a hidden prompt on a terminal — never from argv, which
 * `ps` and shell history keep.
 */

export interface EncryptionMaterial {
  /** Armored public keys. */
  recipients: string[];
  /** Encryption (sub)key ids of those recipients, for the structural check and the audit trail. */
  recipientKeyIds: string[][];
  passphrase?: Secret;
}

/** The passphrase from `backup.passphrase_env`, if that variable is set and not empty. */
/**
 * gpg 2.2 runs out of secure memory on passphrases near 32 KiB (measured: 20000 bytes open,
 * 32768 do not); 4 KiB leaves room, and is far beyond any passphrase a person types.
 */
export const MAX_PASSPHRASE_BYTES = 4096;

/**
 * A passphrase from the environment, as the exact bytes the process received (gpg hashes bytes,
 * not characters). Refused (exit 3) when gpg could not use the same: too long, or with a line
 * break (gpg --passphrase-file reads one line).
 */
export function passphraseFromVariable(name: string, deps: Pick<Deps, 'env' | 'rawEnv'>): Secret | undefined {
  const value = deps.env[name];
  if (!value) return undefined;
  const raw = deps.rawEnv?.(name);
  const bytes = raw && !Buffer.from(raw).equals(Buffer.from(value, 'utf8')) ? raw : undefined;
  const length = bytes?.length ?? Buffer.byteLength(value);
  if (length > MAX_PASSPHRASE_BYTES)
    throw new SecretsError(
      'passphrase-too-long',
      `the passphrase in $${name} is ${length} bytes; gpg cannot use more than about ${MAX_PASSPHRASE_BYTES} (a backup it could never open); nothing was written`,
      { where: `$${name}`, hint: 'use a passphrase of 12 to 200 characters' },
    );
  if (/[\r\n]/.test(value))
    throw new SecretsError(
      'passphrase-line-break',
      `the passphrase in $${name} holds a line break; gpg reads only up to it, so gpg and secrets would disagree; nothing was written`,
      { where: `$${name}` },
    );
  return Secret.known(value, bytes);
}

export function passphraseFromEnv(policy: Policy, deps: Pick<Deps, 'env' | 'rawEnv'>): Secret | undefined {
  const name = policy.doc.backup.passphrase_env;
  return name ? passphraseFromVariable(name, deps) : undefined;
}

/** Reads the recipients' armored public keys: a file path (relative to the root) or the key inline. */
export async function readRecipients(policy: Policy, deps: Pick<Deps, 'files'>): Promise<string[]> {
  const keys: string[] = [];
  for (const entry of policy.doc.backup.recipients) {
    if (entry.trimStart().startsWith('-----BEGIN PGP PUBLIC KEY BLOCK-----')) {
      keys.push(entry);
      continue;
    }
    const path = resolveIn(policy.root, entry);
    try {
      keys.push(await deps.files.readText(path));
    } catch (error) {
      throw new SecretsError(
        'backup-recipient-unreadable',
        `cannot read the backup recipient's public key (${errnoCode(error) ?? 'unreadable'})`,
        {
          where: path,
          hint: 'export it with gpg --armor --export KEYID > FILE, or fix backup.recipients in the policy',
        },
      );
    }
  }
  return keys;
}

async function promptNewPassphrase(deps: Pick<Deps, 'prompts'>): Promise<Secret> {
  const first = await deps.prompts.password('Backup passphrase:');
  if (first === '')
    throw new SecretsError('passphrase-empty', 'an empty passphrase would not protect the backup; nothing was written');
  const second = await deps.prompts.password('Repeat the backup passphrase:');
  if (first !== second)
    throw new SecretsError('passphrase-mismatch', 'the two passphrases differ; nothing was written');
  return Secret.known(first);
}

/**
 * What a new backup is encrypted with: every recipient, plus a passphrase from the environment or
 * (on a terminal, when the policy asks for one or there is no recipient) a prompt asked twice.
 */
export async function encryptionMaterial(
  policy: Policy,
  pgp: Pgp,
  deps: Pick<Deps, 'files' | 'env' | 'interactive' | 'prompts' | 'output'>,
): Promise<EncryptionMaterial> {
  const recipients = await readRecipients(policy, deps);
  const recipientKeyIds: string[][] = [];
  for (const key of recipients) recipientKeyIds.push(await pgp.encryptionKeyIds(key));
  const envName = policy.doc.backup.passphrase_env;
  let passphrase = passphraseFromEnv(policy, deps);
  if (!passphrase && deps.interactive && (recipients.length === 0 || envName !== undefined))
    passphrase = await promptNewPassphrase(deps);
  if (!passphrase && recipients.length === 0) {
    throw new SecretsError(
      'backup-no-material',
      envName
        ? `no backup passphrase: ${envName} is not set and there is no terminal to ask on`
        : 'no way to encrypt the backup: the policy names no recipients and no passphrase source',
      {
        where: policy.path,
        hint: envName
          ? `export ${envName}, or add backup.recipients (armored public key files) to the policy`
          : 'set backup.passphrase_env (e.g. SECRETS_BACKUP_PASSPHRASE) and export it, or add backup.recipients (armored public key files)',
      },
    );
  }
  if (!passphrase && envName)
    deps.output.err(`note: ${envName} is not set; the backup is encrypted to the recipients' public keys only\n`);
  return { recipients, recipientKeyIds, ...(passphrase ? { passphrase } : {}) };
}

/** The armored private key of `restore --key FILE`, held as a Secret. */
export async function readPrivateKeyFile(path: string, deps: Pick<Deps, 'files'>): Promise<Secret> {
  try {
    return Secret.known(await deps.files.readText(path));
  } catch (error) {
    throw new SecretsError('key-unreadable', `cannot read the private key (${errnoCode(error) ?? 'unreadable'})`, {
      where: path,
    });
  }
}

/** The private key's passphrase from `backup.key_passphrase_env`, if set. */
export function keyPassphraseFromEnv(policy: Policy, deps: Pick<Deps, 'env' | 'rawEnv'>): Secret | undefined {
  const name = policy.doc.backup.key_passphrase_env;
  return name ? passphraseFromVariable(name, deps) : undefined;
}
