import { execFile } from 'node:child_process';
import { access, realpath } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { GitInfo } from '../core/ports.js';

function git(args: string[], cwd: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      const code = error
        ? typeof (error as { code?: unknown }).code === 'number'
          ? (error as { code: number }).code
          : 128
        : 0;
      resolve({ code, stdout });
    });
  });
}

/**
 * The work tree holding `dir`: the nearest folder upwards with a `.git` entry (a folder, or the
 * file a linked worktree or submodule has). A walk instead of `git rev-parse --show-toplevel`
 * because the daily check asks several times and each spawn of git costs more than the walk;
 * with GIT_DIR/GIT_WORK_TREE set, git itself is asked, as only it knows.
 */
export async function findGitRoot(dir: string): Promise<string | undefined> {
  if (process.env.GIT_DIR !== undefined || process.env.GIT_WORK_TREE !== undefined) {
    const result = await git(['rev-parse', '--show-toplevel'], dir).catch(() => ({ code: 1, stdout: '' }));
    return result.code === 0 ? result.stdout.trim() || undefined : undefined;
  }
  let current = resolve(dir);
  for (;;) {
    try {
      await access(join(current, '.git'));
      return realpath(current);
    } catch {
      const parent = dirname(current);
      if (parent === current) return undefined;
      current = parent;
    }
  }
}

/** Small, fast git questions through the git binary (no simple-git load on the check path). */
export const gitInfo: GitInfo = {
  repoRoot: findGitRoot,
  async trackedFiles(repoRoot, paths) {
    const relativePaths = paths.map((path) => relative(repoRoot, path));
    const result = await git(['ls-files', '-z', '--', ...relativePaths], repoRoot);
    if (result.code !== 0) return [];
    const tracked = new Set(result.stdout.split('\0').filter(Boolean));
    return paths.filter((_path, index) => tracked.has(relativePaths[index]!));
  },
};
