import { randomBytes } from 'node:crypto';
import { Secret } from '../secret.js';

/**
 * Letters, digits and RFC 3986's other unreserved symbols: a value that needs no quoting in a
 * shell or .env, no %-escaping in a URL's user-info, and no escaping inside a SQL string literal
 * or a redis.conf / ACL line. 66 symbols, ~6.04 bits each.
 */
export const URL_SAFE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~';
export const MIN_DB_PASSWORD_LENGTH = 32;

/** A password of `length` characters, each uniform over the alphabet (rejection sampling, no bias). */
export function generateDbPassword(length: number): Secret {
  const limit = 256 - (256 % URL_SAFE_ALPHABET.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit && out.length < length) out += URL_SAFE_ALPHABET[byte % URL_SAFE_ALPHABET.length];
    }
  }
  return new Secret(out);
}

export function dbPasswordBits(length: number): number {
  return Math.floor(length * Math.log2(URL_SAFE_ALPHABET.length));
}
