import { describe, expect, it } from 'vitest';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createScanSources } from '../../src/adapters/scan-sources.js';
import { nodeFileStore } from '../../src/adapters/files.js';
import { runScan, type ScanInput } from '../../src/services/scan.js';
import { HOOK_MARKER, installScanHook } from '../../src/services/scan/install-hook.js';
import { fake, join as parts } from '../../src/core/scan/fake-values.js';
import { isSecretsError } from '../../src/core/errors.js';
import { tempRepo, tempTree } from '../helpers/scan-repo.js';

const deps = { sources: createScanSources(), files: nodeFileStore };
const repo = tempRepo;
const scan = (input: Partial<ScanInput> & { cwd: string }) => runScan(input, deps);
const githubToken = () => fake.github();

describe('secrets scan: working tree', () => {
  it('finds a secret in tracked and untracked files, not in ignored ones, with exit 1', async () => {
    const r = repo();
    const tracked = githubToken();
    const untracked = githubToken();
    const ignored = githubToken();
    r.commit({ 'config.ts': `// setup\nconst token = "${tracked}";\n`, '.gitignore': 'local.env\n' });
    r.write({ 'notes.md': `token ${untracked}\n`, 'local.env': `T=${ignored}\n` });
    const outcome = await scan({ cwd: r.dir });
    expect(outcome.findings.map((f) => [f.file, f.line, f.ruleId])).toEqual([
      ['config.ts', 2, 'github-token'],
      ['notes.md', 1, 'github-token'],
    ]);
    expect(outcome.findings[0]!.column).toBe(16);
    expect(outcome.exitCode).toBe(1);
  });

  it('walks every file outside git, skipping binaries and files over the size limit', async () => {
    const tree = tempTree({
      'a/deep/app.env': `API_TOKEN=${githubToken()}\n`,
      'image.bin': Buffer.concat([Buffer.from([0, 1, 2, 0]), Buffer.from(githubToken())]),
      'big.txt': `${'x'.repeat(2048)}\n${githubToken()}\n`,
    });
    const outcome = await scan({ cwd: tree.dir, maxFileSize: 1024 });
    expect(outcome.findings.map((f) => f.file)).toEqual(['a/deep/app.env']);
    expect(outcome.scanned).toMatchObject({ files: 1, skippedBinary: 1, skippedLarge: 1 });
  });

  it('reads CRLF files with the right line and column', async () => {
    const tree = tempTree({ 'win.ini': `[auth]\r\nname=x\r\ntoken=${githubToken()}\r\n` });
    const [finding] = (await scan({ cwd: tree.dir })).findings;
    expect([finding?.line, finding?.column, finding?.secret.length]).toEqual([3, 7, 40]);
  });

  it('honours an inline secrets:allow comment, on that line only', async () => {
    const tree = tempTree({
      'test.py': `A = "${githubToken()}"  # secrets:allow test fixture\nB = "${githubToken()}"\n`,
    });
    const outcome = await scan({ cwd: tree.dir });
    expect(outcome.findings.map((f) => f.line)).toEqual([2]);
  });

  it('round-trips a baseline: accepted findings pass, a new one fails; the file is stable', async () => {
    const r = repo();
    r.commit({
      'old.txt': `${githubToken()}\n${parts('xoxb-', fake.digits(12), '-', fake.digits(13), '-', fake.alnum(24))}\n`,
    });
    const first = await scan({ cwd: r.dir, writeBaseline: 'baseline.json' });
    expect(first.findings).toHaveLength(2);
    const written = readFileSync(join(r.dir, 'baseline.json'), 'utf8');
    expect(written).not.toMatch(/line|date|time/i);
    const again = await scan({ cwd: r.dir, writeBaseline: 'baseline.json', baseline: 'baseline.json' });
    expect(readFileSync(join(r.dir, 'baseline.json'), 'utf8')).toBe(written);
    expect(again).toMatchObject({ findings: [], accepted: 2, exitCode: 0 });
    // Lines moved: still accepted. A new secret pasted on an accepted line: still reported.
    writeFileSync(join(r.dir, 'old.txt'), `\n\n${readFileSync(join(r.dir, 'old.txt'), 'utf8')}${githubToken()}\n`);
    const moved = await scan({ cwd: r.dir, baseline: 'baseline.json' });
    expect(moved.findings).toHaveLength(1);
    expect(moved.exitCode).toBe(1);
  });

  it('refuses a broken baseline with exit 3', async () => {
    const tree = tempTree({ 'baseline.json': '{ nope' });
    await expect(scan({ cwd: tree.dir, baseline: 'baseline.json' })).rejects.toMatchObject({
      code: 'baseline-invalid',
      exitCode: 3,
    });
  });
});

