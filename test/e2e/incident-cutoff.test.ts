import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSecrets } from '../helpers/cli.js';
import { makeDeployment } from '../helpers/deployment.js';
import { fakeHex } from '../helpers/fake-secrets.js';

/** Every file under dir (recursively), for finding where the pre-image was kept. */
function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(path));
    else out.push(path);
  }
  return out;
}

describe('cut-off first: a missing backup configuration never blocks a revoke', () => {
  it('revoke replaces the leaked value, keeps the pre-image (600 in the 700 state folder), says so, exits 2', async () => {
    const old = fakeHex(64);
    const deployment = makeDeployment({
      files: { '.env': { content: `SECRET_KEY=${old}\n`, mode: 0o600 } },
      policy: { secrets: { app: { kind: 'random', env_key: 'SECRET_KEY', rotate_every: '90d' } } },
    });
    const result = await runSecrets(['revoke', 'app', '--yes', '--no-scan'], {
      cwd: deployment.root,
      env: { SECRETS_BACKUP_PASSPHRASE: undefined },
    });
    expect(result.code, result.stdout + result.stderr).toBe(2);
    const env = readFileSync(deployment.path('.env'), 'utf8');
    expect(env).toMatch(/^SECRET_KEY=\S+\n$/);
    expect(env).not.toContain(old);
    expect(result.stdout).toMatch(/no encrypted backup/);
    expect(result.stdout).toMatch(/previous content kept in \S+ \(mode 600/);
    expect(result.stdout + result.stderr).not.toContain(old);
    const stateDir = deployment.path('.secrets');
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    const kept = walk(stateDir).filter((path) => readFileSync(path, 'utf8').includes(old));
    expect(kept.length).toBeGreaterThan(0);
    for (const path of kept) expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('check reports a policy without a usable backup configuration as critical', async () => {
    const deployment = makeDeployment({
      files: { '.env': { content: `SECRET_KEY=${fakeHex(64)}\n`, mode: 0o600 } },
      policy: { secrets: { app: { kind: 'random', env_key: 'SECRET_KEY', rotate_every: '90d' } } },
    });
    const check = await runSecrets(['check', '--json'], {
      cwd: deployment.root,
      env: { SECRETS_BACKUP_PASSPHRASE: undefined },
    });
    expect(check.code).toBe(2);
    const findings = JSON.parse(check.stdout).findings as Array<{ severity: string; message: string }>;
    expect(findings).toContainEqual(
      expect.objectContaining({
        severity: 'critical',
        message: expect.stringMatching(/rotate and revoke will refuse to write/),
      }),
    );
  });
});
