import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasTool } from '../helpers/system-tools.js';
import { tempDir } from '../helpers/temp-dir.js';

const SCRIPT = resolve(__dirname, '..', '..', 'scripts', 'system-tools.sh');

/** A PATH holding only what the script itself needs, so every tool it checks for is missing. */
function barePath(): string {
  const dir = tempDir('secrets-bare-path-');
  chmodSync(dir, 0o755);
  for (const tool of ['bash', 'id', 'apt-get', 'apt-cache', 'env'])
    symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), join(dir, tool));
  return dir;
}

describe('npm test installs the system tools it needs, or says the one line to run', () => {
  it.runIf(process.getuid?.() === 0 && existsSync('/usr/sbin/runuser') && hasTool('apt-cache'))(
    'as a user who may not install: exit 1, installs nothing, one apt-get install line naming every missing package',
    () => {
      // A copy nobody can read: the checkout itself may sit in a folder only root may enter (CI's is 700).
      const copy = join(barePath(), 'system-tools.sh');
      copyFileSync(SCRIPT, copy);
      chmodSync(copy, 0o644);
      const result = spawnSync('/usr/sbin/runuser', ['-u', 'nobody', '--', '/bin/bash', copy], {
        encoding: 'utf8',
        env: { PATH: barePath() },
      });
      expect(result.status).toBe(1);
      expect(result.stdout).toBe('');
      const lines = result.stderr.split('\n').filter((line) => line.includes('apt-get install'));
      expect(lines).toHaveLength(1);
      for (const pkg of ['git', 'gnupg', 'apache2-utils', 'redis-server', 'git-filter-repo'])
        expect(lines[0]!.split(/\s+/)).toContain(pkg);
    },
  );

  it('with every tool present it installs nothing and says nothing', () => {
    const result = spawnSync('bash', [SCRIPT], { encoding: 'utf8' });
    if (result.status === 0) expect(result.stdout + result.stderr).toBe('');
    else expect(result.stderr).toContain('apt-get install');
  });
});
