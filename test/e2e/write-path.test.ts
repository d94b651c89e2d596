import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseDotenv, envValue } from '../../src/core/dotenv.js';
import { runSecrets } from '../helpers/cli.js';
import { makeDeployment } from '../helpers/deployment.js';
import { fakeAlnum, fakeHex } from '../helpers/fake-secrets.js';
import { BACKUP_ENV, BACKUP_POLICY } from '../helpers/rotation.js';

/** A deployment with a random key in .env and a second secret file (backed up with it). */
function deployment(hook = 'true') {
  const oldKey = fakeHex(64);
  const env = `JWT_SECRET_KEY=${oldKey}\nPORT=8080\n`;
  const other = `admin:${fakeAlnum(20)}\n`;
  const deploy = makeDeployment({
    files: { '.env': env, 'htpasswd.txt': other },
    policy: {
      backup: { ...BACKUP_POLICY, files: ['.env', 'htpasswd.txt'] },
      secrets: { jwt: { kind: 'random', env_key: 'JWT_SECRET_KEY', rotate_every: '90d', after_change: [hook] } },
    },
  });
  return { deploy, env, other, oldKey, cwd: deploy.root };
}

function auditLines(root: string): Array<{ seq: number; action: string; details?: Record<string, unknown> }> {
  const path = `${root}/.secrets/audit.jsonl`;
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { seq: number; action: string });
}

function staleLock(): string {
  return JSON.stringify({
    pid: deadPid(),
    host: hostname(),
    user: 'x',
    command: 'crashed',
    since: new Date().toISOString(),
    nonce: fakeHex(24),
  });
}