describe('secrets scan --history', () => {
  it('finds a secret that was added and later removed (and the tree scan does not)', async () => {
    const r = repo();
    const secret = githubToken();
    r.commit({ 'README.md': '# demo\n' }, 'init');
    const added = r.commit({ 'deploy.sh': `#!/bin/sh\nexport GH=${secret}\n` }, 'add deploy');
    r.commit({ 'deploy.sh': '#!/bin/sh\nexport GH="$GH_TOKEN"\n' }, 'remove token');
    expect((await scan({ cwd: r.dir })).findings).toEqual([]);
    const outcome = await scan({ cwd: r.dir, mode: 'history' });
    expect(outcome.findings).toHaveLength(1);
    expect(outcome.findings[0]).toMatchObject({
      file: 'deploy.sh',
      line: 2,
      commit: added,
      author: 'Test Author <author@example.org>',
      ruleId: 'github-token',
    });
    expect(outcome.findings[0]!.date).toMatch(/^2024-01-02T03:04:05/);
    expect(outcome.scanned.commits).toBe(3);
  });

  it('finds a secret on a branch that is not checked out, once per file, at the introducing commit', async () => {
    const r = repo();
    r.commit({ 'a.txt': 'a\n' }, 'init');
    r.git('checkout', '-q', '-b', 'feature');
    const secret = githubToken();
    const introduced = r.commit({ 'cfg.yml': `token: ${secret}\n` }, 'feature secret');
    r.commit({ 'cfg.yml': `# comment\ntoken: ${secret}\n`, 'b.txt': 'b\n' }, 'touch it');
    r.git('checkout', '-q', 'main');
    const outcome = await scan({ cwd: r.dir, mode: 'history' });
    expect(outcome.findings.map((f) => [f.file, f.commit])).toEqual([['cfg.yml', introduced]]);
  });

  it('follows renames: the secret is reported at its original path only', async () => {
    const r = repo();
    const introduced = r.commit({ 'old/name.env': `TOKEN=${githubToken()}\n` }, 'add');
    r.git('mv', 'old/name.env', 'new-name.env');
    r.commit({}, 'rename');
    const history = await scan({ cwd: r.dir, mode: 'history' });
    expect(history.findings.map((f) => [f.file, f.commit])).toEqual([['old/name.env', introduced]]);
    expect((await scan({ cwd: r.dir })).findings.map((f) => f.file)).toEqual(['new-name.env']);
  });

  it('handles merge commits: a side-branch secret once, a secret the merge itself adds too', async () => {
    const r = repo();
    r.commit({ 'shared.txt': 'one\ntwo\n' }, 'init');
    r.git('checkout', '-q', '-b', 'side');
    const side = r.commit({ 'side.txt': `${githubToken()}\n`, 'shared.txt': 'one\nside\n' }, 'side');
    r.git('checkout', '-q', 'main');
    r.commit({ 'shared.txt': 'one\nmain\n' }, 'main change');
    try {
      r.git('merge', '-q', '--no-ff', '-m', 'merge side', 'side');
    } catch {
      // the conflict is the point: resolve it with a line neither parent had
    }
    const evil = githubToken();
    writeFileSync(join(r.dir, 'shared.txt'), `one\n${evil}\n`);
    r.git('add', '-A');
    r.git('commit', '-q', '--no-edit');
    const merge = r.git('rev-parse', 'HEAD');
    const outcome = await scan({ cwd: r.dir, mode: 'history' });
    const where = outcome.findings.map((f) => [f.file, f.commit]);
    expect(where).toContainEqual(['side.txt', side]);
    expect(where).toContainEqual(['shared.txt', merge]);
    expect(where).toHaveLength(2);
  });

  it('skips binary files and deletion commits; --since limits the commits', async () => {
    const r = repo();
    const first = r.commit(
      { 'blob.dat': Buffer.concat([Buffer.from([0, 0, 1]), Buffer.from(githubToken())]) },
      'binary',
    );
    r.commit({ 'x.txt': `${githubToken()}\n` }, 'text');
    rmSync(join(r.dir, 'x.txt'));
    r.commit({}, 'delete');
    expect((await scan({ cwd: r.dir, mode: 'history' })).findings.map((f) => f.file)).toEqual(['x.txt']);
    const since = await scan({ cwd: r.dir, mode: 'history', since: 'HEAD~1' });
    expect(since).toMatchObject({ findings: [], scanned: { commits: 1 } });
    expect((await scan({ cwd: r.dir, mode: 'history', range: `${first}..HEAD~1` })).findings).toHaveLength(1);
  });

  it('fails with exit 3 outside git and on a bad revision', async () => {
    const tree = tempTree({ 'a.txt': 'a' });
    await expect(scan({ cwd: tree.dir, mode: 'history' })).rejects.toMatchObject({
      code: 'not-a-repository',
      exitCode: 3,
    });
    const r = repo();
    r.commit({ 'a.txt': 'a' });
    await expect(scan({ cwd: r.dir, mode: 'history', since: 'no-such-rev' })).rejects.toSatisfy(isSecretsError);
  });
});

