import { describe, expect, it } from 'vitest';
import {
  digitVariants,
  generatePassword,
  longestRepeatedPart,
  generatedPasswordBits,
  looksLikeYearPattern,
  PASSWORD_ALPHABET,
  passwordProblems,
  type PasswordContext,
} from '../../src/core/password.js';
import { fingerprint, Secret } from '../../src/core/secret.js';
import { fakeAlnum } from '../helpers/fake-secrets.js';

const KEY = new Uint8Array(32).fill(7);

function context(seen: string[] = []): PasswordContext {
  return {
    user: 'admin',
    deployment: 'mt5-crs',
    seenFingerprints: new Set(seen.map((value) => fingerprint(value, KEY))),
    fingerprintOf: (value) => fingerprint(value, KEY),
  };
}

describe('generatePassword', () => {
  it('draws the policy length from the stated alphabet, never a symbol at either end', () => {
    for (let round = 0; round < 200; round++) {
      const text = generatePassword(24).reveal();
      expect(text).toHaveLength(24);
      for (const char of text) expect(PASSWORD_ALPHABET).toContain(char);
      expect(text[0]).toMatch(/[A-Za-z0-9]/);
      expect(text.at(-1)).toMatch(/[A-Za-z0-9]/);
    }
  });

  it('uses the injected randomness (so the alphabet is all there is)', () => {
    expect(generatePassword(4, () => 0).reveal()).toBe('AAAA');
  });

  it('carries at least 128 bits at the default length', () => {
    expect(generatedPasswordBits(24)).toBeGreaterThanOrEqual(128);
  });

  it('passes its own checks', () => {
    for (let round = 0; round < 50; round++) expect(passwordProblems(generatePassword(24), context())).toEqual([]);
  });
});

describe('looksLikeYearPattern', () => {
  it.each([
    ['Word@2025!Secure', true],
    ['Summer2026!', true],
    ['Company#2024#Dashboard', true],
    ['P@ssw0rd2025', false],
    ['2025', false],
    ['x9-Hq2025_Lm.Zt4kR8pWc3v', false],
    ['correct-horse-battery-staple', false],
  ])('%s → %s', (text, expected) => {
    expect(looksLikeYearPattern(text)).toBe(expected);
  });
});

describe('passwordProblems', () => {
  const random = () => fakeAlnum(24);
  it.each<[string, () => string, string[], RegExp | undefined]>([
    ['a long random value', random, [], undefined],
    ['too short', () => fakeAlnum(15), [], /15 characters; at least 16/],
    ['the user name inside', () => `${fakeAlnum(10)}Admin${fakeAlnum(10)}`, [], /user name "admin"/],
    ['the deployment name inside', () => `${fakeAlnum(10)}MT5-CRS${fakeAlnum(10)}`, [], /deployment name "mt5-crs"/],
    ['a year pattern', () => 'Dashboard@2026!Secure', [], /word-and-year pattern/],
    ['past bcrypt’s 72 bytes', () => fakeAlnum(80), [], /72 bytes/],
    ['one character repeated', () => 'a'.repeat(20), [], /too few different/],
  ])('%s', (_name, make, seen, reason) => {
    const value = make();
    const problems = passwordProblems(new Secret(value), context(seen));
    if (reason === undefined) expect(problems).toEqual([]);
    else expect(problems.join('; ')).toMatch(reason);
    // A reason never repeats the password.
    for (const problem of problems) expect(problem).not.toContain(value);
  });

  it('rejects a value the audit trail has seen for this secret', () => {
    const value = fakeAlnum(24);
    expect(passwordProblems(new Secret(value), context([fakeAlnum(24), value]))).toEqual([
      'it was used before for this secret (the audit trail has its fingerprint)',
    ]);
  });
});

describe('schemes people bump (issue 12, row 1)', () => {
  const word = () => fakeAlnum(1, 'BCDFGHKLMNPRSTVZ') + fakeAlnum(5, 'aeioubcdfghklmnprstvz');

  it.each([
    () => `MT5${word()}@2026!Secure`,
    () => `2027!${word()}#Secure`,
    () => `${word()}-${word()}-1999`,
    () => `${word()}2026!`,
  ])('a word-and-year scheme in any arrangement: %#', (make) => {
    expect(looksLikeYearPattern(make())).toBe(true);
  });

  it('a generated password is never refused by the scheme rules (2000 draws)', () => {
    for (let round = 0; round < 2000; round++) {
      const text = generatePassword(24).reveal();
      expect(looksLikeYearPattern(text), text.length.toString()).toBe(false);
      expect(longestRepeatedPart(text)).toBeLessThan(8);
    }
  });

  it('finds a part repeated twice without overlap', () => {
    const half = `${word()}2026!`;
    expect(longestRepeatedPart(`${half}${half}`)).toBe(half.length);
    expect(longestRepeatedPart('abcdefgh')).toBe(0);
  });

  it('lists the variants with only the numbers changed, nearest first, never the password itself', () => {
    const variants = digitVariants('Name@2027!x7', 64);
    expect(variants.slice(0, 3)).toEqual(['Name@2026!x7', 'Name@2027!x6', 'Name@2026!x6']);
    expect(variants).toContain('Name@2028!x7');
    expect(variants).not.toContain('Name@2027!x7');
    expect(digitVariants('no-digits-here', 64)).toEqual([]);
    expect(digitVariants('Name@2027!x7', 5)).toHaveLength(5);
  });
});
