import { isAbsolute, join } from 'node:path';
import type { SimpleGit, SimpleGitFactory } from 'simple-git';
import type { ScanSources } from '../core/scan/ports.js';

/**
 * The git questions of `scan` and `revoke` that are not on a hot path — is this a repository,
 * which commits does a revision range name, where are the ref tips, where do hooks live — asked
 * through simple-git, loaded on first use. The daily `check` and the pre-commit hook
 * (`scan --staged`) keep the plain `git` processes of scan-sources.ts: loading simple-git costs
 * about as much as starting node, paid on every run. Three listings stay there for everyone: the
 * history, a streamed `git log` (simple-git buffers whole outputs); `ls-files`, whose output
 * is kept as bytes (a file name need not be UTF-8) and recurses into submodules; and the commit
 * list, a hot path after all: simple-git read `rev-list` of 50,000 commits flushed line by line in
 * about 0.3 s, where a plain git told not to flush (GIT_FLUSH=0, which simple-git refuses to pass
 * with the rest of the environment) takes a fraction of that.
 */
export function withGitLookups(sources: ScanSources): ScanSources {
  let factory: Promise<SimpleGitFactory> | undefined;
  const gitAt = async (dir: string): Promise<SimpleGit> => {
    factory ??= import('simple-git').then((module) => module.simpleGit);
    return (await factory)({ baseDir: dir, maxConcurrentProcesses: 4 });
  };

  return {
    ...sources,

    async gitRoot(dir) {
      try {
        return (await (await gitAt(dir)).revparse(['--show-toplevel'])).trim() || undefined;
      } catch {
        return undefined; // not a repository, or not a folder at all
      }
    },

    async refTips(root) {
      const output = await (await gitAt(root)).raw(['for-each-ref', '--format=%(objectname)']);
      return [...new Set(output.split('\n').filter((line) => line.length > 0))].sort();
    },

    async hooksDir(root) {
      const path = (await (await gitAt(root)).raw(['rev-parse', '--git-path', 'hooks'])).trim();
      return isAbsolute(path) ? path : join(root, path);
    },
  };
}
