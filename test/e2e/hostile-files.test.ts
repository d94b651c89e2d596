import { execFileSync } from 'node:child_process';
import {
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  symlinkSync,
  chownSync,
  chmodSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Hex, MANIFEST_NAME } from '../../src/core/backup-archive.js';
import { writeTar } from '../../src/core/tar.js';
import { runSecrets } from '../helpers/cli.js';
import { makeDeployment } from '../helpers/deployment.js';
import { fakeHex } from '../helpers/fake-secrets.js';
import { gpgHome } from '../helpers/gpg.js';
import { BACKUP_ENV, BACKUP_POLICY } from '../helpers/rotation.js';
import { tempDir } from '../helpers/temp-dir.js';

const PASSPHRASE = BACKUP_ENV.SECRETS_BACKUP_PASSPHRASE!;

function deployment(extra: Record<string, unknown> = {}) {
  const oldKey = fakeHex(64);
  const env = `JWT_SECRET_KEY=${oldKey}\nPORT=8080\n`;
  const deploy = makeDeployment({
    files: { '.env': env },
    policy: {
      backup: { ...BACKUP_POLICY, ...extra },
      secrets: { jwt: { kind: 'random', env_key: 'JWT_SECRET_KEY', rotate_every: '90d' } },
    },
  });
  return { deploy, env, oldKey, cwd: deploy.root };
}

/** A backup as an attacker would make it: our format, any manifest, encrypted by real gpg. */
function craftedBackup(
  root: string,
  entries: Array<{ name: string; data: string; mode: number; path?: string }>,
): string {
  const files = entries.map((entry) => ({
    name: entry.name,
    path: entry.path ?? join(root, entry.name),
    sha256: sha256Hex(Buffer.from(entry.data)),
    size: Buffer.byteLength(entry.data),
    mode: entry.mode,
  }));
  const manifest = {
    format: 'secrets-backup/1',
    deployment: 'test-deploy',
    created: new Date().toISOString(),
    reason: 'x',
    files,
  };
  const tar = writeTar([
    { name: MANIFEST_NAME, data: Buffer.from(JSON.stringify(manifest)), mode: 0o600 },
    ...entries.map((entry) => ({ name: entry.name, data: Buffer.from(entry.data), mode: entry.mode })),
  ]);
  const gpg = gpgHome();
  const out = join(tempDir(), 'crafted.tar.gpg');
  gpg.run(['--symmetric', '--passphrase-file', gpg.passphraseFile(PASSPHRASE), '-o', out], tar);
  return out;
}

describe('row 8: a manifest that maps an entry onto another live file', () => {
  it('harmless.txt mapped to .env is skipped, .env is byte-identical', async () => {
    const { deploy, env, cwd } = deployment();
    const backup = craftedBackup(cwd, [
      { name: 'harmless.txt', data: `JWT_SECRET_KEY=${fakeHex(64)}\n`, mode: 0o600, path: deploy.path('.env') },
    ]);
    const restore = await runSecrets(['restore', backup, '--in-place'], { cwd, env: BACKUP_ENV });
    expect(restore.code).toBe(3);
    expect(restore.stderr).toMatch(/no file in this backup is managed by the policy/);
    expect(readFileSync(deploy.path('.env'), 'utf8')).toBe(env);
  });
});

describe('row 9: a backup entry with mode 0666', () => {
  it('restored where the file is missing: created 600, never the backup mode', async () => {
    const { deploy, cwd } = deployment();
    const value = `JWT_SECRET_KEY=${fakeHex(64)}\n`;
    const backup = craftedBackup(cwd, [{ name: '.env', data: value, mode: 0o666 }]);
    execFileSync('rm', [deploy.path('.env')]);
    const restore = await runSecrets(['restore', backup, '--in-place'], { cwd, env: BACKUP_ENV });
    expect(restore.code, restore.stderr).toBe(0);
    expect(readFileSync(deploy.path('.env'), 'utf8')).toBe(value);
    expect(statSync(deploy.path('.env')).mode & 0o777).toBe(0o600);
    const folder = await runSecrets(['restore', backup, '--to', join(tempDir(), 'out')], { cwd, env: BACKUP_ENV });
    expect(folder.code, folder.stderr).toBe(0);
  });
});

describe('row 10: a compression bomb', () => {
  it('restore stops at the size limit with one line (exit 3); --list reads only the head', async () => {
    const { deploy, env, cwd } = deployment({ max_size_mib: 4 });
    const gpg = gpgHome();
    const bomb = deploy.path('backups/test-deploy-20260101T000000Z.tar.gpg');
    mkdirSync(deploy.path('backups'), { recursive: true });
    // 96 MiB of zeros, ZLIB level 9: a file of a few hundred KB.
    gpg.run(
      [
        '--symmetric',
        '--compress-algo',
        'zlib',
        '-z',
        '9',
        '--passphrase-file',
        gpg.passphraseFile(PASSPHRASE),
        '-o',
        bomb,
      ],
      Buffer.alloc(96 * 1024 * 1024),
    );
    expect(statSync(bomb).size).toBeLessThan(1024 * 1024);
    const restore = await runSecrets(['restore', bomb, '--in-place'], { cwd, env: BACKUP_ENV });
    expect(restore.code).toBe(3);
    expect(restore.stderr.trim().split('\n')).toHaveLength(1);
    expect(restore.stderr).toMatch(/more than 4 MiB once decrypted and unpacked; refused/);
    expect(readFileSync(deploy.path('.env'), 'utf8')).toBe(env);
    const list = await runSecrets(['backup', '--list'], { cwd, env: BACKUP_ENV });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('test-deploy-20260101T000000Z.tar.gpg');
  });
});

