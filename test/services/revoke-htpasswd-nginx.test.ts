import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadPolicy } from '../../src/services/policy/load-policy.js';
import { runCheck } from '../../src/services/check.js';
import { runRevoke } from '../../src/services/revoke.js';
import { isLockedOutHash, parseHtpasswd } from '../../src/core/htpasswd.js';
import { makeDeployment } from '../helpers/deployment.js';
import { scriptedPrompts, testDeps } from '../helpers/deps.js';
import { fakeAlnum } from '../helpers/fake-secrets.js';
import { basicAuthStatus, grantWorkerRead, startNginx } from '../helpers/nginx.js';
import { recordingBackup } from '../helpers/rotation.js';
import { describeWithTools } from '../helpers/system-tools.js';

const NOW = new Date('2026-11-24T12:00:00Z');

/** A line as Apache's own tool writes it (test-only: the password is in htpasswd's argv here). */
function htpasswdLine(user: string, password: string): string {
  return execFileSync('htpasswd', ['-nbB', '-C', '5', user, password], { encoding: 'utf8' }).trim();
}

/** The dashboard behind a real nginx, admin and alice in the file, as the htpasswd kind's tests build it. */
async function site() {
  const passwords = { admin: fakeAlnum(24), alice: fakeAlnum(24) };
  const original = [
    '# dashboard users',
    htpasswdLine('alice', passwords.alice),
    htpasswdLine('admin', passwords.admin),
    '',
  ].join('\n');
  const deployment = makeDeployment({
    files: { 'nginx/.htpasswd': { content: original, mode: 0o640 } },
    policy: 'version: 1\ndeployment: placeholder\nsecrets: {}\n',
  });
  const file = deployment.path('nginx/.htpasswd');
  const nginx = await startNginx({ userFile: file });
  grantWorkerRead(nginx, deployment.root, file);
  writeFileSync(
    deployment.policyPath,
    stringify({
      version: 1,
      deployment: 'mt5-crs',
      secrets: {
        dashboard: {
          kind: 'htpasswd',
          rotate_every: '90d',
          file: 'nginx/.htpasswd',
          user: 'admin',
          bcrypt_cost: 5,
          after_change: [nginx.testCommand, nginx.reloadCommand],
          probe: { url: nginx.url, timeout: '5s' },
        },
      },
    }),
  );
  const policy = await loadPolicy(deployment.policyPath, testDeps());
  return { deployment, nginx, file, passwords, policy };
}

describeWithTools(['nginx', 'htpasswd'], 'revoke htpasswd through a real nginx', () => {
  it('--lock-only: the old password gets 401 (the probe proves it), htpasswd -v rejects it, alice still gets in, check is critical', async () => {
    const { nginx, file, passwords, policy } = await site();
    expect(await basicAuthStatus(nginx.url, { user: 'admin', password: passwords.admin })).toBe(200);

    // On a terminal: one confirmation and the leaked password (for the probe), both up front.
    const deps = testDeps({
      now: NOW,
      interactive: true,
      prompts: scriptedPrompts([true, passwords.admin]),
      env: { SECRETS_NGINX_CONF: nginx.confPath },
    });
    const outcome = await runRevoke(
      { policy, id: 'dashboard', lockOnly: true, scan: false, backup: recordingBackup(), now: NOW },
      deps,
    );

    expect(outcome.exitCode).toBe(2);
    expect(outcome.notReplaced).toBe('--lock-only');
    expect(deps.captured.stdout.join('')).toContain(`probe ${nginx.url}: the old password → 401`);
    expect(await basicAuthStatus(nginx.url, { user: 'admin', password: passwords.admin })).toBe(401);
    expect(await basicAuthStatus(nginx.url, { user: 'alice', password: passwords.alice })).toBe(200);
    expect(spawnSync('htpasswd', ['-vb', file, 'admin', passwords.admin]).status).not.toBe(0);
    const admin = parseHtpasswd(readFileSync(file, 'utf8'), file).entries.find((entry) => entry.user === 'admin')!;
    expect(isLockedOutHash(admin.hash)).toBe(true);
    expect(deps.captured.stdout.join('')).not.toContain(passwords.admin);

    const check = await runCheck({ policy, now: NOW }, testDeps({ now: NOW }));
    expect(check.findings.filter((finding) => finding.check === 'revoked')).toEqual([
      expect.objectContaining({ severity: 'critical', secret: 'dashboard' }),
    ]);
  });

  it('lock-out then replacement in one run: old password 401, the new one (from stdin) 200, check clean', async () => {
    const { nginx, passwords, policy } = await site();
    const next = fakeAlnum(24);
    const deps = testDeps({ now: NOW, stdin: `${next}\n`, env: { SECRETS_NGINX_CONF: nginx.confPath } });
    const outcome = await runRevoke(
      { policy, id: 'dashboard', yes: true, passwordFrom: 'stdin', scan: false, backup: recordingBackup(), now: NOW },
      deps,
    );

    expect(outcome.exitCode).toBe(0);
    expect(outcome.replaced).toBe(true);
    expect(await basicAuthStatus(nginx.url, { user: 'admin', password: passwords.admin })).toBe(401);
    expect(await basicAuthStatus(nginx.url, { user: 'admin', password: next })).toBe(200);
    const printed = deps.captured.stdout.join('');
    expect(printed.indexOf('1/4 cut off')).toBeLessThan(printed.indexOf('3/4 replace'));
    expect(printed).not.toContain(next);
    const check = await runCheck({ policy, now: NOW }, testDeps({ now: NOW }));
    expect(check.findings.filter((finding) => finding.check === 'revoked')).toEqual([]);
  });
});
