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

/** Letters split where a capital follows a lower-case letter: MT5Hub → MT, Hub; SummerSecure → Summer, Secure. */
function letterParts(password: string): string[] {
  return (password.match(/[A-Za-z]+/g) ?? []).flatMap((run) => run.split(/(?<=[a-z])(?=[A-Z])/));
}

/**
 * A year with words and symbols around it, in any order — `Word@2025!Secure`, `MT5Hub@2026!Secure`,
 * `2026!Summer` — the scheme people use to satisfy composition rules and then bump each year;
 * guessers try it first. Recognised as: a 19xx/20xx year, letters that all read as words
 * (Capitalised, lower-case or a short ACRONYM, one of three letters or more), at most two other
 * short numbers, and few runs in all (a random password has many more).
 */
export function looksLikeYearPattern(password: string): boolean {
  const runs = password.match(/[A-Za-z]+|[0-9]+|[^A-Za-z0-9]+/g) ?? [];
  if (runs.length > 9) return false;
  const digitRuns = runs.filter((run) => /^[0-9]+$/.test(run));
  const years = digitRuns.filter((run) => /^(19|20)\d{2}$/.test(run));
  if (years.length === 0 || digitRuns.length - years.length > 2) return false;
  if (digitRuns.some((run) => run.length > 4)) return false;
  const parts = letterParts(password);
  const wordLike = (part: string) => /^[A-Z]?[a-z]{2,}$/.test(part) || /^[A-Z]{2,6}$/.test(part);
  return parts.length > 0 && parts.every(wordLike) && parts.some((part) => part.length >= 3);
}

/**
 * The length of the longest part that appears twice without overlapping (`Summer2026!Summer2026`:
 * 10). Such a password is half as long as it looks to a guesser who tries doubled words.
 */
export function longestRepeatedPart(password: string): number {
  const chars = [...password];
  let best = 0;
  for (let length = Math.floor(chars.length / 2); length > best; length--) {
    const seen = new Map<string, number>();
    for (let start = 0; start + length <= chars.length; start++) {
      const part = chars.slice(start, start + length).join('');
      const first = seen.get(part);
      if (first === undefined) seen.set(part, start);
      else if (start - first >= length) return length;
    }
  }
  return best;
}

/**
 * The passwords that differ from `password` only in its numbers, nearest first: each number
 * (and all of them together) one to five lower, then one or two higher — what an operator who
 * "rotates" by bumping a year or a counter had before. At most `limit`, never `password` itself.
 */
export function digitVariants(password: string, limit: number): string[] {
  const pieces = password.split(/(\d+)/);
  const numbered = pieces.flatMap((piece, index) => (/^\d+$/.test(piece) ? [index] : []));
  if (numbered.length === 0) return [];
  const shifted = (indexes: number[], delta: number): string | undefined => {
    const copy = [...pieces];
    for (const index of indexes) {
      const next = Number(copy[index]) + delta;
      if (next < 0 || !Number.isSafeInteger(next)) return undefined;
      copy[index] = String(next).padStart(copy[index]!.length, '0');
    }
    return copy.join('');
  };
  const variants = new Set<string>();
  for (const delta of [-1, 1, -2, 2, -3, -4, -5]) {
    for (const index of numbered) variants.add(shifted([index], delta) ?? password);
    if (numbered.length > 1) variants.add(shifted(numbered, delta) ?? password);
  }
  variants.delete(password);
  return [...variants].slice(0, limit);
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
  if (text.length > 0 && longestRepeatedPart(text) >= Math.max(4, Math.ceil(text.length / 3)))
    problems.push('it repeats the same part twice (like Summer2026!Summer2026)');
  if (context.seenFingerprints.has(context.fingerprintOf(password)))
    problems.push('it was used before for this secret (the audit trail has its fingerprint)');
  return problems;
}