describe('secrets scan --staged and --install-hook', () => {
  it('scans only the lines the staged change adds', async () => {
    const r = repo();
    const old = githubToken();
    r.commit({ 'app.cfg': `old=${old}\n` });
    const staged = githubToken();
    r.write({ 'app.cfg': `old=${old}\nnew=${staged}\n`, 'unstaged.txt': `${githubToken()}\n` });
    r.git('add', 'app.cfg');
    const outcome = await scan({ cwd: r.dir, mode: 'staged' });
    expect(outcome.findings.map((f) => [f.file, f.line, f.secret.reveal() === staged])).toEqual([['app.cfg', 2, true]]);
  });

  it('installs a pre-commit hook, updates its own, refuses a foreign one', async () => {
    const r = repo();
    const first = await installScanHook({ cwd: r.dir }, deps);
    const hook = readFileSync(first.path, 'utf8');
    expect(hook).toContain(HOOK_MARKER);
    expect(hook).toContain('secrets scan --staged');
    expect((await installScanHook({ cwd: r.dir }, deps)).replaced).toBe(true);
    writeFileSync(first.path, '#!/bin/sh\nrun-my-linter\n');
    chmodSync(first.path, 0o755);
    await expect(installScanHook({ cwd: r.dir }, deps)).rejects.toMatchObject({ code: 'hook-exists', exitCode: 3 });
    expect(readFileSync(first.path, 'utf8')).toContain('run-my-linter');
    expect(existsSync(first.path)).toBe(true);
  });
});

describe('managed values', () => {
  it('finds the literal current value of a managed secret anywhere: rule managed:<id>, exit 2', async () => {
    const r = repo();
    const value = fake.alnum(40);
    const dingSecret = parts('SEC', fake.hex(64));
    r.write({
      'secrets.yaml':
        'version: 1\ndeployment: demo\nsecrets:\n  app_key:\n    kind: random\n    env_key: APP_KEY\n    rotate_every: 90d\n  ding:\n    kind: dingtalk\n    rotate_every: 90d\n',
      '.env': `APP_KEY=${value}\nDINGTALK_SECRET=${dingSecret}\nDINGTALK_WEBHOOK_URL=https://oapi.dingtalk.com/robot/send?access_token=${fake.hex(64)}\n`,
      '.gitignore': '.env\n.secrets/\n',
    });
    r.commit({
      'docs/setup.md': `Set the key (it looks like ${value.slice(0, 8)}...)\n`,
      'notes.txt': `the key is ${value} do not share\n`,
    });
    const outcome = await scan({ cwd: r.dir, policy: 'secrets.yaml' });
    expect(outcome.findings.map((f) => [f.file, f.ruleId, f.severity])).toEqual([
      ['notes.txt', 'managed:app_key', 'critical'],
    ]);
    expect(outcome.exitCode).toBe(2);
    const history = await scan({ cwd: r.dir, policy: 'secrets.yaml', mode: 'history' });
    expect(history.exitCode).toBe(2);
  });
});
