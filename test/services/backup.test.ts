import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { adoptPlaintext, createBackup, listBackups, pruneBackups } from '../../src/services/backup.js';
import { loadPolicy } from '../../src/services/policy/load-policy.js';
import { restoreBackup } from '../../src/services/restore.js';
import { isSecretsError, type SecretsError } from '../../src/core/errors.js';
import { writeTar } from '../../src/core/tar.js';
import { Secret } from '../../src/core/secret.js';
import type { Pgp } from '../../src/core/ports.js';
import { makeDeployment, type TempDeployment } from '../helpers/deployment.js';
import { testDeps, scriptedPrompts } from '../helpers/deps.js';
import { fakeAlnum, fakeHex } from '../helpers/fake-secrets.js';
import { gpgHome, type GpgHome } from '../helpers/gpg.js';
import { describeWithTools } from '../helpers/system-tools.js';
import { tempDir } from '../helpers/temp-dir.js';

const FILES = ['.env', 'nginx/.htpasswd', 'data/utf8.txt', 'data/blob.bin', 'data/empty'];

/** Every awkward kind of content: CRLF without a final newline, UTF-8, binary, empty. */
function deployment(backup: Record<string, unknown> = {}): TempDeployment {
  return makeDeployment({
    files: {
      '.env': `DB_PASSWORD=${fakeAlnum(24)}\r\nAPI_KEY=${fakeHex(40)}\r\nPORT=8080`,
      'nginx/.htpasswd': { content: `admin:$2y$08$${fakeAlnum(53)}\n`, mode: 0o640 },
      'data/utf8.txt': 'grüße, 雪, ✓\n',
      'data/blob.bin': Uint8Array.from({ length: 3000 }, (_, index) => (index * 7) % 256),
      'data/empty': '',
    },
    policy: { backup: { dir: 'backups', passphrase_env: 'BK_PASS', files: FILES, ...backup } },
  });
}

function snapshot(root: string): Map<string, string> {
  const state = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else state.set(path, `${statSync(path).mode.toString(8)}:${readFileSync(path).toString('base64')}`);
    }
  };
  walk(root);
  return state;
}

async function expectFailure(promise: Promise<unknown>, code: RegExp | string, exitCode = 3): Promise<SecretsError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isSecretsError(error), `expected a SecretsError, got ${String(error)}`).toBe(true);
  const secretsError = error as SecretsError;
  expect(secretsError.exitCode).toBe(exitCode);
  if (typeof code === 'string') expect(secretsError.code).toBe(code);
  else expect(secretsError.code).toMatch(code);
  expect(secretsError.toLine()).not.toContain('\n');
  return secretsError;
}

function depsFor(deploy: TempDeployment, overrides: NonNullable<Parameters<typeof testDeps>[0]> = {}) {
  return testDeps({ env: { BK_PASS: 'correct horse battery' }, cwd: deploy.root, ...overrides });
}

function expectSameFiles(deploy: TempDeployment, folder: string): void {
  for (const file of FILES) {
    expect(Buffer.compare(readFileSync(join(folder, file)), readFileSync(deploy.path(file))), file).toBe(0);
  }
}

