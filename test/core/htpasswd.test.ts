import { describe, expect, it } from 'vitest';
import { bcryptHash, bcryptMatches } from '../../src/core/bcrypt.js';
import { SecretsError } from '../../src/core/errors.js';
import {
  emptyHtpasswd,
  hashScheme,
  htpasswdUserProblem,
  parseHtpasswd,
  setHtpasswdLine,
} from '../../src/core/htpasswd.js';
import { Secret } from '../../src/core/secret.js';
import { fakeAlnum } from '../helpers/fake-secrets.js';

const HASH_CHARS = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Hash-shaped strings built at run time (never committed whole). */
const fake = {
  bcrypt: (prefix: string, cost: string) => `$${prefix}$${cost}$${fakeAlnum(53, HASH_CHARS)}`,
  apr1: () => `$apr1$${fakeAlnum(8, HASH_CHARS)}$${fakeAlnum(22, HASH_CHARS)}`,
  sha1: () => `{SHA}${fakeAlnum(27, B64)}=`,
  des: () => fakeAlnum(13, HASH_CHARS),
  sha512crypt: () => `$6$${fakeAlnum(16, HASH_CHARS)}$${fakeAlnum(86, HASH_CHARS)}`,
};

describe('hashScheme', () => {
  it.each([
    ['$2y$ bcrypt', fake.bcrypt('2y', '10'), 'bcrypt', 10],
    ['$2b$ bcrypt', fake.bcrypt('2b', '05'), 'bcrypt', 5],
    ['$2a$ bcrypt', fake.bcrypt('2a', '12'), 'bcrypt', 12],
    ['apr1 (Apache MD5)', fake.apr1(), 'apr1', undefined],
    ['{SHA}', fake.sha1(), 'sha1', undefined],
    ['DES crypt', fake.des(), 'crypt', undefined],
    ['glibc SHA-512 crypt', fake.sha512crypt(), 'crypt', undefined],
    ['plain text', 'just-a-plain-value', 'plain', undefined],
  ])('%s', (_name, hash, scheme, cost) => {
    expect(hashScheme(hash)).toEqual(cost === undefined ? { scheme } : { scheme, cost });
  });
});

describe('parseHtpasswd', () => {
  it('reads every line kind and skips comments and blank lines', () => {
    const text =
      [
        '# dashboard users',
        `admin:${fake.bcrypt('2y', '08')}`,
        '',
        `old:${fake.apr1()}`,
        `legacy:${fake.sha1()}`,
        `des:${fake.des()}`,
        'plain:some-text',
      ].join('\n') + '\n';
    const doc = parseHtpasswd(text, 'h');
    expect(doc.entries.map((entry) => [entry.user, entry.scheme, entry.line])).toEqual([
      ['admin', 'bcrypt', 2],
      ['old', 'apr1', 4],
      ['legacy', 'sha1', 5],
      ['des', 'crypt', 6],
      ['plain', 'plain', 7],
    ]);
  });

  it.each([
    ['no colon', 'adminwithoutcolon', 'h:2'],
    ['empty user', ':hash', 'h:2'],
    ['empty hash', 'admin:', 'h:2'],
    ['space in user', 'ad min:hash', 'h:2'],
    ['truncated bcrypt', `admin:${fake.bcrypt('2y', '10').slice(0, 30)}`, 'h:2'],
    ['truncated apr1', '$apr1$'.replace(/^/, 'admin:') + 'abc', 'h:2'],
  ])('a malformed line (%s) is an error at file:line', (_name, line, where) => {
    const text = `ok:${fake.bcrypt('2y', '08')}\n${line}\n`;
    let caught: unknown;
    try {
      parseHtpasswd(text, 'h');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SecretsError);
    expect((caught as SecretsError).where).toBe(where);
    expect((caught as SecretsError).exitCode).toBe(3);
  });
});

describe('setHtpasswdLine', () => {
  const newHash = () => fake.bcrypt('2y', '08');

  it('replaces one line and keeps every other byte, CRLF included', () => {
    const others = [`alice:${fake.apr1()}`, `bob:${fake.sha1()}`];
    const text = `# comment\r\n${others[0]}\r\nadmin:${fake.bcrypt('2y', '05')}\r\n\r\n${others[1]}\r\n`;
    const hash = newHash();
    const out = setHtpasswdLine(parseHtpasswd(text, 'h'), 'admin', hash, 'h');
    expect(out).toBe(`# comment\r\n${others[0]}\r\nadmin:${hash}\r\n\r\n${others[1]}\r\n`);
  });

  it('keeps a missing final newline when the user is not on the last line', () => {
    const text = `admin:${fake.apr1()}\nbob:${fake.sha1()}`;
    const hash = newHash();
    expect(setHtpasswdLine(parseHtpasswd(text, 'h'), 'admin', hash, 'h')).toBe(`admin:${hash}\n${text.split('\n')[1]}`);
  });

  it.each([
    ['an empty file', '', (line: string) => `${line}\n`],
    ['a file ending in a newline', 'bob:x-plain\n', (line: string) => `bob:x-plain\n${line}\n`],
    ['a file without a final newline', 'bob:x-plain', (line: string) => `bob:x-plain\n${line}\n`],
    ['a CRLF file', 'bob:x-plain\r\n', (line: string) => `bob:x-plain\r\n${line}\r\n`],
  ])('adds a missing user at the end of %s', (_name, text, expected) => {
    const hash = newHash();
    expect(setHtpasswdLine(parseHtpasswd(text, 'h'), 'admin', hash, 'h')).toBe(expected(`admin:${hash}`));
  });

  it('starts an empty document for a created file', () => {
    const hash = newHash();
    expect(setHtpasswdLine(emptyHtpasswd(), 'admin', hash, 'h')).toBe(`admin:${hash}\n`);
  });

  it.each([
    ['a colon', 'ad:min', 'user names cannot contain ":"'],
    ['a newline', 'ad\nmin', 'user names cannot contain line breaks'],
    ['a carriage return', 'ad\rmin', 'user names cannot contain line breaks'],
    ['nothing', '', 'the user name is empty'],
  ])('refuses a user name with %s', (_name, user, reason) => {
    expect(htpasswdUserProblem(user)).toBe(reason);
    expect(() => setHtpasswdLine(emptyHtpasswd(), user, newHash(), 'h')).toThrow(reason);
  });

  it('refuses a user that appears twice, naming the second line', () => {
    const text = `admin:${fake.apr1()}\nadmin:${fake.sha1()}\n`;
    expect(() => setHtpasswdLine(parseHtpasswd(text, 'h'), 'admin', newHash(), 'h')).toThrow(/lines 1, 2/);
  });
});

describe('bcryptHash', () => {
  it('writes $2y$ at the requested cost, and the hash verifies the password', async () => {
    const password = new Secret(fakeAlnum(24));
    const hash = await bcryptHash(password, 5);
    expect(hashScheme(hash)).toEqual({ scheme: 'bcrypt', cost: 5 });
    expect(hash.startsWith('$2y$05$')).toBe(true);
    expect(await bcryptMatches(password, hash)).toBe(true);
    expect(await bcryptMatches(new Secret(fakeAlnum(24)), hash)).toBe(false);
  });
});
