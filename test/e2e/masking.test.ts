import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSecrets } from '../helpers/cli.js';
import { makeDeployment } from '../helpers/deployment.js';
import { startDingtalkServer } from '../helpers/dingtalk-server.js';
import { fakeHex } from '../helpers/fake-secrets.js';
import { initRepo } from '../helpers/git-repo.js';
import { BACKUP_ENV, BACKUP_POLICY } from '../helpers/rotation.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('row 13: a failing hook that prints a managed value in another form', () => {
  it('the bare access_token and the upper-cased key are masked on stderr and in the audit trail', async () => {
    const token = fakeHex(64);
    const jwt = fakeHex(64);
    const deploy = makeDeployment({
      files: {
        '.env': `JWT_SECRET_KEY=${jwt}\nWEBHOOK_URL=https://robot.example.invalid/send?access_token=${token}\n`,
      },
      policy: {
        backup: BACKUP_POLICY,
        secrets: {
          hook: { kind: 'manual', env_key: 'WEBHOOK_URL', rotate_every: '90d' },
          jwt: {
            kind: 'random',
            env_key: 'JWT_SECRET_KEY',
            rotate_every: '90d',
            // Fails once (the rotation), then succeeds (the roll-back's rerun).
            after_change: [
              'test -f once && exit 0; touch once; ' +
                "echo \"token $(sed -n 's/.*access_token=//p' .env) key $(sed -n 's/JWT_SECRET_KEY=//p' .env | tr a-f A-F)\" >&2; exit 1",
            ],
          },
        },
      },
    });
    const cwd = deploy.root;
    const rotate = await runSecrets(['rotate', 'jwt', '--yes'], { cwd, env: BACKUP_ENV });
    expect(rotate.code).toBe(3);
    const trail = readFileSync(deploy.path('.secrets/audit.jsonl'), 'utf8');
    for (const text of [rotate.stdout + rotate.stderr, trail]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(jwt.toUpperCase());
      expect(text).not.toContain(jwt);
    }
    expect(rotate.stdout + rotate.stderr).toMatch(/hook FAILED/);
  });
});

describe('row 16: a server error message that repeats the token or the secret', () => {
  it('is masked before it is printed or audited; NODE_DEBUG=undici is dropped with a note', async () => {
    const server = await startDingtalkServer();
    const oldRobot = server.addRobot();
    const newRobot = server.addRobot();
    const newToken = new URL(newRobot.url).searchParams.get('access_token')!;
    const deploy = makeDeployment({
      files: { '.env': `DINGTALK_WEBHOOK_URL='${oldRobot.url}'\nDINGTALK_SECRET=${oldRobot.secret}\n` },
      policy: {
        backup: BACKUP_POLICY,
        secrets: { dingtalk: { kind: 'dingtalk', rotate_every: '90d', confirm: false } },
      },
    });
    server.answerNext(
      { errcode: 310000, errmsg: `token ${newToken} with secret ${newRobot.secret} rejected` },
      { errcode: 310000, errmsg: `token ${newToken} with secret ${newRobot.secret} rejected` },
    );
    const rotate = await runSecrets(['rotate', 'dingtalk'], {
      cwd: deploy.root,
      input: `DINGTALK_WEBHOOK_URL=${newRobot.url}\nDINGTALK_SECRET=${newRobot.secret}\n`,
      env: { ...BACKUP_ENV, NODE_DEBUG: 'undici' },
    });
    expect(rotate.code).toBe(3);
    expect(rotate.stderr).toMatch(/NODE_DEBUG for undici.* is ignored/);
    const trail = readFileSync(deploy.path('.secrets/audit.jsonl'), 'utf8');
    for (const text of [rotate.stdout + rotate.stderr, trail]) {
      expect(text).not.toContain(newToken);
      expect(text).not.toContain(newRobot.secret!);
      expect(text).not.toContain(newRobot.secret!.slice(3));
    }
    expect(rotate.stdout + rotate.stderr).toMatch(/310000|rejected/);
  });
});

describe('row 17: git children', () => {
  it('get an environment without the backup passphrase or any managed key', async () => {
    const deploy = makeDeployment({
      files: { '.env': `JWT_SECRET_KEY=${fakeHex(64)}\n`, '.gitignore': '.env\n.secrets/\nbackups/\n' },
      policy: {
        backup: BACKUP_POLICY,
        secrets: { jwt: { kind: 'random', env_key: 'JWT_SECRET_KEY', rotate_every: '90d' } },
      },
    });
    initRepo(deploy.root);
    // A git wrapper first on PATH writes the environment it was given, then runs the real git.
    const bin = tempDir('fake-git-');
    const dump = join(bin, 'env.log');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'git'), `#!/bin/sh\nenv >> ${dump}\nexec /usr/bin/git "$@"\n`);
    chmodSync(join(bin, 'git'), 0o755);
    const managed = fakeHex(64);
    const check = await runSecrets(['check'], {
      cwd: deploy.root,
      env: { ...BACKUP_ENV, JWT_SECRET_KEY: managed, PATH: `${bin}:${process.env.PATH}` },
    });
    expect(check.stderr).not.toMatch(/unexpected/);
    const seen = readFileSync(dump, 'utf8');
    expect(seen).toMatch(/^PATH=/m);
    expect(seen).not.toContain(BACKUP_ENV.SECRETS_BACKUP_PASSPHRASE!);
    expect(seen).not.toMatch(/SECRETS_BACKUP_PASSPHRASE|JWT_SECRET_KEY/);
    expect(seen).not.toContain(managed);
  });
});