describeWithTools(['gpg', 'tar'], 'backups that gpg opens, and gpg files that restore opens', () => {
  let gpg: GpgHome;

  it('ours → gpg --decrypt with the passphrase, then tar: every file byte-identical', async () => {
    const deploy = deployment();
    const deps = depsFor(deploy);
    const policy = await loadPolicy(deploy.policyPath, deps);
    const result = await createBackup({ policy, reason: 'test' }, deps);

    expect(result.files.map((file) => file.path)).toEqual(FILES.map((file) => deploy.path(file)));
    expect(statSync(result.path).mode & 0o777).toBe(0o600);
    expect(statSync(deploy.path('backups')).mode & 0o777).toBe(0o700);
    expect(result.path).toMatch(/backups\/test-deploy-20261124T120000Z\.tar\.gpg$/);

    gpg = gpgHome();
    const out = tempDir();
    gpg.run([
      '--passphrase-file',
      gpg.passphraseFile('correct horse battery'),
      '--output',
      join(out, 'b.tar'),
      '--decrypt',
      result.path,
    ]);
    execFileSync('tar', ['-xmf', 'b.tar'], { cwd: out });
    expectSameFiles(deploy, out);
  });

  it("ours → gpg --decrypt with the recipient's private key (public key only in the policy)", async () => {
    gpg = gpgHome();
    gpg.generateKey('ops@example.invalid');
    const deploy = deployment({ passphrase_env: undefined, recipients: ['ops.asc'] });
    writeFileSync(deploy.path('ops.asc'), gpg.exportPublic('ops@example.invalid'));
    const deps = depsFor(deploy, { env: {} });
    const policy = await loadPolicy(deploy.policyPath, deps);
    const result = await createBackup({ policy, reason: 'test' }, deps);

    const out = tempDir();
    gpg.run(['--output', join(out, 'b.tar'), '--decrypt', result.path]);
    execFileSync('tar', ['-xmf', 'b.tar'], { cwd: out });
    expectSameFiles(deploy, out);
  });

  it('gpg --symmetric --cipher-algo AES256 of a tar → secrets restore, byte-identical', async () => {
    const deploy = deployment();
    gpg = gpgHome();
    const work = tempDir();
    execFileSync('tar', ['-cf', join(work, 'made-by-gpg.tar'), ...FILES], { cwd: deploy.root });
    gpg.run([
      '--passphrase-file',
      gpg.passphraseFile('correct horse battery'),
      '--symmetric',
      '--cipher-algo',
      'AES256',
      '--output',
      join(work, 'made-by-gpg.tar.gpg'),
      join(work, 'made-by-gpg.tar'),
    ]);
    const deps = depsFor(deploy);
    const policy = await loadPolicy(deploy.policyPath, deps);
    const outcome = await restoreBackup(
      { policy, file: join(work, 'made-by-gpg.tar.gpg'), to: join(work, 'restored') },
      deps,
    );
    expect(outcome.files.map((file) => file.name).sort()).toEqual([...FILES].sort());
    expect(outcome.files.every((file) => file.change.kind === 'identical')).toBe(true);
    expectSameFiles(deploy, join(work, 'restored'));
    expect(statSync(join(work, 'restored')).mode & 0o777).toBe(0o700);
  });

  it('gpg --encrypt -r KEY of a single .env → secrets restore --key', async () => {
    const deploy = deployment();
    gpg = gpgHome();
    gpg.generateKey('ops@example.invalid', { passphrase: 'key pass' });
    const work = tempDir();
    writeFileSync(join(work, 'ops.key'), gpg.exportSecret('ops@example.invalid', 'key pass'), { mode: 0o600 });
    gpg.run([
      '--trust-model',
      'always',
      '--encrypt',
      '-r',
      'ops@example.invalid',
      '--output',
      join(work, 'env.gpg'),
      deploy.path('.env'),
    ]);
    const deps = depsFor(deploy, { env: { KEY_PASS: 'key pass' } });
    const policy = await loadPolicy(deploy.policyPath, deps);
    policy.doc.backup.key_passphrase_env = 'KEY_PASS';
    const outcome = await restoreBackup(
      { policy, file: join(work, 'env.gpg'), keyFile: join(work, 'ops.key'), to: join(work, 'restored') },
      deps,
    );
    expect(outcome.files.map((file) => file.name)).toEqual(['.env']);
    expect(Buffer.compare(readFileSync(join(work, 'restored/.env')), readFileSync(deploy.path('.env')))).toBe(0);
  });

  it('refuses a public key with no encryption subkey in one line, writing nothing', async () => {
    gpg = gpgHome();
    gpg.generateKey('signer@example.invalid', { signOnly: true });
    const deploy = deployment({ passphrase_env: undefined, recipients: ['signer.asc'] });
    writeFileSync(deploy.path('signer.asc'), gpg.exportPublic('signer@example.invalid'));
    const deps = depsFor(deploy, { env: {} });
    const policy = await loadPolicy(deploy.policyPath, deps);
    const error = await expectFailure(createBackup({ policy, reason: 'test' }, deps), 'pgp-no-encryption-key');
    expect(error.message).toMatch(/no usable encryption subkey/);
    expect(existsSync(deploy.path('backups'))).toBe(false);
  });

  it('restore with the wrong private key: one line, exit 3, nothing written', async () => {
    gpg = gpgHome();
    gpg.generateKey('ops@example.invalid');
    gpg.generateKey('other@example.invalid');
    const deploy = deployment({ passphrase_env: undefined, recipients: ['ops.asc'] });
    writeFileSync(deploy.path('ops.asc'), gpg.exportPublic('ops@example.invalid'));
    const work = tempDir();
    writeFileSync(join(work, 'other.key'), gpg.exportSecret('other@example.invalid'), { mode: 0o600 });
    const deps = depsFor(deploy, { env: {} });
    const policy = await loadPolicy(deploy.policyPath, deps);
    const { path } = await createBackup({ policy, reason: 'test' }, deps);
    const before = snapshot(deploy.root);
    const error = await expectFailure(
      restoreBackup({ policy, file: path, keyFile: join(work, 'other.key'), to: join(work, 'out') }, deps),
      'pgp-wrong-key',
    );
    expect(error.message).toMatch(/not made for this key/);
    expect(existsSync(join(work, 'out'))).toBe(false);
    expect(snapshot(deploy.root)).toEqual(before);
  });
});