/** The pid of a process that has exited: what a crashed holder leaves in its lock. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

function leftovers(root: string): string[] {
  const names = [...readdirSync(root), ...readdirSync(`${root}/.secrets`).map((name) => `.secrets/${name}`)];
  return names.filter((name) => name.endsWith('.tmp') || /(^|\/)lock/.test(name) || name.includes('takeover'));
}

describe('row 1: concurrent appends', () => {
  it('8 records at once: every one exits 0, seq 1..8, log --verify exits 0', async () => {
    const { cwd } = deployment();
    const runs = await Promise.all(
      Array.from({ length: 8 }, (_unused, index) =>
        runSecrets(['record', 'jwt', '--note', `run ${index}`], { cwd, env: BACKUP_ENV }),
      ),
    );
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    expect(auditLines(cwd).map((entry) => entry.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const verify = await runSecrets(['log', '--verify'], { cwd });
    expect(verify.code, verify.stderr).toBe(0);
    expect(leftovers(cwd)).toEqual([]);
  });
});

describe('row 5: a stale lock and many processes racing for it', () => {
  it('12 rounds of 6 commands on a dead holder: never two holders, the trail stays one chain', async () => {
    const { deploy, cwd } = deployment();
    let expected = 0;
    mkdirSync(deploy.path('.secrets'), { recursive: true, mode: 0o700 });
    for (let round = 0; round < 12; round++) {
      writeFileSync(deploy.path('.secrets/lock'), staleLock());
      const runs = await Promise.all(
        Array.from({ length: 6 }, () => runSecrets(['record', 'jwt'], { cwd, env: BACKUP_ENV })),
      );
      for (const run of runs) expect(run.code, run.stderr).toBe(0);
      expected += 6;
    }
    const seqs = auditLines(cwd).map((entry) => entry.seq);
    expect(seqs).toEqual(Array.from({ length: expected }, (_unused, index) => index + 1));
    expect((await runSecrets(['log', '--verify'], { cwd })).code).toBe(0);
    expect(leftovers(cwd)).toEqual([]);
  }, 120_000);

  it('6 rotations at once on a dead holder: exactly the ones that say so rotated, one at a time', async () => {
    const { deploy, cwd } = deployment();
    mkdirSync(deploy.path('.secrets'), { recursive: true, mode: 0o700 });
    let succeeded = 0;
    for (let round = 0; round < 3; round++) {
      writeFileSync(deploy.path('.secrets/lock'), staleLock());
      const runs = await Promise.all(
        Array.from({ length: 6 }, () => runSecrets(['rotate', 'jwt', '--yes'], { cwd, env: BACKUP_ENV })),
      );
      for (const run of runs) {
        expect([0, 3], run.stderr).toContain(run.code);
        if (run.code === 3) expect(run.stderr).toMatch(/locked by/);
      }
      succeeded += runs.filter((run) => run.code === 0).length;
    }
    expect(succeeded).toBeGreaterThanOrEqual(3);
    expect(auditLines(cwd).filter((entry) => entry.action === 'rotated')).toHaveLength(succeeded);
    expect((await runSecrets(['log', '--verify'], { cwd })).code).toBe(0);
    expect(leftovers(cwd)).toEqual([]);
  }, 120_000);
});

describe('row 6: an empty lock file (a crash right after it was created)', () => {
  it('check reports it; rotate takes it over after a short wait and succeeds', async () => {
    const { deploy, cwd } = deployment();
    await runSecrets(['record', 'jwt'], { cwd });
    writeFileSync(deploy.path('.secrets/lock'), '');
    const past = new Date(Date.now() - 10_000);
    utimesSync(deploy.path('.secrets/lock'), past, past);
    const check = await runSecrets(['check'], { cwd });
    expect(check.stdout).toMatch(/lock: left by a command that died \(an empty or unreadable lock file\)/);
    const rotate = await runSecrets(['rotate', 'jwt', '--yes'], { cwd, env: BACKUP_ENV });
    expect(rotate.code, rotate.stderr).toBe(0);
    expect(leftovers(cwd)).toEqual([]);
  });

  it('a fresh empty lock is waited for (bounded), then taken over', async () => {
    const { deploy, cwd } = deployment();
    await runSecrets(['record', 'jwt'], { cwd });
    writeFileSync(deploy.path('.secrets/lock'), '');
    const record = await runSecrets(['record', 'jwt'], { cwd });
    expect(record.code, record.stderr).toBe(0);
  });

  it('check says critical when a live holder keeps the lock longer than any rotation takes', async () => {
    const { deploy, cwd } = deployment();
    await runSecrets(['record', 'jwt'], { cwd });
    const lock = deploy.path('.secrets/lock');
    writeFileSync(
      lock,
      JSON.stringify({
        pid: process.pid,
        host: hostname(),
        user: 'x',
        command: 'secrets rotate',
        since: '2026-01-01T00:00:00Z',
        nonce: fakeHex(24),
      }),
    );
    const past = new Date(Date.now() - 3 * 3600_000);
    utimesSync(lock, past, past);
    const check = await runSecrets(['check'], { cwd });
    expect(check.code).toBe(2);
    expect(check.stdout).toMatch(/lock: held for 180 min \(pid \d+ .*"secrets rotate"/);
    const rotate = await runSecrets(['rotate', 'jwt', '--yes'], { cwd, env: BACKUP_ENV });
    expect(rotate.code).toBe(3);
    expect(rotate.stderr).toMatch(/locked by x \(pid/);
  });
});

describe('row 7: a trail cut short stays broken until an audited repair', () => {
  it('truncated by two lines: appends are refused, verify stays 2 and check critical, until log --repair', async () => {
    const { deploy, cwd } = deployment();
    for (let index = 0; index < 4; index++) expect((await runSecrets(['record', 'jwt'], { cwd })).code).toBe(0);
    const path = deploy.path('.secrets/audit.jsonl');
    const lines = readFileSync(path, 'utf8').split('\n');
    writeFileSync(path, `${lines.slice(0, 2).join('\n')}\n`);
    const trail = readFileSync(path);

    const record = await runSecrets(['record', 'jwt'], { cwd });
    expect(record.code).toBe(3);
    expect(record.stderr.trim().split('\n')).toHaveLength(1);
    expect(record.stderr).toMatch(
      /audit\.jsonl: the audit trail is broken at line 3 .*nothing was changed .*log --repair/,
    );
    const rotate = await runSecrets(['rotate', 'jwt', '--yes'], { cwd, env: BACKUP_ENV });
    expect(rotate.code).toBe(3);
    expect(readFileSync(path)).toEqual(trail);
    expect((await runSecrets(['log', '--verify'], { cwd })).code).toBe(2);
    expect((await runSecrets(['check'], { cwd })).stdout).toMatch(/audit trail broken at line 3/);

    const repair = await runSecrets(['log', '--repair', '--note', 'lost two lines in a disk restore'], { cwd });
    expect(repair.code, repair.stderr).toBe(0);
    expect(repair.stdout).toMatch(/repaired: found line 3: .*removed from the end.*recorded as entry 3/);
    const verify = await runSecrets(['log', '--verify'], { cwd });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/intact: 3 entries .*repaired at line 3/);
    const repairEntry = auditLines(cwd)[2]!;
    expect(repairEntry.action).toBe('audit-repaired');
    expect(repairEntry.details).toMatchObject({ badLine: 3, entries: 2, head: { seq: 4 } });
    expect((await runSecrets(['record', 'jwt'], { cwd })).code).toBe(0);
    expect((await runSecrets(['log', '--verify'], { cwd })).code).toBe(0);

    // Editing a line the repair sealed breaks the trail again.
    const sealed = readFileSync(path, 'utf8').replace('"seq":1,', '"seq":1, ');
    writeFileSync(path, sealed);
    expect((await runSecrets(['log', '--verify'], { cwd })).stderr).toMatch(/:3: .*changed after it/);
  });

  it('an edited last line is refused the same way', async () => {
    const { deploy, cwd } = deployment();
    await runSecrets(['record', 'jwt', '--note', 'one'], { cwd });
    const path = deploy.path('.secrets/audit.jsonl');
    writeFileSync(path, readFileSync(path, 'utf8').replace('one', 'two'));
    expect((await runSecrets(['record', 'jwt'], { cwd })).code).toBe(3);
    expect((await runSecrets(['log', '--verify'], { cwd })).code).toBe(2);
  });

  it('a crash between the line and its head is recognised, not called tampering', async () => {
    const { cwd } = deployment();
    await runSecrets(['record', 'jwt'], { cwd });
    const killed = await runSecrets(['record', 'jwt'], { cwd, env: { SECRETS_TEST_CRASH_AT: 'audit-line-written' } });
    expect(killed.code).toBeNull();
    const verify = await runSecrets(['log', '--verify'], { cwd });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/intact: 2 entries .*written just before a crash/);
    expect((await runSecrets(['check'], { cwd })).stdout).not.toMatch(/audit/);
    expect((await runSecrets(['record', 'jwt'], { cwd })).code).toBe(0);
    const after = await runSecrets(['log', '--verify'], { cwd });
    expect(after.stdout).toMatch(/intact: 3 entries \(/);
    expect(after.stdout).not.toMatch(/crash/);
  });
});

async function backupNow(cwd: string): Promise<string> {
  const backup = await runSecrets(['backup'], { cwd, env: BACKUP_ENV });
  expect(backup.code, backup.stderr).toBe(0);
  return /backup written and verified: (\S+)/.exec(backup.stdout)![1]!;
}

describe('row 2: restore --in-place is all-or-nothing', () => {
  it('restores both files, records one `restored` event, and check dates the secret by the backup', async () => {
    const { deploy, cwd, env, other } = deployment();
    const old = new Date(Date.now() - 100 * 86_400_000).toISOString().slice(0, 10);
    expect((await runSecrets(['record', 'jwt', '--on', old], { cwd })).code).toBe(0);
    const backup = await backupNow(cwd);
    expect((await runSecrets(['rotate', 'jwt', '--yes'], { cwd, env: BACKUP_ENV })).code).toBe(0);
    writeFileSync(deploy.path('htpasswd.txt'), `admin:${fakeAlnum(20)}\n`);
    const before = JSON.parse((await runSecrets(['check', '--json'], { cwd })).stdout) as {
      secrets: Array<{ id: string; lastRotated: string }>;
    };
    expect(before.secrets[0]!.lastRotated.slice(0, 10)).toBe(new Date().toISOString().slice(0, 10));

    const restore = await runSecrets(['restore', backup, '--in-place'], { cwd, env: BACKUP_ENV });
    expect(restore.code, restore.stderr).toBe(0);
    expect(readFileSync(deploy.path('.env'), 'utf8')).toBe(env);
    expect(readFileSync(deploy.path('htpasswd.txt'), 'utf8')).toBe(other);
    const restored = auditLines(cwd).filter((entry) => entry.action === 'restored');
    expect(restored).toHaveLength(1);
    expect(restored[0]!.details).toMatchObject({ secrets: ['jwt'], mode: 'in-place' });
    const after = JSON.parse((await runSecrets(['check', '--json'], { cwd })).stdout) as {
      secrets: Array<{ id: string; lastRotated: string; status: string }>;
    };
    expect(after.secrets[0]!.lastRotated.slice(0, 10)).toBe(old);
    expect(after.secrets[0]!.status).toBe('critical');
    expect((await runSecrets(['log', '--verify'], { cwd })).code).toBe(0);
    expect(leftovers(cwd)).toEqual([]);
  });

  it('kill -9 after the first file: check and log say so, restore --recover puts both back', async () => {
    const { deploy, cwd } = deployment();
    const backup = await backupNow(cwd);
    const newEnv = `JWT_SECRET_KEY=${fakeHex(64)}\nPORT=8080\n`;
    const newOther = `admin:${fakeAlnum(20)}\n`;
    writeFileSync(deploy.path('.env'), newEnv);
    writeFileSync(deploy.path('htpasswd.txt'), newOther);
    const killed = await runSecrets(['restore', backup, '--in-place'], {
      cwd,
      env: { ...BACKUP_ENV, SECRETS_TEST_CRASH_AT: 'swapping' },
    });
    expect(killed.code).toBeNull();
    // Half-way: .env restored, htpasswd not.
    expect(readFileSync(deploy.path('htpasswd.txt'), 'utf8')).toBe(newOther);
    const check = await runSecrets(['check'], { cwd });
    expect(check.code).toBe(2);
    expect(check.stdout).toMatch(/an in-place restore was interrupted during swapping.*secrets restore --recover/);
    expect(auditLines(cwd).some((entry) => entry.action === 'restored')).toBe(false);

    const recover = await runSecrets(['restore', '--recover'], { cwd, env: BACKUP_ENV });
    expect(recover.code, recover.stderr).toBe(0);
    expect(recover.stdout).toMatch(/recovered: .*putting the previous content back/);
    expect(readFileSync(deploy.path('.env'), 'utf8')).toBe(newEnv);
    expect(readFileSync(deploy.path('htpasswd.txt'), 'utf8')).toBe(newOther);
    expect((await runSecrets(['log', '--verify'], { cwd })).code).toBe(0);
    expect((await runSecrets(['check'], { cwd })).stdout).not.toMatch(/interrupted/);
    expect(leftovers(cwd)).toEqual([]);
    expect(existsSync(deploy.path('.secrets/rotation')) ? readdirSync(deploy.path('.secrets/rotation')) : []).toEqual(
      [],
    );
  });
});

describe('row 3: restore --in-place while a rotation runs', () => {
  it('the restore waits for the lock; the rotation never writes its stale plan over it', async () => {
    const { deploy, cwd, env } = deployment('sleep 2');
    const backup = await backupNow(cwd);
    const rotation = runSecrets(['rotate', 'jwt', '--yes'], { cwd, env: BACKUP_ENV });
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const restore = await runSecrets(['restore', backup, '--in-place'], { cwd, env: BACKUP_ENV });
    const rotated = await rotation;
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(restore.code, restore.stderr).toBe(0);
    // The restore ran after the rotation ended, so the file holds the backup's content.
    expect(readFileSync(deploy.path('.env'), 'utf8')).toBe(env);
    const actions = auditLines(cwd).map((entry) => entry.action);
    expect(actions.indexOf('rotated')).toBeLessThan(actions.indexOf('restored'));
    expect((await runSecrets(['log', '--verify'], { cwd })).code).toBe(0);
    const value = envValue(parseDotenv(readFileSync(deploy.path('.env'), 'utf8'), '.env'), 'JWT_SECRET_KEY');
    expect(env).toContain(value);
  });
});

describe('restore --in-place of a backup identical to the live files', () => {
  it('changes nothing and still records the restore (the journal folder need not exist yet)', async () => {
    const { deploy, cwd, env } = deployment();
    const backup = await backupNow(cwd);
    const restore = await runSecrets(['restore', backup, '--in-place'], { cwd, env: BACKUP_ENV });
    expect(restore.code, restore.stderr).toBe(0);
    expect(readFileSync(deploy.path('.env'), 'utf8')).toBe(env);
    expect(auditLines(cwd).filter((entry) => entry.action === 'restored')).toHaveLength(1);
    expect((await runSecrets(['log', '--verify'], { cwd })).code).toBe(0);
  });
});
