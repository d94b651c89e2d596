import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSecrets } from '../helpers/cli.js';
import { makeDeployment } from '../helpers/deployment.js';
import { startDingtalkServer } from '../helpers/dingtalk-server.js';
import { fakeHex } from '../helpers/fake-secrets.js';
import { commitFiles, git, initRepo } from '../helpers/git-repo.js';
import { BACKUP_ENV, BACKUP_POLICY } from '../helpers/rotation.js';
import { tempDir } from '../helpers/temp-dir.js';

function hasFilterRepo(): boolean {
  try {
    execFileSync('git', ['filter-repo', '--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const filterRepo = hasFilterRepo();
if (!filterRepo && process.env.CI === 'true') throw new Error('git-filter-repo is required under CI (see .ci/run)');

describe('secrets revoke --leaked-in: scenario 2, .env committed to git', () => {
  it.skipIf(!filterRepo)(
    'revokes exactly the secrets in the commit, one alert through the new robot, one purge file filter-repo accepts',
    async () => {
      const server = await startDingtalkServer();
      const oldRobot = server.addRobot();
      const newRobot = server.addRobot();
      const appKey = fakeHex(64);
      const otherKey = fakeHex(64);
      const leakedEnv = `SECRET_KEY=${appKey}\nDINGTALK_WEBHOOK_URL=${oldRobot.url}\nDINGTALK_SECRET=${oldRobot.secret}\n`;
      const deployment = makeDeployment({
        files: { '.env': { content: leakedEnv, mode: 0o600 } },
        policy: {
          backup: BACKUP_POLICY,
          secrets: {
            app: { kind: 'random', env_key: 'SECRET_KEY', rotate_every: '90d' },
            other: { kind: 'random', env_key: 'OTHER_KEY', rotate_every: '90d' },
            dingtalk: { kind: 'dingtalk', rotate_every: '90d', timeout: '2s' },
          },
          notify: { dingtalk: 'dingtalk' },
        },
      });
      initRepo(deployment.root);
      // .env is not ignored yet: `git add -A` commits it.
      const leak = commitFiles(deployment.root, { '.gitignore': 'backups/\n.secrets/\n' }, 'add config');
      git(deployment.root, ['rm', '-q', '--cached', '.env']);
      commitFiles(deployment.root, { '.gitignore': '.env\nbackups/\n.secrets/\n' }, 'remove .env');
      // OTHER_KEY came later and never was in git.
      commitFiles(deployment.root, { '.env': { content: `${leakedEnv}OTHER_KEY=${otherKey}\n`, mode: 0o600 } }, 'n');

      const result = await runSecrets(['revoke', '--leaked-in', leak, '--incident', 'INC-7', '--yes'], {
        cwd: deployment.root,
        env: BACKUP_ENV,
        input: `DINGTALK_WEBHOOK_URL=${newRobot.url}\nDINGTALK_SECRET=${newRobot.secret}\n`,
      });
      const all = result.stdout + result.stderr;
      expect(result.code, all).toBe(1); // replaced, but the old values are still in the history
      expect(result.stdout).toMatch(/leaked in \w+: app, dingtalk/);
      // The robot leaked: it goes first, and the one alert goes out through its replacement.
      expect(result.stdout.indexOf('dingtalk (dingtalk): revoking')).toBeLessThan(
        result.stdout.indexOf('app (random): revoking'),
      );
      const env = readFileSync(deployment.path('.env'), 'utf8');
      expect(env).not.toContain(appKey);
      expect(env).not.toContain(oldRobot.secret!);
      expect(env).toContain(`OTHER_KEY=${otherKey}`);
      for (const value of [appKey, oldRobot.secret!, otherKey]) expect(all).not.toContain(value);

      const alerts = server.accepted().filter((message) => message.text.includes('INC-7'));
      expect(alerts).toHaveLength(1);
      expect(alerts[0]!.accessToken).toBe(newRobot.accessToken);
      expect(alerts[0]!.text).toMatch(/app[\s\S]*dingtalk|dingtalk[\s\S]*app/);
      const audit = readFileSync(deployment.path('.secrets/audit.jsonl'), 'utf8');
      expect(audit.match(/"action":"revoked".*"incident":"INC-7"/g)).toHaveLength(2);

      const purge = /one purge file for every value: (\S+)/.exec(result.stdout)?.[1];
      expect(purge).toBeDefined();
      expect(statSync(purge!).mode & 0o777).toBe(0o600);
      const clone = join(tempDir('purge-clone-'), 'repo');
      git(deployment.root, ['clone', '-q', '--no-local', deployment.root, clone]);
      git(clone, ['filter-repo', '--quiet', '--replace-text', purge!]);
      const history = git(clone, ['log', '--all', '-p']);
      expect(history).not.toContain(appKey);
      expect(history).not.toContain(oldRobot.secret!);
      expect(history).toContain('***REMOVED***');
    },
  );

  it('--leaked-in a commit with no managed value changes nothing (exit 3)', async () => {
    const deployment = makeDeployment({
      files: { '.env': { content: `SECRET_KEY=${fakeHex(64)}\n`, mode: 0o600 } },
      policy: {
        backup: BACKUP_POLICY,
        secrets: { app: { kind: 'random', env_key: 'SECRET_KEY', rotate_every: '90d' } },
      },
    });
    initRepo(deployment.root);
    const clean = commitFiles(deployment.root, { '.gitignore': '.env\n.secrets/\nbackups/\n' }, 'clean');
    const before = readFileSync(deployment.path('.env'), 'utf8');
    const result = await runSecrets(['revoke', '--leaked-in', clean, '--yes'], {
      cwd: deployment.root,
      env: BACKUP_ENV,
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/revoke-nothing/);
    expect(readFileSync(deployment.path('.env'), 'utf8')).toBe(before);
  });
});
