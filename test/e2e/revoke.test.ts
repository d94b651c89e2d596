import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runSecrets } from '../helpers/cli.js';
import { makeDeployment } from '../helpers/deployment.js';
import { startDingtalkServer } from '../helpers/dingtalk-server.js';
import { fakeHex } from '../helpers/fake-secrets.js';
import { commitFiles, initRepo } from '../helpers/git-repo.js';
import { BACKUP_ENV, BACKUP_POLICY } from '../helpers/rotation.js';

function randomDeployment(value: string) {
  return makeDeployment({
    files: { '.env': { content: `SECRET_KEY=${value}\n`, mode: 0o600 } },
    policy: {
      backup: BACKUP_POLICY,
      secrets: {
        app: { kind: 'random', env_key: 'SECRET_KEY', rotate_every: '90d' },
        openai: { kind: 'manual', rotate_every: '90d', steps: ['revoke the key in the console'] },
      },
    },
  });
}

describe('secrets revoke through bin/secrets: the exit-code contract', () => {
  it('0: revoked and replaced, nothing found; the audit trail has revoked with reason and incident', async () => {
    const old = fakeHex(64);
    const deployment = randomDeployment(old);
    const result = await runSecrets(['revoke', 'app', '--reason', 'laptop stolen', '--incident', 'INC-9', '--yes'], {
      cwd: deployment.root,
      env: BACKUP_ENV,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /1\/4 cut off[\s\S]*2\/4 record[\s\S]*3\/4 replace[\s\S]*4\/4 tell the team[\s\S]*revoked and replaced: app/,
    );
    const audit = readFileSync(deployment.path('.secrets/audit.jsonl'), 'utf8');
    expect(audit).toMatch(/"action":"revoked".*"reason":"laptop stolen".*"incident":"INC-9"/);
    for (const text of [result.stdout, result.stderr, audit]) expect(text).not.toContain(old);
    const check = await runSecrets(['check'], { cwd: deployment.root });
    expect(check.stdout + check.stderr).not.toMatch(/revoked/);
  });

  it('1: replaced, but the old value is in the history', async () => {
    const old = fakeHex(64);
    const deployment = randomDeployment(old);
    initRepo(deployment.root);
    commitFiles(
      deployment.root,
      { '.gitignore': '.env\n.secrets/\nbackups/\n', 'config.py': `KEY = "${old}"\n` },
      'config',
    );
    const result = await runSecrets(['revoke', 'app', '--yes'], { cwd: deployment.root, env: BACKUP_ENV });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/config\.py:1/);
    expect(result.stdout).toMatch(/git filter-repo --replace-text \S+\.replacements/);
    expect(result.stdout + result.stderr).not.toContain(old);
  });

  it('2: revoked but not replaced (a manual secret), and check is critical (exit 2) with a revoked finding', async () => {
    const deployment = randomDeployment(fakeHex(64));
    const result = await runSecrets(['revoke', 'openai', '--yes', '--no-scan'], {
      cwd: deployment.root,
      env: BACKUP_ENV,
    });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toMatch(/1\. revoke the key in the console/);
    expect(result.stdout).toMatch(/revoked, NOT replaced: openai/);
    const check = await runSecrets(['check', '--json'], { cwd: deployment.root });
    expect(check.code).toBe(2);
    expect(JSON.parse(check.stdout).findings).toContainEqual(
      expect.objectContaining({ check: 'revoked', secret: 'openai', severity: 'critical' }),
    );
  });

  it('2: a DingTalk robot without its new pair on stdin is blanked, not replaced', async () => {
    const server = await startDingtalkServer();
    const robot = server.addRobot();
    const deployment = makeDeployment({
      files: {
        '.env': { content: `DINGTALK_WEBHOOK_URL=${robot.url}\nDINGTALK_SECRET=${robot.secret}\n`, mode: 0o600 },
      },
      policy: { backup: BACKUP_POLICY, secrets: { risk: { kind: 'dingtalk', rotate_every: '90d' } } },
    });
    const result = await runSecrets(['revoke', 'risk', '--yes', '--no-scan'], {
      cwd: deployment.root,
      env: BACKUP_ENV,
    });
    expect(result.code, result.stderr).toBe(2);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe("DINGTALK_WEBHOOK_URL=''\nDINGTALK_SECRET=''\n");
    expect(result.stdout + result.stderr).not.toContain(robot.secret!);
  });

  it('3: nothing changed for an unknown id or --lock-only on a random secret', async () => {
    const old = fakeHex(64);
    const deployment = randomDeployment(old);
    const unknown = await runSecrets(['revoke', 'nope', '--yes'], { cwd: deployment.root, env: BACKUP_ENV });
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/no secret "nope"/);
    const lockOnly = await runSecrets(['revoke', 'app', '--lock-only', '--yes'], {
      cwd: deployment.root,
      env: BACKUP_ENV,
    });
    expect(lockOnly.code).toBe(3);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(`SECRET_KEY=${old}\n`);
  });

  it('--help names the flags and the exit codes', async () => {
    const result = await runSecrets(['revoke', '--help']);
    expect(result.code).toBe(0);
    for (const text of [
      '--lock-only',
      '--no-scan',
      '--incident',
      'Exit codes: 0 revoked and replaced',
      '2 revoked but NOT replaced',
    ])
      expect(result.stdout).toContain(text);
  });
});
