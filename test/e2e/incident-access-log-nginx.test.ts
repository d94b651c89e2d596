import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runSecrets } from '../helpers/cli.js';
import { makeDeployment } from '../helpers/deployment.js';
import { fakeAlnum } from '../helpers/fake-secrets.js';
import { basicAuthStatus, grantWorkerRead, startNginx } from '../helpers/nginx.js';
import { BACKUP_ENV, BACKUP_POLICY } from '../helpers/rotation.js';
import { describeWithTools } from '../helpers/system-tools.js';
import { tempDir } from '../helpers/temp-dir.js';

describeWithTools(['nginx', 'htpasswd'], 'access-log forensics through a real nginx with Basic Auth', () => {
  it('check sees the brute force in the real log; revoke lists who logged in as admin', async () => {
    const password = fakeAlnum(24);
    const line = execFileSync('htpasswd', ['-nbB', '-C', '5', 'admin', password], { encoding: 'utf8' }).trim();
    const deployment = makeDeployment({ files: { 'nginx/.htpasswd': { content: `${line}\n`, mode: 0o640 } } });
    const file = deployment.path('nginx/.htpasswd');
    const accessLog = join(tempDir('nginx-log-'), 'access.log');
    const nginx = await startNginx({ userFile: file, accessLog });
    grantWorkerRead(nginx, deployment.root, file);
    writeFileSync(
      deployment.policyPath,
      stringify({
        version: 1,
        deployment: 'mt5-crs',
        backup: BACKUP_POLICY,
        access_log: { path: accessLog, failures_warning: 20, brute_force_users: 5 },
        secrets: {
          'dashboard-password': {
            kind: 'htpasswd',
            rotate_every: '90d',
            file: 'nginx/.htpasswd',
            user: 'admin',
            bcrypt_cost: 5,
          },
        },
      }),
    );

    for (let n = 0; n < 3; n++) expect(await basicAuthStatus(nginx.url, { user: 'admin', password })).toBe(200);
    for (const user of ['root', 'admin', 'test', 'guest', 'oracle', 'ubuntu'])
      for (let n = 0; n < 4; n++) expect(await basicAuthStatus(nginx.url, { user, password: fakeAlnum(12) })).toBe(401);

    const check = await runSecrets(['check', '--json'], { cwd: deployment.root });
    const auth = (
      JSON.parse(check.stdout).findings as Array<{ check: string; severity: string; message: string }>
    ).filter((finding) => finding.check === 'auth-failures');
    expect(auth).toEqual([
      expect.objectContaining({
        severity: 'critical',
        message: expect.stringMatching(/^127\.0\.0\.1: 24 failed logins \(401\) .*6 user name\(s\) tried/),
      }),
    ]);

    const revoke = await runSecrets(['revoke', 'dashboard-password', '--lock-only', '--yes', '--no-scan'], {
      cwd: deployment.root,
      env: BACKUP_ENV,
    });
    expect(revoke.code, revoke.stdout + revoke.stderr).toBe(2);
    expect(revoke.stdout).toMatch(/successful logins as admin in the whole log/);
    expect(revoke.stdout).toMatch(/127\.0\.0\.1 {2}first \S+ {2}last \S+ {2}3 request\(s\)/);
    expect(revoke.stdout + revoke.stderr).not.toContain(password);
  });
});
