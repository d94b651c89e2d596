import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runSecrets } from '../helpers/cli.js';
import { makeDeployment } from '../helpers/deployment.js';
import { fakeAlnum, fakeHex } from '../helpers/fake-secrets.js';
import { gpgHome } from '../helpers/gpg.js';
import { tempDir } from '../helpers/temp-dir.js';

function deployment() {
  const env = `JWT_SECRET_KEY=${fakeHex(64)}\n`;
  const deploy = makeDeployment({
    files: { '.env': env },
    policy: {
      backup: { dir: 'backups', passphrase_env: 'BK_PASS' },
      secrets: { jwt: { kind: 'random', env_key: 'JWT_SECRET_KEY', rotate_every: '90d' } },
    },
  });
  return { deploy, env, cwd: deploy.root };
}

/** Runs bin/secrets with BK_PASS set to the exact bytes of `passphrase` (node's spawn only passes text). */
function withPassphraseBytes(passphrase: Uint8Array, args: string[], cwd: string) {
  const file = join(tempDir('pass-'), 'p');
  writeFileSync(file, passphrase, { mode: 0o600 });
  const result = spawnSync(
    '/bin/sh',
    ['-c', 'BK_PASS="$(cat "$PASS_FILE")"; export BK_PASS; exec "$NODE_BIN" "$SECRETS_BIN" "$@"', 'sh', ...args],
    {
      cwd,
      env: { PATH: process.env.PATH, NO_COLOR: '1', PASS_FILE: file, NODE_BIN: process.execPath, SECRETS_BIN: BIN },
    },
  );
  return { code: result.status, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

/** Latin-1 bytes that are not UTF-8, around a random middle. */
function nonUtf8(first: number): Uint8Array {
  return new Uint8Array([first, 0xe9, ...Buffer.from(fakeAlnum(16)), 0xff]);
}

describe('row 11: passphrases are bytes, exactly as gpg takes them', () => {
  it('our backup with a non-UTF-8 passphrase opens with gpg --passphrase-file, and not with another one', async () => {
    const { deploy, cwd } = deployment();
    const passphrase = nonUtf8(0xe4);
    const backup = withPassphraseBytes(passphrase, ['backup'], cwd);
    expect(backup.code, backup.stderr).toBe(0);
    const [name] = readdirSync(deploy.path('backups'));
    const gpg = gpgHome();
    const passFile = join(gpg.home, 'bytes');
    writeFileSync(passFile, passphrase, { mode: 0o600 });
    const plain = gpg.run(['--decrypt', '--passphrase-file', passFile, deploy.path(`backups/${name}`)]);
    expect(plain.subarray(0, 20).toString('latin1')).toContain('.secrets-backup.json');

    // Another non-UTF-8 passphrase (the same once decoded as UTF-8 with replacement characters) fails.
    const other = nonUtf8(0xf6);
    other.set(passphrase.subarray(2, passphrase.length - 1), 2);
    const wrong = withPassphraseBytes(other, ['restore', `backups/${name}`, '--to', join(tempDir(), 'out')], cwd);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/wrong passphrase/);
    const right = withPassphraseBytes(passphrase, ['restore', `backups/${name}`, '--to', join(tempDir(), 'out')], cwd);
    expect(right.code, right.stderr).toBe(0);
  });

  it('a gpg --symmetric file made with those bytes restores with them', async () => {
    const { deploy, env, cwd } = deployment();
    const passphrase = nonUtf8(0xfc);
    const gpg = gpgHome();
    const passFile = join(gpg.home, 'bytes');
    writeFileSync(passFile, passphrase, { mode: 0o600 });
    const out = join(tempDir(), '.env.gpg');
    gpg.run(['--symmetric', '--passphrase-file', passFile, '-o', out], env);
    const target = join(tempDir(), 'restored');
    const restore = withPassphraseBytes(passphrase, ['restore', out, '--to', target], cwd);
    expect(restore.code, restore.stderr).toBe(0);
    expect(readFileSync(join(target, '.env'), 'utf8')).toBe(env);
    void deploy;
  });

  it('warns about a short passphrase, and about one that does not open the newest backup; check counts them', async () => {
    const { cwd } = deployment();
    const first = await runSecrets(['backup'], { cwd, env: { BK_PASS: 'short pass' } });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/passphrase is 10 characters; use at least 12/);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const second = await runSecrets(['backup'], { cwd, env: { BK_PASS: fakeAlnum(20) } });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/does not open the newest backup/);
    const check = await runSecrets(['check'], { cwd });
    expect(check.stdout).toMatch(/backup-passphrase: .*use 2 different passphrases/);
  });
});

describe('row 18: a 100 KB passphrase', () => {
  it('is refused with one line (exit 3) before anything is written', async () => {
    const { deploy, cwd } = deployment();
    const backup = await runSecrets(['backup'], { cwd, env: { BK_PASS: fakeAlnum(100_000) } });
    expect(backup.code).toBe(3);
    expect(backup.stderr.trim().split('\n')).toHaveLength(1);
    expect(backup.stderr).toMatch(
      /^secrets: \[passphrase-too-long\] \$BK_PASS: the passphrase in \$BK_PASS is 100000 bytes; gpg cannot/,
    );
    expect(existsSync(deploy.path('backups')) ? readdirSync(deploy.path('backups')) : []).toEqual([]);
  });
});
