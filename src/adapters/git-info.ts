import { execFile } from 'node:child_process';
import { relative } from 'node:path';
import type { GitInfo } from '../core/ports.js';

function git(args: string[], cwd: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : 128) : 0;
      resolve({ code, stdout });
    });
  });
}

/** Small, fast git questions through the git binary (no simple-git load on the check path). */
export const gitInfo: GitInfo = {
  async repoRoot(dir) {
    const result = await git(['rev-parse', '--show-toplevel'], dir).catch(() => ({ code: 1, stdout: '' }));
    return result.code === 0 ? result.stdout.trim() : undefined;
  },
  async trackedFiles(repoRoot, paths) {
    const relativePaths = paths.map((path) => relative(repoRoot, path));
    const result = await git(['ls-files', '-z', '--', ...relativePaths], repoRoot);
    if (result.code !== 0) return [];
    const tracked = new Set(result.stdout.split('\0').filter(Boolean));
    return paths.filter((_path, index) => tracked.has(relativePaths[index]!));
  },
};
