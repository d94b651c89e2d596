import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runSecrets } from '../helpers/cli.js';
import { makeDeployment } from '../helpers/deployment.js';
import { fakeAlnum } from '../helpers/fake-secrets.js';
import { tempDir } from '../helpers/temp-dir.js';

function deployment() {
  const value = fakeAlnum(32);
  const deploy = makeDeployment({
    files: { '.env': `SECRET_KEY=${value}\nPORT=8080\n` },
    policy: { backup: { dir: 'backups', passphrase_env: 'BK_PASS' } },
  });
  return { deploy, value };
}

describe('secrets backup / restore (bin/secrets)', () => {
  it('backs up (exit 0), lists, restores (exit 0) and never prints a value', async () => {
    const { deploy, value } = deployment();
    const env = { BK_PASS: 'e2e passphrase' };
    const backup = await runSecrets(['backup'], { cwd: deploy.root, env });
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(/backup written and verified: .*test-deploy-\d{8}T\d{6}Z\.tar\.gpg/);
    const [name] = readdirSync(deploy.path('backups'));

    const list = await runSecrets(['backup', '--list'], { cwd: deploy.root, env });
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(name);
    expect(list.stdout).toContain('opens with the passphrase');

    writeFileSync(deploy.path('.env'), `SECRET_KEY=${fakeAlnum(32)}\nNEW=1\n`);
    const restore = await runSecrets(['restore', `backups/${name}`, '--to', join(tempDir(), 'out')], {
      cwd: deploy.root,
      env,
    });
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toContain('.env: adds PORT; removes NEW; changes SECRET_KEY');
    for (const output of [backup, list, restore]) expect(output.stdout + output.stderr).not.toContain(value);
  });

  it('exit 3 with one line: no passphrase and no terminal, wrong passphrase, random bytes', async () => {
    const { deploy } = deployment();
    const none = await runSecrets(['backup'], { cwd: deploy.root, env: { BK_PASS: undefined } });
    expect(none.code).toBe(3);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
    expect(none.stderr).toContain('BK_PASS');

    await runSecrets(['backup'], { cwd: deploy.root, env: { BK_PASS: 'right' } });
    const [name] = readdirSync(deploy.path('backups'));
    const wrong = await runSecrets(['restore', `backups/${name}`], { cwd: deploy.root, env: { BK_PASS: 'wrong' } });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toMatch(/wrong passphrase/);

    writeFileSync(
      deploy.path('random.gpg'),
      Buffer.from(Array.from({ length: 999 }, (_, index) => (index * 37) % 256)),
    );
    const random = await runSecrets(['restore', 'random.gpg'], { cwd: deploy.root, env: { BK_PASS: 'right' } });
    expect(random.code).toBe(3);
    expect(random.stderr).toMatch(/not a complete OpenPGP message/);
    expect(readdirSync(deploy.path('backups'))).toEqual([name]);
  });

  it('--adopt says the plaintext was unlinked, not securely erased', async () => {
    const { deploy } = deployment();
    writeFileSync(deploy.path('.env.bak'), readFileSync(deploy.path('.env')));
    const adopt = await runSecrets(['backup', '--adopt', '.env.bak'], { cwd: deploy.root, env: { BK_PASS: 'p' } });
    expect(adopt.code, adopt.stderr).toBe(0);
    expect(adopt.stdout).toMatch(/unlinked, not overwritten/);
    const check = await runSecrets(['check'], { cwd: deploy.root });
    expect(check.stdout).not.toContain('.env.bak');
  });

  it('secrets check never loads openpgp (it must start fast)', async () => {
    const { deploy } = deployment();
    const dir = tempDir();
    const trace = join(dir, 'loaded.txt');
    writeFileSync(trace, '');
    writeFileSync(
      join(dir, 'hooks.mjs'),
      `import { appendFileSync } from 'node:fs';\nexport async function resolve(specifier, context, next) {\n  const result = await next(specifier, context);\n  appendFileSync(${JSON.stringify(trace)}, result.url + '\\n');\n  return result;\n}\n`,
    );
    writeFileSync(
      join(dir, 'register.mjs'),
      `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${join(dir, 'hooks.mjs')}`)});\n`,
    );
    const check = await runSecrets(['check'], {
      cwd: deploy.root,
      env: { NODE_OPTIONS: `--import=${join(dir, 'register.mjs')}` },
    });
    expect(check.stderr).not.toMatch(/unexpected error/);
    const loaded = readFileSync(trace, 'utf8');
    expect(loaded).toMatch(/\/dist\/cli(-bundle)?\/main\.js/);
    expect(loaded).not.toMatch(/openpgp/);
  });
});

/** A private mount namespace where root can bind-mount a folder read-only (chmod does not stop root). */
function canMountReadOnly(): boolean {
  const dir = tempDir();
  const probe = spawnSync('unshare', [
    '-m',
    'sh',
    '-c',
    'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1"',
    'sh',
    dir,
  ]);
  return probe.status === 0;
}

describe('a backup folder on a read-only filesystem (real EROFS)', () => {
  it.skipIf(!canMountReadOnly())('exit 3, one line naming EROFS, nothing written anywhere', () => {
    const { deploy } = deployment();
    mkdirSync(deploy.path('backups'), { mode: 0o700 });
    // The mount exists only inside this unshare'd process: nothing on the host changes.
    const result = spawnSync(
      'unshare',
      [
        '-m',
        'sh',
        '-c',
        'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" && shift && exec "$@"',
        'sh',
        deploy.path('backups'),
        process.execPath,
        BIN,
        'backup',
      ],
      {
        cwd: deploy.root,
        env: { ...process.env, BK_PASS: 'a long enough passphrase', NO_COLOR: '1' },
        encoding: 'utf8',
      },
    );
    expect(result.status, result.stderr).toBe(3);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/cannot write the backup \(EROFS\); nothing was written/);
    expect(readdirSync(deploy.path('backups'))).toEqual([]);
    expect(existsSync(deploy.path('.secrets/audit.jsonl'))).toBe(false);
  });
});
