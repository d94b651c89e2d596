import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSecrets } from '../helpers/cli.js';
import { makeDeployment } from '../helpers/deployment.js';
import { fakeHex } from '../helpers/fake-secrets.js';
import { BACKUP_ENV, BACKUP_POLICY } from '../helpers/rotation.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('secrets sweep: stray copies on the host', () => {
  it('finds every planted copy (current and past values), counts the unreadable file, skips the FIFO, prints no value', async () => {
    const old = fakeHex(64);
    const deployment = makeDeployment({
      files: { '.env': { content: `SECRET_KEY=${old}\n`, mode: 0o600 } },
      policy: {
        backup: BACKUP_POLICY,
        secrets: { app: { kind: 'random', env_key: 'SECRET_KEY', rotate_every: '90d' } },
      },
    });
    const rotated = await runSecrets(['rotate', 'app', '--yes'], { cwd: deployment.root, env: BACKUP_ENV });
    expect(rotated.code, rotated.stderr).toBe(0);
    const current = /^SECRET_KEY=(\S+)$/m.exec(readFileSync(deployment.path('.env'), 'utf8'))![1]!;

    const host = tempDir('sweep-host-');
    mkdirSync(join(host, 'srv/app'), { recursive: true });
    mkdirSync(join(host, 'home/ops'), { recursive: true });
    writeFileSync(join(host, 'srv/app/.env.backup.123'), `SECRET_KEY=${current}\n`, { mode: 0o644 });
    writeFileSync(join(host, 'home/ops/.bash_history'), `ls\nexport SECRET_KEY=${old}\ncd /srv\n`, { mode: 0o600 });
    // A vim swap file: binary header, the old .env text inside.
    const swap = Buffer.concat([Buffer.from([0x62, 0x30, 0, 0, 1, 2, 0xff]), Buffer.from(`\0SECRET_KEY=${old}\0`)]);
    writeFileSync(join(host, 'srv/app/.env.swp'), swap, { mode: 0o644 });
    writeFileSync(join(host, 'srv/app/clean.txt'), 'nothing here\n');
    writeFileSync(join(host, 'srv/app/locked'), `SECRET_KEY=${current}\n`);
    chmodSync(join(host, 'srv/app/locked'), 0o000);
    execFileSync('mkfifo', [join(host, 'srv/app/pipe')]);

    const result = await runSecrets(['sweep', host, '--json'], {
      cwd: deployment.root,
      timeoutMs: 30_000,
      honourFileModes: true,
    });
    expect(result.code, result.stderr).toBe(2);
    for (const text of [result.stdout, result.stderr]) {
      expect(text).not.toContain(current);
      expect(text).not.toContain(old);
    }
    const outcome = JSON.parse(result.stdout);
    const byPath = new Map<string, { owner: string; mode: string; secrets: unknown[] }>(
      outcome.found.map((copy: { path: string }) => [copy.path, copy]),
    );
    expect(byPath.get(join(host, 'srv/app/.env.backup.123'))).toMatchObject({
      mode: '644',
      secrets: [{ id: 'app', value: 'current' }],
    });
    expect(byPath.get(join(host, 'home/ops/.bash_history'))).toMatchObject({ secrets: [{ id: 'app', value: 'past' }] });
    expect(byPath.get(join(host, 'srv/app/.env.swp'))).toMatchObject({ secrets: [{ id: 'app', value: 'past' }] });
    expect(byPath.has(join(host, 'srv/app/clean.txt'))).toBe(false);
    expect(outcome.skipped.special).toBe(1);
    expect(outcome.skipped.unreadable).toBe(1);

    const text = await runSecrets(['sweep', host], { cwd: deployment.root, timeoutMs: 30_000 });
    expect(text.stdout).toMatch(/\.env\.backup\.123 {2}\S+ {2}644 {2}0d {2}app \(current value\)/);
    expect(text.stdout + text.stderr).not.toContain(current);
  });

  it('check runs a bounded sweep of the deployment root: a stray copy of a current value is critical', async () => {
    const value = fakeHex(64);
    const deployment = makeDeployment({
      files: {
        '.env': { content: `SECRET_KEY=${value}\n`, mode: 0o600 },
        'old/.env.backup.20260101': { content: `SECRET_KEY=${value}\n`, mode: 0o644 },
      },
      policy: {
        backup: BACKUP_POLICY,
        secrets: { app: { kind: 'random', env_key: 'SECRET_KEY', rotate_every: '90d' } },
      },
    });
    const check = await runSecrets(['check', '--json'], { cwd: deployment.root });
    expect(check.code).toBe(2);
    // One root cause, one finding: the copy is reported once, critical, whichever check saw it first
    // (inside the deployment root the leaked-value check's tree search also finds it).
    const findings = (
      JSON.parse(check.stdout) as { findings: Array<{ check: string; severity: string; path?: string }> }
    ).findings;
    const aboutCopy = findings.filter(
      (finding) => finding.path !== undefined && finding.path.endsWith('old/.env.backup.20260101'),
    );
    expect(aboutCopy, JSON.stringify(findings)).toHaveLength(1);
    expect(aboutCopy[0]).toMatchObject({ severity: 'critical' });
    expect(['stray-copy', 'leaked-value']).toContain(aboutCopy[0]!.check);
    expect(check.stdout + check.stderr).not.toContain(value);
  });
});
