import { execFileSync } from 'node:child_process';
import { tempDir, writeTree } from './temp-dir.js';

/** A temp folder built from an object of paths → contents, removed after the test (tempDir). */
export function tempTree(files: Record<string, string | Uint8Array> = {}): {
  dir: string;
  write: (files: Record<string, string | Uint8Array>) => void;
} {
  const dir = tempDir('secrets-scan-');
  const write = (more: Record<string, string | Uint8Array>) => writeTree(dir, more);
  write(files);
  return { dir, write };
}

/** A temp git repository with a fixed identity; `git(...)` runs git in it and returns stdout. */
export function tempRepo() {
  const tree = tempTree();
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: tree.dir,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_AUTHOR_DATE: '2024-01-02T03:04:05Z',
        GIT_COMMITTER_DATE: '2024-01-02T03:04:05Z',
      },
    }).trim();
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', 'Test Author');
  git('config', 'user.email', 'author@example.org');
  git('config', 'commit.gpgsign', 'false');
  const commit = (files: Record<string, string | Uint8Array>, message = 'change') => {
    tree.write(files);
    git('add', '-A');
    git('commit', '-q', '--allow-empty', '-m', message);
    return git('rev-parse', 'HEAD');
  };
  return { ...tree, git, commit };
}
