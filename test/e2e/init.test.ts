import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSecrets } from '../helpers/cli.js';
import { fakeDingtalkSecret, fakeDingtalkUrl, fakeHex } from '../helpers/fake-secrets.js';
import { tempDir, writeTree } from '../helpers/temp-dir.js';

function deployment(): { root: string; values: string[] } {
  const root = tempDir('secrets-init-e2e-');
  const values = [fakeDingtalkUrl(), fakeDingtalkSecret(), fakeHex(64)];
  writeTree(root, {
    '.env': `DINGTALK_WEBHOOK_URL=${values[0]}\nDINGTALK_SECRET=${values[1]}\nSECRET_KEY=${values[2]}\n`,
  });
  return { root, values };
}

describe('secrets init (bin/secrets)', () => {
  it("exits with the check's code: 1 when only a backup is missing, after recording --adopted-on", async () => {
    const { root, values } = deployment();
    const result = await runSecrets(['init', '--adopted-on', '2026-11-01'], { cwd: root });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('wrote');
    expect(result.stdout).toContain('recorded: every secret rotated on 2026-11-01');
    expect(result.stdout).toContain('WARNING  backup-age');
    for (const value of values)
      expect(result.stdout + result.stderr + readFileSync(join(root, 'secrets.yaml'), 'utf8')).not.toContain(value);

    const check = await runSecrets(['check', '--as-of', '2026-11-24'], { cwd: root });
    expect(check.code).toBe(1);
  });

  it('exits 2 without --adopted-on (never rotated) and says why', async () => {
    const { root } = deployment();
    const result = await runSecrets(['init'], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('no rotation date recorded');
    expect(result.stdout).toMatch(/CRITICAL deadline: .*no rotation recorded/);
  });

  it('exits 3 and leaves the file alone when a policy exists without --force', async () => {
    const { root } = deployment();
    writeFileSync(join(root, 'secrets.yaml'), 'mine\n');
    const result = await runSecrets(['init', '--yes'], { cwd: root });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('--force');
    expect(readFileSync(join(root, 'secrets.yaml'), 'utf8')).toBe('mine\n');
  });

  it('writes to --policy, with --root elsewhere, and prints JSON with --json', async () => {
    const { root } = deployment();
    const policyDir = tempDir('secrets-init-policy-');
    const result = await runSecrets(
      ['--policy', join(policyDir, 'mt5.yaml'), '--json', 'init', '--root', root, '--adopted-on', '2026-11-01'],
      { cwd: policyDir },
    );
    expect(result.code).toBe(1);
    const json = JSON.parse(result.stdout) as { secrets: string[]; check: { status: string } };
    expect(json.secrets).toEqual(['dingtalk', 'secret-key']);
    expect(json.check.status).toBe('warning');
    expect(readFileSync(join(policyDir, 'mt5.yaml'), 'utf8')).toContain(`root: ${root}`);
  });

  it('exits 3 on a bad --adopted-on', async () => {
    const { root } = deployment();
    const result = await runSecrets(['init', '--adopted-on', 'last week'], { cwd: root });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('--adopted-on');
  });
});