describe('createBackup / restoreBackup with a passphrase', () => {
  it('round-trips through restore into a new folder, with a names-only diff summary', async () => {
    const deploy = deployment();
    const deps = depsFor(deploy);
    const policy = await loadPolicy(deploy.policyPath, deps);
    const { path } = await createBackup({ policy, reason: 'test' }, deps);
    const secretLine = readFileSync(deploy.path('.env'), 'utf8').split('\r\n')[0]!;
    writeFileSync(deploy.path('.env'), `DB_PASSWORD=${fakeAlnum(24)}\r\nNEW_KEY=1\r\nPORT=8080`);
    const outcome = await restoreBackup({ policy, file: path }, deps);
    expect(outcome.folder).toBe(path.replace(/\.tar\.gpg$/, '.restored'));
    const env = outcome.files.find((file) => file.name === '.env')!;
    expect(env.change).toEqual({
      kind: 'env',
      diff: { added: ['API_KEY'], removed: ['NEW_KEY'], changed: ['DB_PASSWORD'] },
    });
    expect(readFileSync(join(outcome.folder!, '.env'), 'utf8').split('\r\n')[0]).toBe(secretLine);
    const audit = readFileSync(join(deploy.root, '.secrets/audit.jsonl'), 'utf8');
    expect(audit).toMatch(/"action":"backup"/);
    expect(audit).toMatch(/"action":"backup-restored"/);
    expect(audit).not.toContain(secretLine.split('=')[1]);
  });

  it('--in-place replaces live files keeping their modes, after backing up the current state', async () => {
    const deploy = deployment();
    const deps = depsFor(deploy);
    const policy = await loadPolicy(deploy.policyPath, deps);
    const original = readFileSync(deploy.path('.env'));
    const { path } = await createBackup({ policy, reason: 'test' }, deps);
    writeFileSync(deploy.path('.env'), 'BROKEN=1\n');
    writeFileSync(deploy.path('nginx/.htpasswd'), 'admin:broken\n');
    const outcome = await restoreBackup({ policy, file: path, inPlace: true }, deps);
    expect(Buffer.compare(readFileSync(deploy.path('.env')), original)).toBe(0);
    expect(statSync(deploy.path('nginx/.htpasswd')).mode & 0o777).toBe(0o640);
    expect(outcome.previousState).toBeDefined();
    expect(outcome.previousState).not.toBe(path);
    expect(existsSync(outcome.previousState!)).toBe(true);
  });

  it('asks twice on a terminal when the environment has no passphrase', async () => {
    const deploy = deployment();
    const deps = depsFor(deploy, {
      env: {},
      interactive: true,
      prompts: scriptedPrompts(['typed pass', 'typed pass']),
    });
    const policy = await loadPolicy(deploy.policyPath, deps);
    const { path } = await createBackup({ policy, reason: 'test' }, deps);
    const restoreDeps = depsFor(deploy, { env: { BK_PASS: 'typed pass' } });
    await restoreBackup({ policy, file: path, to: join(tempDir(), 'out') }, restoreDeps);
  });

  it('restore asks once for the passphrase on a terminal when the environment has none', async () => {
    const deploy = deployment();
    const deps = depsFor(deploy);
    const policy = await loadPolicy(deploy.policyPath, deps);
    const { path } = await createBackup({ policy, reason: 'test' }, deps);
    const prompted = depsFor(deploy, {
      env: {},
      interactive: true,
      prompts: scriptedPrompts(['correct horse battery']),
    });
    const outcome = await restoreBackup({ policy, file: path, to: join(tempDir(), 'out') }, prompted);
    expect(outcome.files).toHaveLength(FILES.length);
  });

  it('refuses two different answers at the prompt', async () => {
    const deploy = deployment();
    const deps = depsFor(deploy, { env: {}, interactive: true, prompts: scriptedPrompts(['one', 'two']) });
    const policy = await loadPolicy(deploy.policyPath, deps);
    await expectFailure(createBackup({ policy, reason: 'test' }, deps), 'passphrase-mismatch');
  });

  it('not on a terminal with no passphrase and no recipients: exit 3 saying what to set', async () => {
    const deploy = deployment();
    const deps = depsFor(deploy, { env: {} });
    const policy = await loadPolicy(deploy.policyPath, deps);
    const error = await expectFailure(createBackup({ policy, reason: 'test' }, deps), 'backup-no-material');
    expect(error.toLine()).toContain('BK_PASS');
    expect(existsSync(deploy.path('backups'))).toBe(false);
  });

  describe('a backup that cannot be opened: one line, exit 3, nothing written', () => {
    async function prepared() {
      const deploy = deployment();
      const deps = depsFor(deploy);
      const policy = await loadPolicy(deploy.policyPath, deps);
      const { path } = await createBackup({ policy, reason: 'test' }, deps);
      return { deploy, deps, policy, path, bytes: readFileSync(path) };
    }

    it.each([
      ['wrong passphrase', 'pgp-cannot-decrypt', (bytes: Buffer) => bytes, { BK_PASS: 'not the passphrase' }],
      [
        'truncated',
        /pgp-(not-a-message|damaged)/,
        (bytes: Buffer) => bytes.subarray(0, Math.floor(bytes.length / 2)),
        undefined,
      ],
      [
        'one flipped byte',
        /pgp-(damaged|cannot-decrypt)/,
        (bytes: Buffer) => Buffer.from(bytes.map((byte, index) => (index === bytes.length - 30 ? byte ^ 1 : byte))),
        undefined,
      ],
      [
        'random bytes',
        'pgp-not-a-message',
        () => Buffer.from(Array.from({ length: 4096 }, (_, index) => (index * 131 + 7) % 256)),
        undefined,
      ],
    ] as const)('%s', async (_label, code, mangle, env) => {
      const { deploy, deps, policy, path, bytes } = await prepared();
      writeFileSync(path, mangle(bytes));
      const before = snapshot(deploy.root);
      const out = join(tempDir(), 'out');
      const restoreDeps = env ? depsFor(deploy, { env }) : deps;
      const error = await expectFailure(restoreBackup({ policy, file: path, to: out }, restoreDeps), code);
      expect(error.message).toMatch(/nothing was written/);
      await expectFailure(restoreBackup({ policy, file: path, inPlace: true }, restoreDeps), code);
      expect(existsSync(out)).toBe(false);
      expect(snapshot(deploy.root)).toEqual(before);
    });
  });

  it('a backup folder that cannot be created (its parent is a regular file — fails even as root): exit 3, nothing changed', async () => {
    // chmod-based read-only folders do not stop root, so the tests use a path that no user can create.
    const deploy = deployment({ dir: 'not-a-folder/backups' });
    writeFileSync(deploy.path('not-a-folder'), 'a plain file\n');
    const deps = depsFor(deploy);
    const policy = await loadPolicy(deploy.policyPath, deps);
    const before = snapshot(deploy.root);
    const error = await expectFailure(createBackup({ policy, reason: 'test' }, deps), 'backup-dir-unwritable');
    expect(error.message).toMatch(/ENOTDIR|EEXIST/);
    expect(snapshot(deploy.root)).toEqual(before);
  });

  it('a write failure in the backup folder (EROFS, simulated: root ignores modes): exit 3, nothing changed', async () => {
    const deploy = deployment();
    const base = depsFor(deploy);
    const readOnly = Object.assign(new Error('read-only file system'), { code: 'EROFS' });
    const deps = depsFor(deploy, {
      files: {
        ...base.files,
        writeAtomic: async (path, data, options) => {
          if (path.includes('/backups/')) throw readOnly;
          return base.files.writeAtomic(path, data, options);
        },
      },
    });
    const policy = await loadPolicy(deploy.policyPath, deps);
    const error = await expectFailure(createBackup({ policy, reason: 'test' }, deps), 'backup-write-failed');
    expect(error.message).toMatch(/EROFS/);
    expect(readdirSync(deploy.path('backups'))).toEqual([]);
    expect(existsSync(deploy.path('.secrets/audit.jsonl'))).toBe(false);
  });

  it('a backup that does not verify is deleted: exit 3', async () => {
    const deploy = deployment();
    const base = depsFor(deploy);
    const real = await base.loadPgp();
    const corrupting: Pgp = {
      ...real,
      decrypt: async (bytes, options) => {
        const result = await real.decrypt(bytes, options);
        const data = Uint8Array.from(result.data);
        data[data.length - 1100] = data[data.length - 1100]! ^ 1; // inside the last file's data
        return { ...result, data };
      },
    };
    const deps = depsFor(deploy, { loadPgp: async () => corrupting });
    const policy = await loadPolicy(deploy.policyPath, deps);
    await expectFailure(createBackup({ policy, reason: 'test' }, deps), 'backup-verify-failed');
    expect(readdirSync(deploy.path('backups'))).toEqual([]);
  });
});

