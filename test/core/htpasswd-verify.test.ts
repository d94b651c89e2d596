import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { htpasswdAccepts } from '../../src/core/htpasswd-verify.js';
import { Secret } from '../../src/core/secret.js';
import { fakeAlnum } from '../helpers/fake-secrets.js';
import { describeWithTools } from '../helpers/system-tools.js';

/** A line written by Apache's own htpasswd (the password on stdin), in the given scheme flag. */
function apacheLine(password: string, flag: '-m' | '-s' | '-B'): string {
  const line = execFileSync('htpasswd', ['-ni', flag, 'admin'], { input: `${password}\n`, encoding: 'utf8' }).trim();
  return line.slice(line.indexOf(':') + 1);
}

describeWithTools(['htpasswd'], 'legacy htpasswd lines verify as Apache wrote them', () => {
  for (const [name, flag] of [
    ['$apr1$ (MD5)', '-m'],
    ['{SHA}', '-s'],
    ['bcrypt', '-B'],
  ] as const) {
    it(`${name}: the right password matches, a neighbour does not`, async () => {
      for (const password of [fakeAlnum(24), `${fakeAlnum(5)}@2026!é`, fakeAlnum(1)]) {
        const hash = apacheLine(password, flag);
        expect(await htpasswdAccepts(new Secret(password), hash)).toBe(true);
        expect(await htpasswdAccepts(new Secret(`${password}x`), hash)).toBe(false);
      }
    });
  }
  it('a scheme only crypt(3) can check is undefined, not false', async () => {
    expect(await htpasswdAccepts(new Secret('x'), 'abJnggxhB/yWI')).toBeUndefined();
  });
});
