import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { loadPolicy } from '../../src/services/policy/load-policy.js';
import { runCheck } from '../../src/services/check.js';
import { runRevoke } from '../../src/services/revoke.js';
import { isLockedOutHash, parseHtpasswd } from '../../src/core/htpasswd.js';
import { scriptedPrompts, testDeps } from '../helpers/deps.js';
import { fakeAlnum } from '../helpers/fake-secrets.js';
import { basicAuthStatus, startDashboard } from '../helpers/nginx.js';
import { recordingBackup } from '../helpers/rotation.js';
import { describeWithTools } from '../helpers/system-tools.js';

const NOW = new Date('2026-11-24T12:00:00Z');

/** The dashboard behind a real nginx (test/helpers/nginx.ts), admin and alice in the file, and its policy loaded. */
async function site() {
  const dashboard = await startDashboard();
  const policy = await loadPolicy(dashboard.deployment.policyPath, testDeps());
  return { ...dashboard, policy };
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