describe('row 12: --adopt of a live file by another path, or of our own state', () => {
  it('refuses the live .env through a symlinked folder and the audit trail; nothing is removed', async () => {
    const { deploy, env, cwd } = deployment();
    expect((await runSecrets(['record', 'jwt'], { cwd })).code).toBe(0);
    const alias = join(tempDir(), 'alias');
    symlinkSync(deploy.root, alias);
    const viaLink = await runSecrets(['backup', '--adopt', join(alias, '.env')], { cwd, env: BACKUP_ENV });
    expect(viaLink.code).toBe(3);
    expect(viaLink.stderr).toMatch(/live secret file of the policy/);
    expect(readFileSync(deploy.path('.env'), 'utf8')).toBe(env);
    const trail = await runSecrets(['backup', '--adopt', '.secrets/audit.jsonl'], { cwd, env: BACKUP_ENV });
    expect(trail.code).toBe(3);
    expect(trail.stderr).toMatch(/secrets' own files/);
    expect(existsSync(deploy.path('.secrets/audit.jsonl'))).toBe(true);
    expect((await runSecrets(['log', '--verify'], { cwd })).stdout).toMatch(/intact: 1 entries/);
  });
});

describe('row 4: secret files that are links', () => {
  it('a symlinked .env: the rotation writes the target the service reads, the link stays', async () => {
    const { deploy, oldKey, cwd } = deployment();
    const shared = join(tempDir(), 'shared');
    mkdirSync(shared);
    renameSync(deploy.path('.env'), join(shared, 'app.env'));
    chmodSync(join(shared, 'app.env'), 0o640);
    symlinkSync(join(shared, 'app.env'), deploy.path('.env'));
    const rotate = await runSecrets(['rotate', 'jwt', '--yes'], { cwd, env: BACKUP_ENV });
    expect(rotate.code, rotate.stderr).toBe(0);
    expect(statSync(deploy.path('.env'), { throwIfNoEntry: true }).isFile()).toBe(true);
    const target = readFileSync(join(shared, 'app.env'), 'utf8');
    expect(target).not.toContain(oldKey);
    expect(target).toMatch(/JWT_SECRET_KEY=[0-9a-f]{64}/);
    expect(statSync(join(shared, 'app.env')).mode & 0o777).toBe(0o640);
    expect(readdirSync(shared)).toEqual(['app.env']);
    const { lstatSync } = await import('node:fs');
    expect(lstatSync(deploy.path('.env')).isSymbolicLink()).toBe(true);
  });

  it('a hard-linked .env: warned before the swap, and check has a finding', async () => {
    const { deploy, cwd } = deployment();
    const other = join(tempDir(), 'hard.env');
    linkSync(deploy.path('.env'), other);
    const check = await runSecrets(['check'], { cwd });
    expect(check.stdout).toMatch(/links: .*\.env: has 2 hard links/);
    const rotate = await runSecrets(['rotate', 'jwt', '--yes'], { cwd, env: BACKUP_ENV });
    expect(rotate.code, rotate.stderr).toBe(0);
    expect(rotate.stderr).toMatch(/warning: .*\.env has 2 hard links/);
  });
});

describe('row 14: a folder others can write, a secret file owned by someone else', () => {
  it('check flags the folder; rotation refuses to write into a file another user owns', async () => {
    const { deploy, env, cwd } = deployment();
    chmodSync(deploy.root, 0o777);
    const check = await runSecrets(['check'], { cwd });
    expect(check.code).toBe(2);
    expect(check.stdout).toMatch(/the deployment folder is writable by every user/);
    chownSync(deploy.path('.env'), 4242, 4242);
    const rotate = await runSecrets(['rotate', 'jwt', '--yes'], { cwd, env: BACKUP_ENV });
    expect(rotate.code).toBe(3);
    expect(rotate.stderr).toMatch(/\.env: .*belongs to uid 4242/);
    expect(readFileSync(deploy.path('.env'), 'utf8')).toBe(env);
    expect(statSync(deploy.path('.env')).uid).toBe(4242);
  });
});

describe('row 15: the state folder is a symlink', () => {
  it('every change refuses; the other folder is neither chmodded nor written', async () => {
    const { deploy, cwd } = deployment();
    const elsewhere = join(tempDir(), 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o755 });
    chmodSync(elsewhere, 0o755);
    symlinkSync(elsewhere, deploy.path('.secrets'));
    for (const args of [['record', 'jwt'], ['rotate', 'jwt', '--yes'], ['backup']]) {
      const run = await runSecrets(args, { cwd, env: BACKUP_ENV });
      expect(run.code, args.join(' ')).toBe(3);
      expect(run.stderr).toMatch(/state folder is a symbolic link/);
    }
    expect(statSync(elsewhere).mode & 0o777).toBe(0o755);
    expect(readdirSync(elsewhere)).toEqual([]);
    expect((await runSecrets(['check'], { cwd })).stdout).toMatch(/the state folder is a symbolic link/);
  });
});
