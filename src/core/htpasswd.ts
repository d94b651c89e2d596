import { SecretsError } from './errors.js';

/**
 * The hash kinds Apache and nginx accept. `crypt` covers what the system crypt(3) reads: the
 * 13-character DES form and glibc's `$1$` (MD5), `$5$` (SHA-256) and `$6$` (SHA-512) forms.
 */
export type HtpasswdScheme = 'bcrypt' | 'apr1' | 'sha1' | 'crypt' | 'plain';

export interface HtpasswdEntry {
  user: string;
  hash: string;
  scheme: HtpasswdScheme;
  /** bcrypt cost, when the scheme is bcrypt. */
  cost?: number;
  /** 1-based line. */
  line: number;
}

export interface HtpasswdDocument {
  text: string;
  entries: HtpasswdEntry[];
  eol: '\n' | '\r\n';
}

const BCRYPT = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/;
const APR1 = /^\$apr1\$[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{22}$/;
const SHA1 = /^\{SHA\}[A-Za-z0-9+/]{27}=$/;
const CRYPT = /^[./A-Za-z0-9]{13}$/;
const GLIBC_CRYPT = /^\$[156]\$(rounds=\d+\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{22,86}$/;
/** A hash that announces a scheme we know but does not have its shape: a truncated or edited line. */
const LOOKS_HASHED = /^(\$2[aby]?\$|\$apr1\$|\{SHA\}|\$[156]\$)/;

export function hashScheme(hash: string): { scheme: HtpasswdScheme; cost?: number } {
  const bcrypt = BCRYPT.exec(hash);
  if (bcrypt) return { scheme: 'bcrypt', cost: Number(bcrypt[1]) };
  if (APR1.test(hash)) return { scheme: 'apr1' };
  if (SHA1.test(hash)) return { scheme: 'sha1' };
  if (CRYPT.test(hash) || GLIBC_CRYPT.test(hash)) return { scheme: 'crypt' };
  return { scheme: 'plain' };
}

/** Why a user name cannot go into an htpasswd file, or undefined when it can. */
export function htpasswdUserProblem(user: string): string | undefined {
  if (user === '') return 'the user name is empty';
  // A colon ends the user field and a line break ends the line: either would forge another entry.
  if (user.includes(':')) return 'user names cannot contain ":"';
  if (/[\r\n]/.test(user)) return 'user names cannot contain line breaks';
  if (/\s/.test(user)) return 'user names cannot contain spaces';
  return undefined;
}

/**
 * Reads an htpasswd file as Apache and nginx do: `user:hash` per line, `#` comments and blank
 * lines kept. A line without a user and a colon, or a hash that starts like a known scheme but is
 * cut short, is an error naming file:line.
 */
export function parseHtpasswd(text: string, file: string): HtpasswdDocument {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const entries: HtpasswdEntry[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index]!.replace(/\r$/, '');
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) continue;
    const where = `${file}:${index + 1}`;
    const colon = raw.indexOf(':');
    if (colon <= 0 || colon === raw.length - 1) {
      throw new SecretsError('htpasswd-syntax', 'expected user:hash', {
        where,
        hint: 'fix or remove the line, then run again',
      });
    }
    const user = raw.slice(0, colon);
    const hash = raw.slice(colon + 1);
    if (/\s/.test(user)) throw new SecretsError('htpasswd-syntax', 'user names cannot contain spaces', { where });
    const scheme = hashScheme(hash);
    if (scheme.scheme === 'plain' && LOOKS_HASHED.test(hash)) {
      throw new SecretsError(
        'htpasswd-syntax',
        `the hash of ${user} starts like a known scheme but is malformed (cut short or edited?)`,
        {
          where,
          hint: 'restore the file from a backup or remove the line',
        },
      );
    }
    entries.push({ user, hash, ...scheme, line: index + 1 });
  }
  return { text, entries, eol };
}

/**
 * The text with `user`'s line set to `user:hash`: the line is replaced in place when the user
 * exists (its line ending kept), appended otherwise. Every other byte — other users, comments,
 * blank lines, order, CRLF — stays as it was, so a diff shows exactly one line.
 */
