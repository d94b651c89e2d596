import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runSecrets } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

const STEP_TITLES = [
  'Check the deployment',
  'Back up, and encrypt the plaintext copy',
  'Rotate the DingTalk robot and the JWT secret',
  'Scan the whole git history for leaks',
  'Revoke the leaked key',
  'Check again',
  'Verify the audit trail',
];

/** Where a demo could write: its TMPDIR, the HOME it inherits, and the folder it is started in; each must end empty. */
function sandbox() {
  const tmp = tempDir('demo-tmp-');
  const home = tempDir('demo-home-');
  const cwd = tempDir('demo-cwd-');
  // CI as the pipeline runs it: no terminal, CI=true.
  return { tmp, home, cwd, env: { TMPDIR: tmp, HOME: home, GNUPGHOME: join(home, '.gnupg'), CI: 'true' } };
}

describe('secrets demo through bin/secrets', () => {
  it('runs the whole cycle, exits 0, and leaves nothing behind', { timeout: 120_000 }, async () => {
    const box = sandbox();
    const result = await runSecrets(['demo'], { cwd: box.cwd, env: box.env, timeoutMs: 110_000 });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    STEP_TITLES.forEach((title, index) =>
      expect(result.stdout).toContain(`${index + 1}/${STEP_TITLES.length}  ${title}`),
    );
    expect(result.stdout).toContain('$ secrets scan --history');
    expect(result.stdout).toMatch(/app\/settings\.py:3:\d+ +managed:app-secret-key +critical/);
    expect(result.stdout).toContain('signed test message accepted (errcode 0)');
    expect(result.stdout).toContain('$ secrets revoke app-secret-key');
    expect(result.stdout).toContain('revoked and replaced: app-secret-key');
    expect(result.stdout).toContain('git filter-repo --replace-text');
    expect(result.stdout).toContain('audit trail intact');
    expect(result.stdout).toContain('Every step behaved as expected.');
    expect(result.stdout).not.toMatch(/unexpected/);
    expect(result.stdout).not.toMatch(/\u001b\[/); // no terminal, no colour
    expect(readdirSync(box.tmp)).toEqual([]);
    expect(readdirSync(box.home)).toEqual([]);
    expect(readdirSync(box.cwd)).toEqual([]);
  });

  it('--keep keeps the folder and says where it is', { timeout: 120_000 }, async () => {
    const box = sandbox();
    const result = await runSecrets(['demo', '--keep'], { cwd: box.cwd, env: box.env, timeoutMs: 110_000 });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const kept = /Kept the demo's folder: (\S+)/.exec(result.stdout)?.[1];
    expect(kept).toBeDefined();
    expect(kept!.startsWith(box.tmp)).toBe(true);
    expect(existsSync(join(kept!, 'mt5-crs', '.env'))).toBe(true);
    expect(existsSync(join(kept!, 'mt5-crs', '.secrets', 'audit.jsonl'))).toBe(true);
    expect(readdirSync(box.home)).toEqual([]);
    expect(readdirSync(box.cwd)).toEqual([]);
    rmSync(kept!, { recursive: true, force: true });
  });

  it('Ctrl+C stops it with exit 3, the server closed and the folder removed', { timeout: 60_000 }, async () => {
    const box = sandbox();
    const child = spawn(process.execPath, [BIN, 'demo'], {
      cwd: box.cwd,
      env: { ...process.env, NO_COLOR: '1', ...box.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
        // Interrupt in the middle of the cycle, while a step's command runs.
        if (stdout.includes('$ secrets backup\n')) child.kill('SIGINT');
      });
      child.on('close', resolve);
    });
    expect(code, stdout + stderr).toBe(3);
    expect(stderr).toMatch(/interrupted/);
    expect(readdirSync(box.tmp)).toEqual([]);
  });
});