describe('restore refuses what could hurt', () => {
  it('never writes outside the restore folder, whatever names a crafted archive holds', async () => {
    const deploy = deployment();
    const deps = depsFor(deploy);
    const policy = await loadPolicy(deploy.policyPath, deps);
    const pgp = await deps.loadPgp();
    const tar = writeTar([
      { name: '../escaped', data: new TextEncoder().encode('x') },
      { name: '/etc/escaped', data: new TextEncoder().encode('x') },
      { name: 'fine.txt', data: new TextEncoder().encode('ok') },
    ]);
    const crafted = join(tempDir(), 'crafted.tar.gpg');
    writeFileSync(crafted, await pgp.encrypt(tar, { recipients: [], passphrase: new Secret('correct horse battery') }));
    const parent = tempDir();
    const outcome = await restoreBackup({ policy, file: crafted, to: join(parent, 'out') }, deps);
    expect(outcome.files.map((file) => file.name)).toEqual(['fine.txt']);
    expect(outcome.skipped).toEqual(['../escaped', '/etc/escaped']);
    expect(readdirSync(parent)).toEqual(['out']);
    expect(existsSync('/etc/escaped')).toBe(false);
  });

  it('refuses a --to folder that already holds files', async () => {
    const deploy = deployment();
    const deps = depsFor(deploy);
    const policy = await loadPolicy(deploy.policyPath, deps);
    const { path } = await createBackup({ policy, reason: 'test' }, deps);
    const busy = tempDir();
    writeFileSync(join(busy, 'keep.txt'), 'mine');
    await expectFailure(restoreBackup({ policy, file: path, to: busy }, deps), 'restore-target-exists');
    expect(readdirSync(busy)).toEqual(['keep.txt']);
  });

  it('--in-place failing after the first file: exit 3, every file put back (all or nothing)', async () => {
    const deploy = deployment();
    const base = depsFor(deploy);
    const policy = await loadPolicy(deploy.policyPath, base);
    const { path } = await createBackup({ policy, reason: 'test' }, base);
    writeFileSync(deploy.path('.env'), 'CHANGED=1\n');
    writeFileSync(deploy.path('data/utf8.txt'), 'changed\n');
    const deps = depsFor(deploy, {
      files: {
        ...base.files,
        writeAtomic: async (target, data, options) => {
          // The second live file fails, once: the first is already replaced and must come back.
          if (!target.includes('/.secrets/') && !target.includes('/backups/') && ++liveWrites === 2)
            throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
          return base.files.writeAtomic(target, data, options);
        },
      },
    });
    let liveWrites = 0;
    await expectFailure(restoreBackup({ policy, file: path, inPlace: true }, deps), 'restore-write-failed', 3);
    expect(liveWrites).toBeGreaterThanOrEqual(3);
    expect(readFileSync(deploy.path('.env'), 'utf8')).toBe('CHANGED=1\n');
    expect(readFileSync(deploy.path('data/utf8.txt'), 'utf8')).toBe('changed\n');
    expect(existsSync(deploy.path('.secrets/rotation/journal.json'))).toBe(false);
  });

  it('a public-key backup with one flipped byte is reported damaged, not "wrong key"', async () => {
    const deploy = deployment({ passphrase_env: undefined, recipients: ['ops.asc'] });
    const pgp = await depsFor(deploy).loadPgp();
    const openpgp = await import('openpgp');
    const { privateKey, publicKey } = await openpgp.generateKey({
      userIDs: [{ email: 'ops@example.invalid' }],
      format: 'armored',
    });
    writeFileSync(deploy.path('ops.asc'), publicKey);
    const keyFile = join(tempDir(), 'ops.key');
    writeFileSync(keyFile, privateKey, { mode: 0o600 });
    const deps = depsFor(deploy, { env: {} });
    const policy = await loadPolicy(deploy.policyPath, deps);
    const { path } = await createBackup({ policy, reason: 'test' }, deps);
    expect((await pgp.inspect(readFileSync(path))).passphrase).toBe(false);
    const bytes = readFileSync(path);
    bytes[bytes.length - 40] = bytes[bytes.length - 40]! ^ 1;
    writeFileSync(path, bytes);
    await expectFailure(
      restoreBackup({ policy, file: path, keyFile, to: join(tempDir(), 'out') }, deps),
      'pgp-damaged',
    );
  });
});

