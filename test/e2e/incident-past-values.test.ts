import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runSecrets } from '../helpers/cli.js';
import { makeDeployment } from '../helpers/deployment.js';
import { fakeHex } from '../helpers/fake-secrets.js';
import { commitFiles, initRepo } from '../helpers/git-repo.js';
import { BACKUP_ENV, BACKUP_POLICY } from '../helpers/rotation.js';

/** A deployment whose old app key sits in a commit, then rotated: the old key is a past value. */
async function rotatedAfterLeak() {
  const old = fakeHex(64);
  const deployment = makeDeployment({
    files: { '.env': { content: `SECRET_KEY=${old}\n`, mode: 0o600 } },
    policy: { backup: BACKUP_POLICY, secrets: { app: { kind: 'random', env_key: 'SECRET_KEY', rotate_every: '90d' } } },
  });
  initRepo(deployment.root);
  const leak = commitFiles(
    deployment.root,
    { '.gitignore': '.env\n.secrets/\nbackups/\n', 'settings.py': `KEY = "${old}"\n` },
    'c',
  );
  commitFiles(deployment.root, { 'settings.py': 'KEY = os.environ["SECRET_KEY"]\n' }, 'read it from the env');
  const rotated = await runSecrets(['rotate', 'app', '--yes'], { cwd: deployment.root, env: BACKUP_ENV });
  expect(rotated.code, rotated.stdout + rotated.stderr).toBe(0);
  const current = readFileSync(deployment.path('.env'), 'utf8');
  expect(current).not.toContain(old);
  return { old, deployment, current, leak };
}

describe('past values: the audit trail remembers every value a secret had (fingerprints only)', () => {
  it('scan --history reports the previous value as managed:<id> (value before DATE), high, never in clear', async () => {
    const { old, deployment } = await rotatedAfterLeak();
    const result = await runSecrets(['scan', '--history'], { cwd: deployment.root });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/settings\.py:1:\d+ {2}managed:app \(value before \d{4}-\d\d-\d\d\) {2}high/);
    expect(result.stdout + result.stderr).not.toContain(old);
  });

  it('revoke --past writes the purge file for the past value and leaves the live secret alone', async () => {
    const { old, deployment, current } = await rotatedAfterLeak();
    const result = await runSecrets(['revoke', '--past', 'app', '--yes'], { cwd: deployment.root, env: BACKUP_ENV });
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/value before \d{4}-\d\d-\d\d/);
    const purge = /replacements for git filter-repo: (\S+)/.exec(result.stdout)?.[1];
    expect(purge).toBeDefined();
    expect(readFileSync(purge!, 'utf8')).toBe(`${old}==>***REMOVED***\n`);
    expect(statSync(purge!).mode & 0o777).toBe(0o600);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(current);
    expect(result.stdout + result.stderr).not.toContain(old);
  });

  it('plain revoke refuses to blank the current value when only a past value leaked, and says so (exit 3)', async () => {
    const { deployment, current } = await rotatedAfterLeak();
    const result = await runSecrets(['revoke', 'app', '--yes'], { cwd: deployment.root, env: BACKUP_ENV });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/revoke-past-only/);
    expect(result.stderr).toMatch(/past value .*the current value was never seen leaked/);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(current);
    const forced = await runSecrets(['revoke', 'app', '--current', '--yes', '--no-scan'], {
      cwd: deployment.root,
      env: BACKUP_ENV,
    });
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(deployment.path('.env'), 'utf8')).not.toBe(current);
  });

  it('revoke --leaked-in a commit holding only a past value: not revoked, the old value in the purge file', async () => {
    const { old, deployment, current, leak } = await rotatedAfterLeak();
    const result = await runSecrets(['revoke', '--leaked-in', leak, '--yes'], {
      cwd: deployment.root,
      env: BACKUP_ENV,
    });
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/app: only a past value is there/);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(current);
    const purge = /one purge file for every value: (\S+)/.exec(result.stdout)?.[1];
    expect(readFileSync(purge!, 'utf8')).toContain(old);
    expect(result.stdout + result.stderr).not.toContain(old);
  });
});
