import { randomBytes } from 'node:crypto';
import { Secret } from '../secret.js';

/**
 * Letters, digits and RFC 3986's other unreserved symbols: a value that needs no quoting in a
 * shell or .env, no %-escaping in a URL's user-info, and no escaping inside a SQL string literal
 * or a redis.conf / ACL line. 66 symbols, ~6.04 bits each.
 */
export const URL_SAFE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~';
export const MIN_DB_PASSWORD_LENGTH = 32;

const ALPHANUMERIC = URL_SAFE_ALPHABET.slice(0, 62);

/**
 * A password of `length` characters, each uniform over its alphabet (rejection sampling, no bias).
 * The first and last are letters or digits: a leading `~` right after `:` in a URL would be
 * tilde-expanded by bash sourcing the .env, and a trailing `.` is lost when pasted from a sentence.
 */
export function generateDbPassword(length: number): Secret {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (out.length >= length) break;
      const edge = out.length === 0 || out.length === length - 1;
      const alphabet = edge ? ALPHANUMERIC : URL_SAFE_ALPHABET;
      const limit = 256 - (256 % alphabet.length);
      if (byte < limit) out += alphabet[byte % alphabet.length];
    }
  }
  return new Secret(out);
}

export function dbPasswordBits(length: number): number {
  return Math.floor(length * Math.log2(URL_SAFE_ALPHABET.length));
}