describe('listBackups / pruneBackups / adoptPlaintext', () => {
  it('lists newest first with names inside and whether they open', async () => {
    const deploy = deployment();
    const deps = depsFor(deploy);
    const policy = await loadPolicy(deploy.policyPath, deps);
    await createBackup({ policy, reason: 'one' }, deps);
    await createBackup({ policy, reason: 'two' }, deps);
    const listing = await listBackups({ policy }, deps);
    expect(listing.map((entry) => entry.name)).toEqual([
      'test-deploy-20261124T120000Z-2.tar.gpg',
      'test-deploy-20261124T120000Z.tar.gpg',
    ]);
    expect(listing[0]!.access).toBe('opens');
    expect(listing[0]!.files).toEqual(FILES);
    const wrong = await listBackups({ policy }, depsFor(deploy, { env: { BK_PASS: 'nope' } }));
    expect(wrong[0]!.access).toBe('wrong-passphrase');
  });

  it('prunes backups older than keep but always keeps the newest', async () => {
    const deploy = deployment({ keep: '30d' });
    const policy = await loadPolicy(deploy.policyPath, depsFor(deploy));
    const old1 = depsFor(deploy, { now: new Date('2026-08-01T00:00:00Z') });
    const old2 = depsFor(deploy, { now: new Date('2026-09-01T00:00:00Z') });
    const recent = depsFor(deploy, { now: new Date('2026-11-20T00:00:00Z') });
    await createBackup({ policy, reason: 'a' }, old1);
    await createBackup({ policy, reason: 'b' }, old2);
    writeFileSync(deploy.path('backups/notes.gpg'), 'not ours');
    const later = depsFor(deploy, { now: new Date('2027-06-01T00:00:00Z') });
    let pruned = await pruneBackups({ policy }, later);
    expect(pruned.removed).toEqual(['test-deploy-20260801T000000Z.tar.gpg']);
    expect(pruned.kept).toEqual(['test-deploy-20260901T000000Z.tar.gpg']);
    await createBackup({ policy, reason: 'c' }, recent);
    pruned = await pruneBackups({ policy }, depsFor(deploy));
    expect(pruned.removed).toEqual(['test-deploy-20260901T000000Z.tar.gpg']);
    expect(readdirSync(deploy.path('backups')).sort()).toEqual(['notes.gpg', 'test-deploy-20261120T000000Z.tar.gpg']);
  });

  it('adopts a plaintext copy: encrypts, verifies, removes it; never a live file', async () => {
    const deploy = deployment();
    writeFileSync(deploy.path('.env.backup.1700000000'), readFileSync(deploy.path('.env')));
    const deps = depsFor(deploy);
    const policy = await loadPolicy(deploy.policyPath, deps);
    const adopted = await adoptPlaintext({ policy, file: '.env.backup.1700000000' }, deps);
    expect(existsSync(deploy.path('.env.backup.1700000000'))).toBe(false);
    expect(adopted.backup.files[0]!.path).toBe(deploy.path('.env.backup.1700000000'));
    const out = join(tempDir(), 'out');
    await restoreBackup({ policy, file: adopted.backup.path, to: out }, deps);
    expect(Buffer.compare(readFileSync(join(out, '.env.backup.1700000000')), readFileSync(deploy.path('.env')))).toBe(
      0,
    );
    await expectFailure(adoptPlaintext({ policy, file: '.env' }, deps), 'adopt-live-file');
    expect(existsSync(deploy.path('.env'))).toBe(true);
  });
});
