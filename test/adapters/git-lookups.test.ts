import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withGitLookups } from '../../src/adapters/git-lookups.js';
import { createScanSources } from '../../src/adapters/scan-sources.js';
import { tempRepo, tempTree } from '../helpers/scan-repo.js';

/** The simple-git look-ups must answer exactly as the plain-git ones they stand in for. */
const plain = createScanSources({ gitProcesses: 1 });
const lookups = withGitLookups(plain);
const repo = tempRepo;

describe('git look-ups through simple-git', () => {
  it('finds the top of the work tree from a subfolder, and nothing outside git', async () => {
    const r = repo();
    r.commit({ 'src/a.txt': 'a\n' });
    expect(await lookups.gitRoot(join(r.dir, 'src'))).toBe(realpathSync(r.dir));
    expect(await lookups.gitRoot(join(r.dir, 'src'))).toBe(await plain.gitRoot(join(r.dir, 'src')));
    const outside = tempTree({ 'a.txt': 'a\n' });
    expect(await lookups.gitRoot(outside.dir)).toBeUndefined();
    expect(await lookups.gitRoot(join(outside.dir, 'missing'))).toBeUndefined();
  });

  it('lists the commits of a selection, newest first, and names a bad revision', async () => {
    const r = repo();
    const first = r.commit({ 'a.txt': '1\n' });
    const second = r.commit({ 'a.txt': '2\n' });
    const third = r.commit({ 'a.txt': '3\n' });
    expect(await lookups.listCommits(r.dir, {})).toEqual([third, second, first]);
    expect(await lookups.listCommits(r.dir, { since: first })).toEqual([third, second]);
    expect(await lookups.listCommits(r.dir, { range: `${first}..${second}` })).toEqual([second]);
    await expect(lookups.listCommits(r.dir, { since: 'no-such-revision' })).rejects.toMatchObject({
      code: 'bad-revision',
      message: expect.stringMatching(/^git could not list the commits: /),
    });
  });

  it('reads the ref tips and the hooks folder as git does (core.hooksPath respected)', async () => {
    const r = repo();
    const tip = r.commit({ 'a.txt': '1\n' });
    r.git('branch', 'other');
    expect(await lookups.refTips(r.dir)).toEqual([tip]);
    expect(await lookups.hooksDir(r.dir)).toBe(join(r.dir, '.git', 'hooks'));
    r.git('config', 'core.hooksPath', 'githooks');
    expect(await lookups.hooksDir(r.dir)).toBe(join(r.dir, 'githooks'));
    expect(await lookups.hooksDir(r.dir)).toBe(await plain.hooksDir(r.dir));
  });
});
