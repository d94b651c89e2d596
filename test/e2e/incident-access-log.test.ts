import { execFileSync } from 'node:child_process';
import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runSecrets } from '../helpers/cli.js';
import { makeDeployment } from '../helpers/deployment.js';
import { fakeAlnum } from '../helpers/fake-secrets.js';
import { BACKUP_ENV, BACKUP_POLICY } from '../helpers/rotation.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');
/** nginx's $time_local, in UTC. */
function logTime(date: Date): string {
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}
function line(client: string, user: string, status: number, date: Date): string {
  return `${client} - ${user} [${logTime(date)}] "GET /dash/ HTTP/1.1" ${status} 512 "-" "Mozilla/5.0"\n`;
}
const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000);
const daysAgo = (days: number) => hoursAgo(days * 24);

function dashboardDeployment() {
  const password = fakeAlnum(24);
  const htpasswd = execFileSync('htpasswd', ['-nbB', '-C', '5', 'admin', password], { encoding: 'utf8' }).trim();
  return makeDeployment({
    files: { 'nginx/.htpasswd': { content: `${htpasswd}\n`, mode: 0o640 }, 'logs/access.log': '' },
    policy: {
      backup: BACKUP_POLICY,
      access_log: { path: 'logs/access.log', failures_warning: 20, brute_force_users: 5 },
      secrets: {
        'dashboard-password': {
          kind: 'htpasswd',
          rotate_every: '90d',
          file: 'nginx/.htpasswd',
          user: 'admin',
          bcrypt_cost: 5,
        },
      },
    },
  });
}

describe('access-log forensics (nginx combined format, generated log with .1 and .2.gz)', () => {
  it('revoke of the dashboard password lists the logins of that user in the leak window, from all three files', async () => {
    const deployment = dashboardDeployment();
    const log = deployment.path('logs/access.log');
    writeFileSync(
      `${log}.2.gz`,
      gzipSync(line('198.51.100.9', 'admin', 200, daysAgo(9)) + line('198.51.100.9', 'admin', 200, daysAgo(8))),
    );
    writeFileSync(
      `${log}.1`,
      line('203.0.113.5', 'admin', 200, daysAgo(3)) + line('203.0.113.5', 'bob', 200, daysAgo(3)),
    );
    writeFileSync(
      log,
      line('203.0.113.5', 'admin', 200, hoursAgo(5)) +
        line('192.0.2.44', 'admin', 401, hoursAgo(4)) +
        line('203.0.113.5', 'admin', 304, hoursAgo(2)),
    );
    const since = daysAgo(10).toISOString().slice(0, 10);
    const result = await runSecrets(
      ['revoke', 'dashboard-password', '--lock-only', '--since', since, '--yes', '--no-scan'],
      {
        cwd: deployment.root,
        env: BACKUP_ENV,
      },
    );
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stdout).toMatch(/successful logins as admin since/);
    expect(result.stdout).toMatch(/198\.51\.100\.9 {2}first \S+ {2}last \S+ {2}2 request\(s\)/);
    expect(result.stdout).toMatch(/203\.0\.113\.5 {2}first \S+ {2}last \S+ {2}3 request\(s\)/);
    expect(result.stdout).not.toMatch(/192\.0\.2\.44/); // a 401 is not a login
  });

  it('check auth-failures: 401s per client in 24 h (warning), brute force (critical), only the unread tail, across a rotation', async () => {
    const deployment = dashboardDeployment();
    const log = deployment.path('logs/access.log');
    let text = '';
    for (let n = 0; n < 25; n++) text += line('192.0.2.10', 'admin', 401, hoursAgo(3));
    text += line('192.0.2.99', 'admin', 401, daysAgo(3)); // outside the window
    writeFileSync(log, text);
    const first = await runSecrets(['check', '--json'], { cwd: deployment.root });
    const auth = (out: string) =>
      (JSON.parse(out).findings as Array<{ check: string; severity: string; message: string }>).filter(
        (finding) => finding.check === 'auth-failures',
      );
    expect(auth(first.stdout)).toEqual([
      expect.objectContaining({
        severity: 'warning',
        message: expect.stringMatching(/^192\.0\.2\.10: 25 failed logins/),
      }),
    ]);

    // Rotation: the old file becomes .1 with a tail not read yet; a new file starts.
    appendFileSync(log, line('192.0.2.10', 'admin', 401, hoursAgo(1)));
    renameSync(log, `${log}.1`);
    let brute = '';
    for (const user of ['root', 'admin', 'test', 'guest', 'oracle', 'ubuntu'])
      brute += line('198.51.100.66', user, 401, hoursAgo(0.5));
    writeFileSync(log, brute);
    const second = await runSecrets(['check', '--json'], { cwd: deployment.root });
    const findings = auth(second.stdout);
    expect(findings).toContainEqual(
      expect.objectContaining({
        severity: 'critical',
        message: expect.stringMatching(/^198\.51\.100\.66: 6 failed logins .*6 user name\(s\)/),
      }),
    );
    // 25 remembered from the first read + 1 from the rotated tail: counted once each.
    expect(findings).toContainEqual(
      expect.objectContaining({
        severity: 'warning',
        message: expect.stringMatching(/^192\.0\.2\.10: 26 failed logins/),
      }),
    );
  });
});
