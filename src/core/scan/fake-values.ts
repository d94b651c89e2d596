/**
 * Fake values in the shape of real tokens, made at run time for rule examples, tests and the
 * bench. Nothing here is a real secret, and no whole token is written in the source, so the
 * repository passes its own scan.
 */
import { withBase62Crc32 } from './checksums.js';
import { shannonEntropy } from './entropy.js';

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';

export type RandomSource = () => number;

/**
 * Words that make the rules read a value as a placeholder or an example (see PLACEHOLDER_PATTERNS
 * and the generic rule's allow list). A random run of letters spells one now and then ("…jfakeb…"),
 * and a true example must never be read as a placeholder by chance: such a draw is made again.
 */
const READS_AS_PLACEHOLDER =
  /placeholder|redacted|dummy|example|sample|fake|todo|fixme|your|change|replace|insert|0123456|123456789|abcdefgh|qwerty|xxx|a1b2c3|(?:your|my)[_-]?[a-z_-]*(?:key|token|secret|pass|here)/i;

/** Draws again until the value cannot read as a placeholder (for values joined from several draws). */
function redrawn(make: () => string): string {
  for (;;) {
    const value = make();
    if (!READS_AS_PLACEHOLDER.test(value)) return value;
  }
}

/**
 * Draws `length` characters of `alphabet`, again while the draw reads as a placeholder or repeats its
 * characters so much that a rule's entropy floor refuses it (AKIA7ABA7TAIBA4IRITH: 42 draws in 200,000,
 * which made a rule's own example fail now and then).
 */
export function randomFrom(alphabet: string, length: number, random: RandomSource = Math.random): string {
  const floor = length >= 6 ? Math.min(3.2, Math.log2(Math.min(alphabet.length, length)) - 0.8) : 0;
  for (;;) {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)];
    // A long body (a megabyte for the backtracking tests) spells some placeholder word by chance every time.
    if (length > 1000 || (!READS_AS_PLACEHOLDER.test(out) && shannonEntropy(out) >= floor)) return out;
  }
}

export const fake = {
  alnum: (n: number) => randomFrom(UPPER + LOWER + DIGITS, n),
  lowerAlnum: (n: number) => randomFrom(LOWER + DIGITS, n),
  upperAlnum: (n: number) => randomFrom(UPPER + DIGITS, n),
  letters: (n: number) => randomFrom(UPPER + LOWER, n),
  lower: (n: number) => randomFrom(LOWER, n),
  hex: (n: number) => randomFrom('0123456789abcdef', n),
  digits: (n: number) => randomFrom(DIGITS, n),
  base64: (n: number) => randomFrom(UPPER + LOWER + DIGITS + '+/', n),
  base64url: (n: number) => randomFrom(UPPER + LOWER + DIGITS + '-_', n),
  base32: (n: number) => randomFrom('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', n),
  /** A password-like value: mixed case, digits and a symbol. */
  password: (n = 16) =>
    redrawn(() => randomFrom(UPPER, 1) + randomFrom(LOWER, Math.max(1, n - 4)) + randomFrom(DIGITS, 2) + '!'),
  uuid: () =>
    `${randomFrom('0123456789abcdef', 8)}-${randomFrom('0123456789abcdef', 4)}-4${randomFrom('0123456789abcdef', 3)}-a${randomFrom('0123456789abcdef', 3)}-${randomFrom('0123456789abcdef', 12)}`,
  /**
   * A GitHub (`ghp_`, `gho_`, …) or npm (`npm_`) token body that passes the providers' checksum:
   * 30 random characters and their CRC32 in base62. `github('ghp_')` is a whole fake token.
   */
  checksummed: () => withBase62Crc32(randomFrom(UPPER + LOWER + DIGITS, 30)),
  /** The same with one of the 30 random characters changed: the checksum fails. */
  badChecksum: () => {
    const body = withBase62Crc32(randomFrom(UPPER + LOWER + DIGITS, 30));
    const at = Math.floor(Math.random() * 30);
    const swapped = body[at] === 'a' ? 'b' : 'a';
    return body.slice(0, at) + swapped + body.slice(at + 1);
  },
  github: (prefix: 'ghp_' | 'gho_' | 'ghu_' | 'ghs_' | 'ghr_' = 'ghp_') =>
    prefix + withBase62Crc32(randomFrom(UPPER + LOWER + DIGITS, 30)),
  /**
   * A PyPI upload token: `pypi-` and a macaroon built the way PyPI's are (version 2: location
   * pypi.org, a 36-byte identifier, no caveats, a 32-byte signature), random bytes inside.
   */
  pypiToken: () => {
    const random = (n: number) => Buffer.from(randomFrom(UPPER + LOWER + DIGITS, n), 'latin1');
    const macaroon = Buffer.concat([
      Buffer.from([2, 1, 8]),
      Buffer.from('pypi.org'),
      Buffer.from([2, 36]),
      random(36),
      Buffer.from([0, 0, 6, 32]),
      random(32),
    ]);
    return `pypi-${macaroon.toString('base64url')}`;
  },
  /** base64url of a JSON object, the way JWT segments start ("eyJ"). */
  jsonSegment: (object: Record<string, unknown>) => Buffer.from(JSON.stringify(object)).toString('base64url'),
};

/** Joins parts, so that a literal prefix and its body never sit together in the source. */
export const join = (...parts: string[]) => parts.join('');
