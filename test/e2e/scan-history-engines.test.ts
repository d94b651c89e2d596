import { describe, expect, it } from 'vitest';
import { fake, join as parts } from '../../src/core/scan/fake-values.js';
import { runSecrets } from '../helpers/cli.js';
import { tempRepo } from '../helpers/scan-repo.js';

const token = () => fake.github();
const awsId = () => parts('AKIA', fake.upperAlnum(16).replace(/[0189]/g, 'Q'));

/** Both history engines, through bin/secrets: the same JSON, byte for byte, and the exit code. */
async function bothEngines(cwd: string, extra: string[] = []) {
  const diff = await runSecrets(['scan', '--history', '--json', '--history-engine', 'diff', ...extra], { cwd });
  const blobs = await runSecrets(['scan', '--history', '--json', '--history-engine', 'blobs', ...extra], { cwd });
  expect(blobs.stderr).toBe(diff.stderr);
  expect(blobs.code).toBe(diff.code);
  expect(blobs.stdout).toBe(diff.stdout);
  return JSON.parse(diff.stdout) as {
    findings: Array<{ file: string; line: number; commit: string; ruleId: string; laterCommits?: number }>;
    scanned: { commits: number };
  };
}

describe('scan --history: the blob-once engine reports what the diff engine reports', () => {
  it('on edits around a secret, renames, a re-added secret, a merge, a side branch, CRLF, spaces, binary and large files', async () => {
    const r = tempRepo();
    const first = token();
    const second = awsId();
    const merged = token();
    const introduced = r.commit({
      'app/config.py': `# settings\nDEBUG = False\nGH_TOKEN = "${first}"\nNAME = "app"\n`,
      'notes one.txt': 'nothing here\n',
    });
    // Later blobs of the file still hold the secret; their commits did not add it.
    r.commit({ 'app/config.py': `# settings\nDEBUG = True\nGH_TOKEN = "${first}"\nNAME = "app"\n` });
    r.git('mv', 'app/config.py', 'app/settings.py');
    r.git('commit', '-q', '-m', 'rename');
    r.commit({ 'app/settings.py': `# settings\nDEBUG = True\nNAME = "app"\n` });
    // Added again: a later commit brings the same line back (the same blob as before).
    const again = r.commit({ 'app/settings.py': `# settings\nDEBUG = True\nGH_TOKEN = "${first}"\nNAME = "app"\n` });
    r.commit({
      'win/deploy.ps1': `$env:AWS_ACCESS_KEY_ID = "${second}"\r\n$x = 1\r\n`,
      'bin/blob.dat': Buffer.concat([Buffer.from([0, 1, 2, 0]), Buffer.from(`GH_TOKEN=${token()}\n`)]),
      'docs/big file.txt': `${'filler line of a large file\n'.repeat(4000)}GH_TOKEN = "${token()}"\n`,
    });
    // A merge whose resolution adds a line neither parent has.
    r.git('checkout', '-q', '-b', 'side');
    r.commit({ 'side.txt': 'side\n', 'shared.txt': 'base\nside change\n' });
    r.git('checkout', '-q', 'main');
    r.commit({ 'shared.txt': 'base\nmain change\n' });
    try {
      r.git('merge', '-q', 'side', '-m', 'merge side');
    } catch {
      r.write({ 'shared.txt': `base\nmain change\nside change\nGH_TOKEN = "${merged}"\n` });
      r.git('add', '-A');
      r.git('commit', '-q', '-m', 'merge side');
    }
    // A branch never merged, with its own leak.
    r.git('checkout', '-q', '-b', 'never-merged', 'HEAD~2');
    r.commit({ 'bot.env': `TELEGRAM_TOKEN=${token()}\nGH_TOKEN=${token()}\n` });
    r.git('checkout', '-q', 'main');

    const report = await bothEngines(r.dir, ['--max-file-size', '50000']);
    const files = report.findings.map((finding) => `${finding.file}:${finding.line}`);
    expect(files).toEqual(
      expect.arrayContaining([
        'app/config.py:3',
        'win/deploy.ps1:1',
        'shared.txt:4',
        'bot.env:2',
        'docs/big file.txt:4001',
      ]),
    );
    expect(files).not.toContain('bin/blob.dat:1');
    const kept = report.findings.find((finding) => finding.file === 'app/config.py')!;
    expect(kept.commit).toBe(introduced);
    expect(report.findings.find((finding) => finding.file === 'app/settings.py')).toMatchObject({
      commit: again,
      line: 3,
    });
    expect(report.scanned.commits).toBe(Number(r.git('rev-list', '--all', '--count')));
  });

  it('keeps ignore_paths per path when one blob lives under an ignored and a reported path', async () => {
    const r = tempRepo();
    const value = token();
    r.commit({
      'secrets.yaml': 'version: 1\ndeployment: demo\nsecrets: {}\nscan:\n  ignore_paths: ["fixtures/"]\n',
      'fixtures/a.env': `GH_TOKEN=${value}\n`,
    });
    r.commit({ 'deploy/a.env': `GH_TOKEN=${value}\n` });
    const report = await bothEngines(r.dir, ['--policy', 'secrets.yaml']);
    expect(report.findings.map((finding) => finding.file)).toEqual(['deploy/a.env']);
  });

  it('diffs a path a rule is for even when its blob was first met under another path', async () => {
    const r = tempRepo();
    const line = `db.internal:5432:app:deploy:${fake.alnum(20)}\n`;
    // git log walks newest first: the blob is met as notes/pg.txt before it is met as .pgpass.
    r.commit({ '.pgpass': line });
    r.commit({ 'notes/pg.txt': line });
    const report = await bothEngines(r.dir);
    expect(report.findings.map((finding) => `${finding.file} ${finding.ruleId}`)).toEqual(['.pgpass pgpass-password']);
  });

  it('finds nothing, and says so the same way, in a clean history and in an empty repository', async () => {
    const r = tempRepo();
    expect((await bothEngines(r.dir)).findings).toEqual([]);
    r.commit({ 'a.txt': 'a\n' });
    r.commit({ 'a.txt': 'b\n' });
    const report = await bothEngines(r.dir);
    expect(report.findings).toEqual([]);
    expect(report.scanned.commits).toBe(2);
  });

  it('refuses --history-engine without --history (exit 3)', async () => {
    const r = tempRepo();
    r.commit({ 'a.txt': 'a\n' });
    const result = await runSecrets(['scan', '--history-engine', 'blobs'], { cwd: r.dir });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/--history-engine only applies to --history/);
  });
});
