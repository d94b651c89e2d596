import { randomInt as cryptoRandomInt } from 'node:crypto';
import { Secret } from './secret.js';

/**
 * The alphabet generated passwords are drawn from: letters and digits without the look-alikes
 * (I, O, l, 0, 1), so a password read off a terminal can be typed back, plus `-`, `_` and `.`,
 * the only symbols that need no quoting in a shell, no escaping in a URL's user-info
 * (RFC 3986 "unreserved") and no escaping in YAML or .env. 60 symbols: 5.9 bits each, so the
 * default 24 characters carry about 141 bits — the strength comes from the length, not the cost.
 */
export const PASSWORD_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.';

export const MIN_PASSWORD_LENGTH = 16;
/** bcrypt reads only the first 72 bytes of a password; more would give a false sense of length. */
export const BCRYPT_MAX_PASSWORD_BYTES = 72;

export type RandomInt = (max: number) => number;

/** Bits of entropy of a generated password of `length` characters. */
export function generatedPasswordBits(length: number): number {
  return Math.floor(length * Math.log2(PASSWORD_ALPHABET.length));
}

/**
 * A password of `length` characters, each drawn uniformly (crypto.randomInt has no modulo bias).
 * It never starts or ends with a symbol, so it cannot be read as a command-line option or lose a
 * trailing dot when pasted from the end of a sentence.
 */
export function generatePassword(length: number, randomInt: RandomInt = cryptoRandomInt): Secret {
  const alphanumeric = PASSWORD_ALPHABET.replace(/[-_.]/g, '');
  let text = '';
  for (let index = 0; index < length; index++) {
    const alphabet = index === 0 || index === length - 1 ? alphanumeric : PASSWORD_ALPHABET;
    text += alphabet[randomInt(alphabet.length)]!;
  }
  return Secret.known(text);
}

export interface PasswordContext {
  user: string;
  deployment: string;
  /** Fingerprints of every value the audit trail has seen for this secret. */
  seenFingerprints: ReadonlySet<string>;
  fingerprintOf(value: Secret): string;
}

/**
 * A year with words and symbols around it — `Word@2025!Secure`, `Summer2026!` — the scheme people
 * use to satisfy composition rules and then increment each quarter; guessers try it first.
 * Recognised as: a 19xx/20xx year, one or more runs of letters that are each a word of three or more, and no more
 * than seven runs of letters, digits and symbols in all (a random password has many more).
 */
export function looksLikeYearPattern(password: string): boolean {
  const runs = password.match(/[A-Za-z]+|[0-9]+|[^A-Za-z0-9]+/g) ?? [];
  if (runs.length > 7) return false;
  const digitRuns = runs.filter((run) => /^[0-9]+$/.test(run));
  if (digitRuns.length !== 1 || !/^(19|20)\d{2}$/.test(digitRuns[0]!)) return false;
  const words = runs.filter((run) => /^[A-Za-z]+$/.test(run));
  return words.length > 0 && words.every((run) => run.length >= 3);
}

/**
 * Why a password must not be used, in words that never repeat it; empty when it is acceptable.
 * Length matters first: 16 random characters resist offline guessing even at a low bcrypt cost.
 */
export function passwordProblems(password: Secret, context: PasswordContext): string[] {
  const text = password.reveal();
  const lower = text.toLowerCase();
  const problems: string[] = [];
  if (text.length < MIN_PASSWORD_LENGTH)
    problems.push(`it has ${text.length} characters; at least ${MIN_PASSWORD_LENGTH} are needed`);
  if (Buffer.byteLength(text, 'utf8') > BCRYPT_MAX_PASSWORD_BYTES) {
    problems.push(`it is longer than ${BCRYPT_MAX_PASSWORD_BYTES} bytes, and bcrypt ignores everything past that`);
  }
  if (/[\r\n]/.test(text)) problems.push('it contains a line break');
  if (context.user.length >= 3 && lower.includes(context.user.toLowerCase()))
    problems.push(`it contains the user name "${context.user}"`);
  if (context.deployment.length >= 3 && lower.includes(context.deployment.toLowerCase()))
    problems.push(`it contains the deployment name "${context.deployment}"`);
  if (looksLikeYearPattern(text))
    problems.push('it follows a word-and-year pattern (like Word@2025!Secure) that guessers try first');
  if (text.length > 0 && new Set(text).size <= 3) problems.push('it repeats too few different characters');
  if (context.seenFingerprints.has(context.fingerprintOf(password)))
    problems.push('it was used before for this secret (the audit trail has its fingerprint)');
  return problems;
}
