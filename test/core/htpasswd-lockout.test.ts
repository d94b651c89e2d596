import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bcryptHash, bcryptMatches } from '../../src/core/bcrypt.js';
import {
  LOCKED_OUT_RANDOM_BYTES,
  hashScheme,
  isLockedOutHash,
  lockedOutHash,
  parseHtpasswd,
} from '../../src/core/htpasswd.js';
import { Secret } from '../../src/core/secret.js';
import { fakeAlnum } from '../helpers/fake-secrets.js';

describe('lockedOutHash', () => {
  it('is a well-formed $2y$ bcrypt hash at the given cost, parsed as bcrypt', () => {
    for (let round = 0; round < 50; round++) {
      const hash = lockedOutHash(5, randomBytes(LOCKED_OUT_RANDOM_BYTES));
      expect(hashScheme(hash)).toEqual({ scheme: 'bcrypt', cost: 5 });
      expect(parseHtpasswd(`admin:${hash}\n`, 'h').entries[0]!.scheme).toBe('bcrypt');
      expect(isLockedOutHash(hash)).toBe(true);
    }
  });

  it('matches no password: not the empty one, not one hashed with its own salt', async () => {
    const hash = lockedOutHash(4, randomBytes(LOCKED_OUT_RANDOM_BYTES));
    for (const password of ['', fakeAlnum(24), 'admin'])
      expect(await bcryptMatches(new Secret(password), hash)).toBe(false);
  });

  it('never mistakes a real bcrypt hash for a lock-out', async () => {
    for (let round = 0; round < 40; round++)
      expect(isLockedOutHash(await bcryptHash(new Secret(fakeAlnum(20)), 4))).toBe(false);
    expect(isLockedOutHash('$apr1$abcdefgh$abcdefghijklmnopqrstuv')).toBe(false);
  });

  it('needs enough randomness from the caller', () => {
    expect(() => lockedOutHash(5, new Uint8Array(10))).toThrow(/53 random bytes/);
  });
});
