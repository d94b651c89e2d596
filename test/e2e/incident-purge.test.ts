import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSecrets } from '../helpers/cli.js';
import { makeDeployment } from '../helpers/deployment.js';
import { fakeHex } from '../helpers/fake-secrets.js';
import { commitFiles, git, initRepo } from '../helpers/git-repo.js';
import { tempDir } from '../helpers/temp-dir.js';
import { BACKUP_POLICY } from '../helpers/rotation.js';

function hasFilterRepo(): boolean {
  try {
    execFileSync('git', ['filter-repo', '--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const available = hasFilterRepo();
if (!available && process.env.CI === 'true') throw new Error('git-filter-repo is required under CI (see .ci/run)');

describe.skipIf(!available)('after a purge with git filter-repo + git gc --prune=now', () => {
  it.each([
    ["with filter-repo's replace refs", []],
    ['without replace refs (the old objects are gone: "bad object")', ['--replace-refs', 'delete-no-add']],
  ])(
    'check says once that the history was rewritten, searches it again: no warning, the leak gone (%s)',
    async (_name, extra) => {
      const value = fakeHex(64);
      const deployment = makeDeployment({
        files: { '.env': { content: `SECRET_KEY=${value}\n`, mode: 0o600 } },
        policy: {
          backup: BACKUP_POLICY,
          secrets: { app: { kind: 'random', env_key: 'SECRET_KEY', rotate_every: '90d' } },
        },
      });
      initRepo(deployment.root);
      // .env is not ignored yet: `git add -A` commits it.
      commitFiles(deployment.root, { '.gitignore': '.secrets/\nbackups/\n' }, 'oops: .env committed');
      git(deployment.root, ['rm', '-q', '--cached', '.env']);
      commitFiles(deployment.root, { '.gitignore': '.env\n.secrets/\nbackups/\n' }, 'remove .env, ignore it');

      const before = await runSecrets(['check', '--json'], { cwd: deployment.root });
      const leaks = (JSON.parse(before.stdout).findings as Array<{ check: string; severity: string }>).filter(
        (finding) => finding.check === 'leaked-value',
      );
      expect(leaks).toContainEqual(expect.objectContaining({ severity: 'critical' }));

      // The purge revoke recommends, done in place (--force: this is not a fresh clone).
      const replacements = join(tempDir('purge-'), 'replacements.txt');
      writeFileSync(replacements, `${value}==>***REMOVED***\n`, { mode: 0o600 });
      git(deployment.root, ['filter-repo', '--force', '--quiet', ...extra, '--replace-text', replacements]);
      git(deployment.root, ['reflog', 'expire', '--expire=now', '--all']);
      git(deployment.root, ['gc', '-q', '--prune=now']);

      const after = await runSecrets(['check', '--json'], { cwd: deployment.root });
      const findings = JSON.parse(after.stdout).findings as Array<{ check: string; message: string }>;
      expect(
        findings.filter((finding) => finding.check === 'leaked-value'),
        after.stderr,
      ).toEqual([]);
      expect(after.stdout + after.stderr).not.toMatch(/bad object|could not search/);
      expect(after.stderr).toMatch(/history rewritten since the last search: searching it again/);
      const again = await runSecrets(['check', '--json'], { cwd: deployment.root });
      expect(again.stderr).not.toMatch(/history rewritten/);
      expect((JSON.parse(again.stdout).findings as Array<{ check: string }>).map((f) => f.check)).not.toContain(
        'leaked-value',
      );
    },
  );
});
