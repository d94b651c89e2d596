import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runSecrets } from '../helpers/cli.js';
import { makeDeployment } from '../helpers/deployment.js';
import { fakeAlnum } from '../helpers/fake-secrets.js';
import { basicAuthStatus, startDashboard } from '../helpers/nginx.js';
import { BACKUP_ENV, BACKUP_POLICY } from '../helpers/rotation.js';
import { describeWithTools } from '../helpers/system-tools.js';

/** The dashboard behind a real nginx (test/helpers/nginx.ts), and bin/secrets run in its deployment. */
async function dashboardSite(probe: Record<string, unknown> = {}) {
  const site = await startDashboard({ id: 'dashboard-password', probe, policy: { backup: BACKUP_POLICY } });
  const cli = (args: string[], input?: string) =>
    runSecrets(args, {
      cwd: site.deployment.root,
      env: { ...BACKUP_ENV, SECRETS_NGINX_CONF: site.nginx.confPath, PATH: process.env.PATH },
      ...(input === undefined ? {} : { input }),
    });
  return { ...site, cli };
}

describeWithTools(['nginx', 'htpasswd'], 'secrets rotate, htpasswd kind, through a real nginx', () => {
  it('--password-stdin: exit 0, nginx lets the new password in and keeps the old one and none out', async () => {
    const site = await dashboardSite();
    const next = fakeAlnum(24);
    const result = await site.cli(['rotate', 'dashboard-password', '--password-stdin', '--yes'], `${next}\n`);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /probe http:\/\/127\.0\.0\.1:\d+\/: new password → 200, a wrong password \(the old one was not given\) → 401/,
    );
    expect(`${result.stdout}${result.stderr}`).not.toContain(next);
    expect(readFileSync(site.deployment.path('.secrets/audit.jsonl'), 'utf8')).not.toContain(next);
    // The old file went into an encrypted backup before the write.
    expect(readdirSync(site.deployment.path('backups'))).toHaveLength(1);

    expect(await basicAuthStatus(site.nginx.url, { user: 'admin', password: next })).toBe(200);
    expect(await basicAuthStatus(site.nginx.url, { user: 'admin', password: site.passwords.admin })).toBe(401);
    expect(await basicAuthStatus(site.nginx.url)).toBe(401);
    expect(await basicAuthStatus(site.nginx.url, { user: 'alice', password: site.passwords.alice })).toBe(200);
    expect(spawnSync('htpasswd', ['-vb', site.file, 'admin', next]).status).toBe(0);
    expect(readFileSync(site.file, 'utf8').split('\n').slice(0, 2)).toEqual(site.original.split('\n').slice(0, 2));

    // The same password again is refused from the audit trail, before anything changes.
    const again = await site.cli(['rotate', 'dashboard-password', '--password-stdin', '--yes'], `${next}\n`);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/it (was used before for this secret|is the current password)/);
    expect(again.stderr).not.toContain(next);
  });

  it('a probe with the wrong expectation: exit 3, the previous file back, the old password works again', async () => {
    const site = await dashboardSite({ expect_new: 403 });
    const next = fakeAlnum(24);
    const result = await site.cli(['rotate', 'dashboard-password', '--password-stdin', '--yes'], `${next}\n`);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/the new password got 200, expected 403/);
    expect(readFileSync(site.file, 'utf8')).toBe(site.original);
    expect(await basicAuthStatus(site.nginx.url, { user: 'admin', password: site.passwords.admin })).toBe(200);
    expect(await basicAuthStatus(site.nginx.url, { user: 'admin', password: next })).toBe(401);
  });

  it('off a terminal, a generated password with no deliver: is refused before anything changes', async () => {
    const site = await dashboardSite();
    const result = await site.cli(['rotate', 'dashboard-password', '--yes']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/a generated password would reach nobody/);
    expect(readFileSync(site.file, 'utf8')).toBe(site.original);
  });
});

describe('secrets rotate --password-stdin / --password-prompt', () => {
  it.each([
    [['rotate', '--password-stdin'], /--password-stdin needs exactly one secret id/],
    [['rotate', 'a', 'b', '--password-stdin'], /--password-stdin needs exactly one secret id/],
    [['rotate', 'a', '--password-stdin', '--password-prompt'], /exclude each other/],
  ])('%j is refused with exit 3', async (args, reason) => {
    const deployment = makeDeployment();
    const result = await runSecrets(args, { cwd: deployment.root });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(reason);
  });
});

describeWithTools(['nginx', 'htpasswd'], 'secrets rotate --dry-run, htpasswd kind', () => {
  it('shows the file, the user line, the source and the probe, and changes nothing', async () => {
    const site = await dashboardSite();
    const result = await site.cli(['rotate', 'dashboard-password', '--dry-run']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('line of user admin');
    expect(result.stdout).toMatch(/generated: 24 characters from a 60-symbol alphabet \(~141 bits\)/);
    expect(result.stdout).toMatch(/must answer 200 to the new password and 401 to the old/);
    expect(readFileSync(site.file, 'utf8')).toBe(site.original);
  });
});
