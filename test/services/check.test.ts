import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../src/services/check.js';
import type { CheckId } from '../../src/core/checks/types.js';
import { makeCleanDeployment } from '../helpers/clean-deployment.js';
import { testDeps } from '../helpers/deps.js';
import { commitFiles, git } from '../helpers/git-repo.js';

const NOW = new Date('2026-11-24T12:00:00Z');

async function check(deployment: Awaited<ReturnType<typeof makeCleanDeployment>>, now = NOW) {
  return runCheck({ policy: deployment.policy, now }, testDeps({ now }));
}

function ids(outcome: Awaited<ReturnType<typeof check>>): CheckId[] {
  return [...new Set(outcome.findings.map((finding) => finding.check))];
}

describe('secrets check on a clean deployment', () => {
  it('finds nothing and every secret is ok', async () => {
    const deployment = await makeCleanDeployment();
    const outcome = await check(deployment);
    expect(outcome.findings).toEqual([]);
    expect(outcome.status).toBe('ok');
    expect(outcome.secrets.map((secret) => [secret.id, secret.status, secret.daysLeft])).toEqual([
      ['dashboard-password', 'ok', 66],
      ['dingtalk', 'ok', 66],
      ['jwt-secret', 'ok', 66],
    ]);
  });
});

describe('each check fires on its problem', () => {
  it('format: a secret file that is there but cannot be read is critical, not passed over', async () => {
    const deployment = await makeCleanDeployment();
    rmSync(deployment.path('.env'));
    mkdirSync(deployment.path('.env'));
    const outcome = await check(deployment);
    expect(outcome.findings).toContainEqual(
      expect.objectContaining({
        check: 'format',
        severity: 'critical',
        message: `${deployment.path('.env')}: cannot be read (EISDIR)`,
      }),
    );
  });

  it('deadline: warning within warn_before, critical past due, critical when never recorded', async () => {
    const deployment = await makeCleanDeployment();
    const warning = await check(deployment, new Date('2027-01-20T00:00:00Z'));
    expect(
      warning.findings.filter((finding) => finding.check === 'deadline').map((finding) => finding.severity),
    ).toEqual(['warning', 'warning', 'warning']);
    expect(warning.status).toBe('warning');
    const overdue = await check(deployment, new Date('2027-02-01T00:00:00Z'));
    expect(overdue.findings.find((finding) => finding.check === 'deadline')).toMatchObject({
      severity: 'critical',
      message: expect.stringContaining('overdue since 2027-01-30'),
    });
    rmSync(deployment.path('.secrets/audit.jsonl'));
    rmSync(deployment.path('.secrets/audit.head'));
    const never = await check(deployment);
    expect(never.findings.filter((finding) => finding.check === 'deadline')).toHaveLength(3);
    expect(never.findings[0]!.message).toContain('no rotation recorded');
  });

  it('file-mode: a looser .env and a missing htpasswd are critical', async () => {
    const deployment = await makeCleanDeployment();
    chmodSync(deployment.path('.env'), 0o644);
    const outcome = await check(deployment);
    expect(outcome.findings).toEqual([
      expect.objectContaining({
        check: 'file-mode',
        severity: 'critical',
        message: expect.stringContaining('mode 644 is looser than 600'),
      }),
    ]);
    chmodSync(deployment.path('.env'), 0o400);
    expect(ids(await check(deployment))).toEqual([]);
    rmSync(deployment.path('nginx/.htpasswd'));
    expect((await check(deployment)).findings[0]).toMatchObject({
      check: 'file-mode',
      message: expect.stringContaining('missing'),
    });
  });

  it('gitignore: a missing pattern warns, a tracked secret file is critical', async () => {
    const deployment = await makeCleanDeployment();
    writeFileSync(deployment.path('.gitignore'), '.env\n.secrets/\n');
    const missing = await check(deployment);
    expect(missing.findings.map((finding) => [finding.check, finding.severity])).toEqual([
      ['gitignore', 'warning'],
      ['gitignore', 'warning'],
      ['gitignore', 'warning'],
    ]);
    git(deployment.root, ['add', '-f', '.env']);
    commitFiles(deployment.root, {}, 'oops');
    const tracked = await check(deployment);
    expect(tracked.findings[0]).toMatchObject({
      check: 'gitignore',
      severity: 'critical',
      path: deployment.path('.env'),
    });
  });

  it('gitignore: silent outside git', async () => {
    const deployment = await makeCleanDeployment();
    rmSync(deployment.path('.git'), { recursive: true });
    writeFileSync(deployment.path('.gitignore'), '');
    expect(ids(await check(deployment))).toEqual([]);
  });

  it('placeholder: an empty or placeholder value is critical', async () => {
    const deployment = await makeCleanDeployment();
    const env = readFileSync(deployment.path('.env'), 'utf8');
    writeFileSync(
      deployment.path('.env'),
      env
        .replace(/JWT_SECRET_KEY=.*/, 'JWT_SECRET_KEY=change-in-production-please-000000000000000000000000000')
        .replace(/DINGTALK_SECRET=.*/, 'DINGTALK_SECRET='),
    );
    const outcome = await check(deployment);
    const placeholders = outcome.findings.filter((finding) => finding.check === 'placeholder');
    expect(placeholders.map((finding) => finding.secret).sort()).toEqual(['dingtalk', 'jwt-secret']);
    expect(placeholders.map((finding) => finding.message).join('\n')).toMatch(
      /DINGTALK_SECRET is empty[\s\S]*"change-in-production"/,
    );
  });

  it('format: a wrong DingTalk URL, a short secret, a short random key and a non-bcrypt htpasswd line', async () => {
    const deployment = await makeCleanDeployment();
    const env = readFileSync(deployment.path('.env'), 'utf8');
    writeFileSync(
      deployment.path('.env'),
      env
        .replace('https://oapi', 'http://oapi')
        .replace(/(DINGTALK_SECRET=SEC)[0-9a-f]{10}/, '$1')
        .replace(/(JWT_SECRET_KEY=)[0-9a-f]{10}/, '$1'),
    );
    writeFileSync(deployment.path('nginx/.htpasswd'), 'admin:{SHA}' + 'A'.repeat(27) + '=\n');
    const outcome = await check(deployment);
    const messages = outcome.findings.filter((finding) => finding.check === 'format').map((finding) => finding.message);
    expect(messages).toHaveLength(4);
    expect(messages.join('\n')).toMatch(/not a DingTalk robot URL/);
    expect(messages.join('\n')).toMatch(/not a DingTalk signing secret/);
    expect(messages.join('\n')).toMatch(/54 characters; the policy asks for at least 64/);
    expect(messages.join('\n')).toMatch(/uses sha1, not bcrypt/);
  });

  it('format: an unreadable .env line is critical with file:line', async () => {
    const deployment = await makeCleanDeployment();
    writeFileSync(
      deployment.path('.env'),
      `${readFileSync(deployment.path('.env'), 'utf8')}this is not an assignment\n`,
    );
    const outcome = await check(deployment);
    expect(outcome.findings.find((finding) => finding.check === 'format')?.message).toContain(
      `${deployment.path('.env')}:6`,
    );
  });

  it('plaintext-backup: a .env.backup copy and a non-OpenPGP file in the backup folder are critical', async () => {
    const deployment = await makeCleanDeployment();
    writeFileSync(deployment.path('.env.backup.1700000000'), readFileSync(deployment.path('.env')));
    writeFileSync(deployment.path('backups/env-copy'), readFileSync(deployment.path('.env')));
    const outcome = await check(deployment);
    expect(
      outcome.findings.filter((finding) => finding.check === 'plaintext-backup').map((finding) => finding.path),
    ).toEqual([deployment.path('.env.backup.1700000000'), deployment.path('backups/env-copy')]);
    expect(outcome.findings[0]!.message).toContain('secrets backup --adopt');
  });

  it('plaintext-backup: a folder left by secrets restore is critical', async () => {
    const deployment = await makeCleanDeployment();
    mkdirSync(deployment.path('backups/mt5-test-20261120T000000Z.restored'));
    const outcome = await check(deployment);
    expect(outcome.findings).toEqual([
      expect.objectContaining({
        check: 'plaintext-backup',
        severity: 'critical',
        message: expect.stringContaining('left by secrets restore'),
      }),
    ]);
  });

  it('backup-age: none, or none newer than keep, is a warning', async () => {
    const deployment = await makeCleanDeployment();
    const backup = deployment.path('backups/mt5-test-20261120T000000Z.tar.gpg');
    const old = new Date('2026-09-01T00:00:00Z');
    utimesSync(backup, old, old);
    expect((await check(deployment)).findings).toEqual([
      expect.objectContaining({
        check: 'backup-age',
        severity: 'warning',
        message: expect.stringContaining('2026-09-01'),
      }),
    ]);
    renameSync(backup, deployment.path('elsewhere.gpg'));
    expect((await check(deployment)).findings).toEqual([
      expect.objectContaining({ check: 'backup-age', message: expect.stringContaining('no encrypted backup') }),
    ]);
  });

  it('audit-chain: an edited trail is critical', async () => {
    const deployment = await makeCleanDeployment();
    const path = deployment.path('.secrets/audit.jsonl');
    writeFileSync(path, readFileSync(path, 'utf8').replace('"dingtalk"', '"dingtalk2"'));
    const outcome = await check(deployment);
    expect(outcome.findings.find((finding) => finding.check === 'audit-chain')).toMatchObject({
      severity: 'critical',
      path: `${path}:3`,
    });
  });
});
