/**
 * The README's quick start, as written: its commands are read from README.md (between the
 * quick-start markers) and run one by one through bin/secrets on a fresh temp deployment.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSecrets } from '../helpers/cli.js';
import { fakeHex } from '../helpers/fake-secrets.js';
import { tempDir, writeTree } from '../helpers/temp-dir.js';

const README = readFileSync(resolve(__dirname, '..', '..', 'README.md'), 'utf8');

/** The `secrets …` command lines of the quick-start block, comments removed, as argument lists. */
function quickStartCommands(readme: string): string[][] {
  const block = /<!-- quick-start[^>]*-->\s*```sh\n([\s\S]*?)```\s*<!-- \/quick-start -->/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no quick-start block');
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line.startsWith('secrets '))
    .map((line) => line.split(/\s+/).slice(1));
}

describe("the README's quick start", () => {
  it('has the five steps the first screen promises', () => {
    expect(quickStartCommands(README).map((args) => args.join(' '))).toEqual([
      'init',
      'check',
      'backup',
      'rotate --dry-run',
      'rotate',
    ]);
  });

  it('works as written on a fresh deployment, and leaves it all well', async () => {
    const root = tempDir('secrets-quick-start-');
    const before = { JWT_SECRET_KEY: fakeHex(64), SECRET_KEY: randomBytes(32).toString('base64') };
    writeTree(root, {
      '.env': `# the app\nJWT_SECRET_KEY=${before.JWT_SECRET_KEY}\nSECRET_KEY=${before.SECRET_KEY}\nLOG_LEVEL=info\n`,
    });
    const env = { SECRETS_BACKUP_PASSPHRASE: `pass-${fakeHex(16)}` };
    const transcript: string[] = [];
    for (const args of quickStartCommands(README)) {
      const result = await runSecrets(args, { cwd: root, env });
      transcript.push(`$ secrets ${args.join(' ')} → ${result.code}\n${result.stdout}${result.stderr}`);
      // init and check report the never-rotated secrets (2); nothing may fail to run (3, 4).
      expect(result.code, transcript.join('\n')).toBeLessThan(3);
      if (args[0] === 'rotate' && args.includes('--dry-run')) expect(result.stdout).toContain('jwt-secret-key');
    }
    const text = transcript.join('\n');
    const after = readFileSync(join(root, '.env'), 'utf8');
    for (const value of Object.values(before)) {
      expect(after).not.toContain(value);
      expect(text).not.toContain(value);
    }
    expect(after).toMatch(/^# the app\nJWT_SECRET_KEY=[0-9a-f]{64}\nSECRET_KEY=[A-Za-z0-9+/]{43}=\nLOG_LEVEL=info\n$/);
    const check = await runSecrets(['check'], { cwd: root, env });
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toBe('');
  });
});
