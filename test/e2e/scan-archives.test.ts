import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fake } from '../../src/core/scan/fake-values.js';
import { runSecrets } from '../helpers/cli.js';
import { tempTree } from '../helpers/scan-repo.js';

const hasZip = spawnSync('zip', ['-v']).status === 0;
if (!hasZip && process.env.CI === 'true') throw new Error('the zip CLI is needed for the archive scan tests');

/** Zips `files` (paths inside `dir`) into `dir/archive`, storing the paths as given. */
function zip(dir: string, archive: string, files: string[]) {
  execFileSync('zip', ['-q', '-X', archive, ...files], { cwd: dir });
}

const token = () => fake.github();

describe.skipIf(!hasZip)('secrets scan opens archives in the tree', () => {
  it('finds a secret in a zip member, a tgz member, a .gz file and a zip inside a zip, with the line inside the member', async () => {
    const [a, b, c, d] = [token(), token(), token(), token()];
    const t = tempTree({
      'src/app/settings.py': `# settings\nDEBUG = False\nGH_TOKEN = "${a}"\n`,
      'pkg/config/.env': `\nGH_TOKEN=${b}\n`,
      'deep/notes.txt': `one\ntwo\nthree\ntoken: ${c}\n`,
      'dump.env': `A=1\nGH_TOKEN=${d}\n`,
    });
    execFileSync('gzip', ['dump.env'], { cwd: t.dir });
    zip(t.dir, 'bundle.zip', ['src/app/settings.py']);
    execFileSync('tar', ['-czf', 'release.tgz', 'pkg/config/.env'], { cwd: t.dir });
    zip(t.dir, 'inner.zip', ['deep/notes.txt']);
    zip(t.dir, 'outer.jar', ['inner.zip']);
    execFileSync('rm', ['-r', 'src', 'pkg', 'deep', 'inner.zip'], { cwd: t.dir });

    const result = await runSecrets(['scan', '--json'], { cwd: t.dir });
    expect(result.code).toBe(1);
    const found = JSON.parse(result.stdout).findings.map((f: { file: string; line: number }) => `${f.file}:${f.line}`);
    expect(found.sort()).toEqual([
      'bundle.zip!src/app/settings.py:3',
      'dump.env.gz!dump.env:2',
      'outer.jar!inner.zip!deep/notes.txt:4',
      'release.tgz!pkg/config/.env:2',
    ]);
    expect(result.stdout + result.stderr).not.toContain(a);
    const text = await runSecrets(['scan'], { cwd: t.dir });
    expect(text.stdout).toContain('bundle.zip!src/app/settings.py:3:');
    expect(text.stdout).not.toMatch(/binary/);
  });

  it('reports a zip bomb and a corrupt zip as skipped, without following either', async () => {
    const t = tempTree({ 'zeros.txt': new Uint8Array(5 * 1024 * 1024) });
    zip(t.dir, 'bomb.zip', ['zeros.txt']);
    execFileSync('rm', ['zeros.txt'], { cwd: t.dir });
    expect(readFileSync(join(t.dir, 'bomb.zip')).length).toBeLessThan(100_000);
    writeFileSync(join(t.dir, 'broken.zip'), Buffer.from('PK\u0003\u0004 this is not really a zip archive'));

    // --max-file-size 100000: an archive may inflate to 4x that, the 5 MB member is far above.
    const json = await runSecrets(['scan', '--json', '--max-file-size', '100000'], { cwd: t.dir });
    expect(json.code).toBe(0);
    const archives = JSON.parse(json.stdout).skipped.archives as Array<{ file: string; reason: string }>;
    expect(archives.map((entry) => entry.file)).toEqual(['bomb.zip', 'broken.zip']);
    expect(archives[0]!.reason).toMatch(/zip bomb/);
    expect(archives[1]!.reason).toMatch(/not a valid zip/);

    const text = await runSecrets(['scan', '--max-file-size', '100000'], { cwd: t.dir });
    expect(text.stdout).toMatch(/2 archives not opened: bomb\.zip \(inflates beyond 400000 bytes/);
    const sarif = JSON.parse(
      (await runSecrets(['scan', '--format', 'sarif', '--max-file-size', '100000'], { cwd: t.dir })).stdout,
    );
    const notes = sarif.runs[0].invocations[0].toolExecutionNotifications.map(
      (n: { message: { text: string } }) => n.message.text,
    );
    expect(notes.join('\n')).toMatch(/archive not opened: bomb\.zip/);
  });

  it('stops at the nesting depth limit and says so', async () => {
    const secret = token();
    const t = tempTree({ 'a.txt': `GH_TOKEN=${secret}\n` });
    zip(t.dir, 'l1.zip', ['a.txt']);
    zip(t.dir, 'l2.zip', ['l1.zip']);
    zip(t.dir, 'l3.zip', ['l2.zip']);
    zip(t.dir, 'l4.zip', ['l3.zip']);
    execFileSync('rm', ['a.txt', 'l1.zip', 'l2.zip', 'l3.zip'], { cwd: t.dir });
    const json = await runSecrets(['scan', '--json'], { cwd: t.dir });
    expect(JSON.parse(json.stdout).skipped.archives).toEqual([
      { file: 'l4.zip!l3.zip!l2.zip!l1.zip', reason: 'nested deeper than 3 archives' },
    ]);
  });
});