export function setHtpasswdLine(doc: HtpasswdDocument, user: string, hash: string, file: string): string {
  const problem = htpasswdUserProblem(user);
  if (problem) throw new SecretsError('htpasswd-user', problem, { where: file });
  if (/[\r\n:]/.test(hash) || hash === '')
    throw new SecretsError('htpasswd-hash', 'a hash cannot be empty or hold ":" or line breaks', { where: file });
  const matches = doc.entries.filter((entry) => entry.user === user);
  if (matches.length > 1) {
    // Apache and nginx use the first match; a second line would keep an old hash lying around.
    throw new SecretsError(
      'htpasswd-duplicate',
      `user ${user} appears on lines ${matches.map((entry) => entry.line).join(', ')}`,
      {
        where: `${file}:${matches[1]!.line}`,
        hint: 'remove the duplicate lines, then run again',
      },
    );
  }
  const newLine = `${user}:${hash}`;
  const entry = matches[0];
  if (entry) {
    const lines = doc.text.split('\n');
    const old = lines[entry.line - 1]!;
    lines[entry.line - 1] = old.endsWith('\r') ? `${newLine}\r` : newLine;
    return lines.join('\n');
  }
  if (doc.text === '') return `${newLine}${doc.eol}`;
  const separator = doc.text.endsWith('\n') ? '' : doc.eol;
  return `${doc.text}${separator}${newLine}${doc.eol}`;
}

/** An empty document, for a file the policy allows us to create. */
export function emptyHtpasswd(): HtpasswdDocument {
  return { text: '', entries: [], eol: '\n' };
}

/** bcrypt's base64 alphabet (not RFC 4648's: `./` first, then A–Z, a–z, 0–9). */
const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/**
 * The characters bcrypt can write last. Its 23-byte digest fills 31 base64 characters, so the
 * last one carries only 4 bits (its two low bits are always zero): every fourth character.
 */
const BCRYPT_LAST_CHARS = [...BCRYPT_ALPHABET].filter((_char, index) => index % 4 === 0).join('');

/** Random bytes lockedOutHash needs: 52 characters, and the choice of the last one. */
export const LOCKED_OUT_RANDOM_BYTES = 53;

/**
 * A lock-out hash for `secrets revoke`: no password matches it, and every reader still parses it.
 *
 * Why this shape: it is a well-formed `$2y$` line (so nginx, Apache's `htpasswd -v`, bcryptjs and
 * our own parser and `check` treat it as bcrypt, answer 401 and never 500), with a random salt and
 * digest, and a last character bcrypt never produces. Every verifier computes bcrypt(password, salt)
 * and compares the whole string, so no password can ever match — not by luck, not by anyone who
 * knew the leaked hash. A `!`-prefixed line was the other choice; nginx hands unknown schemes to
 * the system crypt(3), which on some libcs fails (nginx then answers 500, not 401).
 * `randomBytes` comes from the caller: core has no randomness of its own.
 */
export function lockedOutHash(cost: number, randomBytes: Uint8Array): string {
  if (randomBytes.length < LOCKED_OUT_RANDOM_BYTES)
    throw new Error(`lockedOutHash needs ${LOCKED_OUT_RANDOM_BYTES} random bytes`);
  // 22 characters of salt and 30 of digest, then the impossible last one.
  const chars = Array.from(randomBytes.subarray(0, 52), (byte) => BCRYPT_ALPHABET[byte % 64]!);
  const lastChoices = [...BCRYPT_ALPHABET].filter((char) => !BCRYPT_LAST_CHARS.includes(char));
  const last = lastChoices[randomBytes[52]! % lastChoices.length]!;
  return `$2y$${String(cost).padStart(2, '0')}$${chars.join('')}${last}`;
}

/** Whether `hash` is a lock-out hash (a bcrypt shape whose last character bcrypt never writes). */
export function isLockedOutHash(hash: string): boolean {
  return BCRYPT.test(hash) && !BCRYPT_LAST_CHARS.includes(hash[hash.length - 1]!);
}
