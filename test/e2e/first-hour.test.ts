/**
 * Issue 12: the traps a new operator met in the first hour on two real deployments, each through
 * bin/secrets on a real temp deployment.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runSecrets, type CliResult } from '../helpers/cli.js';
import { fakeHex } from '../helpers/fake-secrets.js';
import { tempDir, writeTree } from '../helpers/temp-dir.js';

/** bin/secrets started the way a shell starts it (its own #! line), not as `node bin/secrets`. */
function runExecutable(args: string[], cwd: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('row 3: init --env-file is not eaten by node', () => {
  it('the old spelling gets our own one-line error and exit 3, nothing written', async () => {
    const root = tempDir('secrets-row3-');
    const result = await runExecutable(['init', '--env-file', 'nope.env', '--yes'], root);
    expect(result.stderr).not.toContain('node:');
    expect(result.stderr).toContain('--dotenv');
    expect(result.code).toBe(3);
  });

  it('an existing env file named by the old spelling is not loaded into the process either', async () => {
    const root = tempDir('secrets-row3-');
    writeTree(root, { 'other.env': `SECRET_KEY=${fakeHex(64)}\n` });
    const result = await runExecutable(['init', '--env-file', 'other.env', '--yes'], root);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('--dotenv');
  });

  it('--dotenv FILE reads that file; a missing one is exit 3 naming it', async () => {
    const root = tempDir('secrets-row3-');
    writeTree(root, { 'other.env': `SECRET_KEY=${fakeHex(64)}\n` });
    const ok = await runExecutable(['init', '--dotenv', 'other.env', '--yes', '--adopted-on', '2026-11-01'], root);
    expect(ok.stderr).toBe('');
    expect(readFileSync(join(root, 'secrets.yaml'), 'utf8')).toContain('env_file: other.env');
    const missing = await runSecrets(['init', '--dotenv', 'nope.env', '--yes', '--force'], { cwd: root });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('nope.env');
  });
});
