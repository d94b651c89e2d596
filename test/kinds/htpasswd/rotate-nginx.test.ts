import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { SecretsError } from '../../../src/core/errors.js';
import { scriptedPrompts, testDeps } from '../../helpers/deps.js';
import { fakeAlnum } from '../../helpers/fake-secrets.js';
import { basicAuthStatus, groupId, startDashboard, type Dashboard } from '../../helpers/nginx.js';
import { rotateOne } from '../../helpers/rotate-one.js';
import { describeWithTools } from '../../helpers/system-tools.js';

type Site = Dashboard<'alice' | 'admin' | 'carol'>;

/**
 * The dashboard behind a real nginx (test/helpers/nginx.ts): admin (bcrypt), alice (bcrypt cost
 * 10) and carol (apr1), the file root:<worker group> 640 as a production host would have it.
 */
function site(
  probe: { expect_new?: number; expect_old?: number } = {},
  options: { group?: 'worker' | 'root'; mode?: string } = {},
): Promise<Site> {
  return startDashboard({
    users: { alice: ['-B', '-C', '10'], admin: ['-B', '-C', '5'], carol: ['-m'] },
    probe,
    spec: options.mode ? { mode: options.mode } : {},
    fileGroup: options.group ?? 'worker',
  });
}

function rotate(
  current: Site,
  options: { passwordFrom?: 'prompt' | 'stdin' },
  deps = testDeps({ env: { SECRETS_NGINX_CONF: current.nginx.confPath } }),
) {
  return { deps, done: rotateOne(current.deployment.policyPath, 'dashboard', deps, options) };
}

describeWithTools(['nginx', 'htpasswd'], 'htpasswd rotation through a real nginx', () => {
  it('the new password gets in, the old one and none do not, htpasswd -vb accepts the line, other users untouched', async () => {
    const current = await site();
    const { nginx, passwords, file } = current;
    expect(await basicAuthStatus(nginx.url, { user: 'admin', password: passwords.admin })).toBe(200);

    // On a terminal with a probe, the current password is asked for (hidden) so the probe proves it stops working.
    const prompts = scriptedPrompts([passwords.admin]);
    const { deps, done } = rotate(
      current,
      {},
      testDeps({ interactive: true, prompts, env: { SECRETS_NGINX_CONF: nginx.confPath } }),
    );
    await done;
    const shown = deps.captured.stdout.join('').match(/new password for admin: (\S+)/)![1]!;

    expect(deps.captured.stdout.join('')).toContain(`probe ${nginx.url}: new password → 200, the old password → 401`);
    expect(await basicAuthStatus(nginx.url, { user: 'admin', password: shown })).toBe(200);
    expect(await basicAuthStatus(nginx.url, { user: 'admin', password: passwords.admin })).toBe(401);
    expect(await basicAuthStatus(nginx.url)).toBe(401);
    expect(spawnSync('htpasswd', ['-vb', file, 'admin', shown]).status).toBe(0);

    const before = current.original.split('\n');
    const after = readFileSync(file, 'utf8').split('\n');
    expect(after.filter((line, index) => line !== before[index])).toEqual([after[2]]);
    expect(await basicAuthStatus(nginx.url, { user: 'alice', password: passwords.alice })).toBe(200);
    expect(await basicAuthStatus(nginx.url, { user: 'carol', password: passwords.carol })).toBe(200);
    // The file is root:<worker group> 640, as nginx needs: no permission warning.
    expect(deps.captured.stderr.join('')).toBe('');
  });

  it('a probe expecting the wrong status rolls back: the old password works again through nginx', async () => {
    const current = await site({ expect_new: 403 });
    const { nginx, passwords, file } = current;
    const next = fakeAlnum(24);
    const { done } = rotate(
      current,
      { passwordFrom: 'stdin' },
      testDeps({ stdin: `${next}\n`, env: { SECRETS_NGINX_CONF: nginx.confPath } }),
    );
    const error = await done.then(
      () => undefined,
      (caught: unknown) => caught as SecretsError,
    );
    expect(error).toBeInstanceOf(SecretsError);
    expect(error!.exitCode).toBe(3);
    expect(error!.message).toMatch(/the new password got 200, expected 403; the previous values are back in place/);
    expect(error!.message).not.toContain(next);

    expect(readFileSync(file, 'utf8')).toBe(current.original);
    expect(await basicAuthStatus(nginx.url, { user: 'admin', password: passwords.admin })).toBe(200);
    expect(await basicAuthStatus(nginx.url, { user: 'admin', password: next })).toBe(401);
  });

  it('a file nginx cannot read (root:root 600) is warned about, gets a 500 from nginx, and is rolled back', async (context) => {
    const current = await site({}, { group: 'root', mode: '600' });
    if (!current.nginx.worker) context.skip(); // Only a root master runs workers as another user.
    const { nginx, passwords, file } = current;
    const { deps, done } = rotate(
      current,
      { passwordFrom: 'stdin' },
      testDeps({ stdin: fakeAlnum(24), env: { SECRETS_NGINX_CONF: nginx.confPath } }),
    );
    const error = await done.then(
      () => undefined,
      (caught: unknown) => caught as SecretsError,
    );
    expect(error?.message).toMatch(/the new password got 500, expected 200/);
    expect(deps.captured.stderr.join('')).toMatch(
      new RegExp(`warning: .*not nginx's worker group ${nginx.worker!.group}, from ${nginx.confPath}.*answers 500`),
    );
    expect(readFileSync(file, 'utf8')).toBe(current.original);
    // Put back with the original mode, but still root:root: restoring the group is the operator's call.
    chownSync(file, 0, groupId(nginx.worker!.group));
    chmodSync(file, 0o640);
    expect(await basicAuthStatus(nginx.url, { user: 'admin', password: passwords.admin })).toBe(200);
  });
});
