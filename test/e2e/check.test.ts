import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSecrets } from '../helpers/cli.js';
import { makeCleanDeployment } from '../helpers/clean-deployment.js';
import { tempDir } from '../helpers/temp-dir.js';

const REPO = join(__dirname, '..', '..');

describe('secrets check through bin/secrets', () => {
  it('is quiet and exits 0 on a clean deployment', async () => {
    const deployment = await makeCleanDeployment();
    const result = await runSecrets(['check', '--policy', deployment.policyPath, '--as-of', '2026-11-24']);
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('exits 1 on a warning, 2 on a critical, one line each, worst first', async () => {
    const deployment = await makeCleanDeployment();
    const warning = await runSecrets(['check', '--as-of', '2027-01-20'], { cwd: deployment.root });
    expect(warning.code).toBe(1);
    // three deadlines within warn_before, and by then the backup is older than keep (30d)
    expect(warning.stdout.trim().split('\n')).toHaveLength(4);
    chmodSync(deployment.path('.env'), 0o644);
    const critical = await runSecrets(['check', '--as-of', '2027-01-20'], { cwd: deployment.root });
    expect(critical.code).toBe(2);
    const lines = critical.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^CRITICAL file-mode: /);
    expect(lines.slice(1).every((line) => line.startsWith('WARNING  '))).toBe(true);
  });

  it('reads the policy from $SECRETS_POLICY', async () => {
    const deployment = await makeCleanDeployment();
    const result = await runSecrets(['check', '--as-of', '2027-02-01'], {
      cwd: tempDir(),
      env: { SECRETS_POLICY: deployment.policyPath },
    });
    expect(result.code).toBe(2);
  });

  it('--json has the documented shape', async () => {
    const deployment = await makeCleanDeployment();
    const result = await runSecrets(['check', '--json', '--as-of', '2027-01-20', '--policy', deployment.policyPath]);
    expect(result.code).toBe(1);
    const json = JSON.parse(result.stdout);
    expect(json.status).toBe('warning');
    expect(json.secrets[0]).toEqual({
      id: 'dashboard-password',
      kind: 'htpasswd',
      lastRotated: '2026-11-01T00:00:00.000Z',
      due: '2027-01-30T00:00:00.000Z',
      daysLeft: 10,
      status: 'warning',
    });
    expect(json.findings.find((finding: { check: string }) => finding.check === 'deadline')).toEqual({
      check: 'deadline',
      severity: 'warning',
      secret: 'dashboard-password',
      message: expect.stringContaining('due 2027-01-30'),
    });
  });

  it('--format prometheus writes the textfile format, atomically with --output, without sample timestamps', async () => {
    const deployment = await makeCleanDeployment();
    const out = join(tempDir(), 'secrets.prom');
    const result = await runSecrets([
      'check',
      '--format',
      'prometheus',
      '--output',
      out,
      '--as-of',
      '2026-11-24',
      '--policy',
      deployment.policyPath,
    ]);
    expect(result.code).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('secrets_days_until_due{deployment="mt5-test",secret="dingtalk",kind="dingtalk"} 67');
    expect(text).toContain('secrets_check_status{deployment="mt5-test",check="file-mode"} 0');
    expect(text).toMatch(/^secrets_check_last_run_timestamp_seconds\{deployment="mt5-test"\} \d{10}$/m);
    for (const line of text.split('\n').filter((line) => line && !line.startsWith('#'))) {
      expect(line, 'no timestamp after the value').toMatch(/^[a-z_]+\{[^}]*\} -?\d+(\.\d+)?$/);
    }
    expect(statSync(out).mode & 0o777).toBe(0o644);
  });

  it('a missing policy is exit 3 with one line and a remedy', async () => {
    const result = await runSecrets(['check'], { cwd: tempDir() });
    expect(result.code).toBe(3);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/secrets\.yaml: no policy file here \(pass --policy FILE/);
  });

  it('a malformed policy is exit 3 naming file:line:col and field', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'secrets.yaml'),
      'version: 1\ndeployment: x\nsecrets:\n  a:\n    kind: random\n    env_key: A\n    rotate_every: soon\n',
    );
    const result = await runSecrets(['check'], { cwd: dir });
    expect(result.code).toBe(3);
    expect(result.stderr).toBe(
      'secrets: [policy-invalid] secrets.yaml:7:19: secrets.a.rotate_every: expected a duration like 90d (units: s, min, h, d, w, m for months, y), got "soon"\n',
    );
  });

  it('a bad --as-of is exit 3', async () => {
    const deployment = await makeCleanDeployment();
    const result = await runSecrets(['check', '--as-of', 'next-week', '--policy', deployment.policyPath]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('--as-of: expected a date like 2026-04-01, got "next-week"');
  });

  it('the shipped mt5-crs example runs on a machine without the deployment: exit 2, no stack trace', async () => {
    const result = await runSecrets([
      'check',
      '--policy',
      join(REPO, 'policies/mt5-crs.yaml'),
      '--as-of',
      '2026-01-01',
    ]);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('CRITICAL file-mode: /opt/mt5-crs/.env: missing');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown option is exit 3', async () => {
    const result = await runSecrets(['check', '--frobnicate']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("unknown option '--frobnicate'");
  });

  it('--help and --version exit 0', async () => {
    expect((await runSecrets(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await runSecrets(['check', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Examples:');
  });
});

describe('secrets record and log', () => {
  it('record adds a dated entry; log shows it; log --verify passes', async () => {
    const deployment = await makeCleanDeployment();
    const record = await runSecrets(['record', 'dingtalk', '--on', '2026-11-20', '--policy', deployment.policyPath]);
    expect(record).toMatchObject({ code: 0, stdout: 'recorded: dingtalk rotated on 2026-11-20\n' });
    const log = await runSecrets(['log', '--secret', 'dingtalk', '--policy', deployment.policyPath]);
    expect(log.stdout.trim().split('\n')).toHaveLength(2);
    expect(log.stdout).toContain('recorded  dingtalk  on: 2026-11-20');
    const verify = await runSecrets(['log', '--verify', '--policy', deployment.policyPath]);
    expect(verify).toMatchObject({ code: 0, stdout: expect.stringContaining('audit trail intact: 4 entries') });
  });

  it('record refuses an unknown id and a future date with exit 3', async () => {
    const deployment = await makeCleanDeployment();
    expect((await runSecrets(['record', 'nope', '--policy', deployment.policyPath])).stderr).toContain(
      'no secret "nope" in the policy',
    );
    const future = await runSecrets(['record', 'dingtalk', '--on', '2099-01-01', '--policy', deployment.policyPath]);
    expect(future.code).toBe(3);
  });

  it.each([
    [
      'an edited line',
      (lines: string[]) => {
        lines[1] = lines[1]!.replace('"dingtalk"', '"other"');
        return lines;
      },
      3,
    ],
    [
      'a deleted line',
      (lines: string[]) => {
        lines.splice(1, 1);
        return lines;
      },
      2,
    ],
    [
      'reordered lines',
      (lines: string[]) => {
        [lines[0], lines[1]] = [lines[1]!, lines[0]!];
        return lines;
      },
      1,
    ],
    ['the last line removed', (lines: string[]) => lines.slice(0, -1), 3],
  ])('log --verify exits 2 and names the first bad line after %s', async (_name, alter, badLine) => {
    const deployment = await makeCleanDeployment();
    const path = deployment.path('.secrets/audit.jsonl');
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    writeFileSync(path, `${alter(lines).join('\n')}\n`);
    const result = await runSecrets(['log', '--verify', '--policy', deployment.policyPath]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`audit.jsonl:${badLine}: audit trail broken`);
  });
});
