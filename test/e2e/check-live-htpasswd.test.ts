import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runSecrets } from '../helpers/cli.js';
import { makeDeployment } from '../helpers/deployment.js';
import { fakeAlnum } from '../helpers/fake-secrets.js';
import { grantWorkerRead, startNginx } from '../helpers/nginx.js';
import { describeWithTools } from '../helpers/system-tools.js';

describeWithTools(['nginx', 'htpasswd'], 'secrets check --live, htpasswd with a probe', () => {
  it.each([
    ['guarded', '', 0],
    ['left open', 'open/', 2],
  ])('%s: the probe without a password must get expect_old', async (_name, path, code) => {
    const line = execFileSync('htpasswd', ['-nbB', '-C', '5', 'admin', fakeAlnum(24)], { encoding: 'utf8' }).trim();
    const deployment = makeDeployment({ files: { '.htpasswd': { content: `${line}\n`, mode: 0o640 } } });
    const nginx = await startNginx({ userFile: deployment.path('.htpasswd') });
    grantWorkerRead(nginx, deployment.root, deployment.path('.htpasswd'));
    writeFileSync(
      deployment.policyPath,
      stringify({
        version: 1,
        deployment: 'dash',
        secrets: {
          dashboard: {
            kind: 'htpasswd',
            rotate_every: '90d',
            file: '.htpasswd',
            user: 'admin',
            bcrypt_cost: 5,
            probe: { url: `${nginx.url}${path}` },
          },
        },
      }),
    );
    const result = await runSecrets(['check', '--live'], { cwd: deployment.root });
    if (code === 0) expect(result.stdout).not.toMatch(/Basic Auth/);
    else {
      expect(result.code).toBe(2);
      expect(result.stdout).toMatch(
        /dashboard: http:\/\/127\.0\.0\.1:\d+\/open\/ answers 200 without a password, expected 401/,
      );
    }
  });
});
