import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp-dir.js';

/**
 * The real gpg binary in a throwaway GNUPGHOME. Keys are generated at test time, never committed.
 * Passphrases go through a mode-600 file in the temp folder (--passphrase-file), never argv.
 */
export interface GpgHome {
  home: string;
  run(args: string[], input?: string | Uint8Array): Buffer;
  /** Writes `passphrase` to a temp file and returns its path. */
  passphraseFile(passphrase: string): string;
  /** Generates a key without passphrase; `signOnly` makes a key with no encryption subkey. */
  generateKey(email: string, options?: { signOnly?: boolean; passphrase?: string }): void;
  exportPublic(email: string): string;
  exportSecret(email: string, passphrase?: string): string;
}

export function gpgHome(): GpgHome {
  const home = tempDir('secrets-gnupg-');
  const base = ['--homedir', home, '--batch', '--no-tty', '--quiet', '--pinentry-mode', 'loopback'];
  const run = (args: string[], input?: string | Uint8Array) =>
    execFileSync('gpg', [...base, ...args], { input: input ?? '', stdio: ['pipe', 'pipe', 'pipe'] });
  let counter = 0;
  const passphraseFile = (passphrase: string) => {
    const path = join(home, `pass-${++counter}`);
    writeFileSync(path, passphrase, { mode: 0o600 });
    return path;
  };
  const protect = (passphrase: string | undefined) =>
    passphrase ? ['--passphrase-file', passphraseFile(passphrase)] : ['--passphrase', ''];
  return {
    home,
    run,
    passphraseFile,
    generateKey(email, options = {}) {
      // future-default is ed25519 + cv25519: generated in milliseconds, unlike RSA.
      const algo = options.signOnly ? 'ed25519' : 'future-default';
      const usage = options.signOnly ? 'sign' : 'default';
      run([...protect(options.passphrase), '--quick-gen-key', `Test <${email}>`, algo, usage, 'never']);
    },
    exportPublic: (email) => run(['--armor', '--export', email]).toString('utf8'),
    exportSecret: (email, passphrase) =>
      run([...protect(passphrase), '--armor', '--export-secret-keys', email]).toString('utf8'),
  };
}
