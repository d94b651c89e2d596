import { execFileSync } from 'node:child_process';
import { writeTree, type FileSpec } from './temp-dir.js';

export function git(cwd: string, args: string[], input?: string): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    ...(input !== undefined ? { input } : {}),
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
  });
}

/** A real git repository with a fixed identity and branch name. */
export function initRepo(dir: string): void {
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['config', 'user.name', 'Test Author']);
  git(dir, ['config', 'user.email', 'author@example.invalid']);
  git(dir, ['config', 'commit.gpgsign', 'false']);
}

/** Writes files and commits them (all changes, including deletions). Returns the commit id. */
export function commitFiles(
  dir: string,
  files: Record<string, FileSpec>,
  message: string,
  options: { date?: string; author?: string } = {},
): string {
  writeTree(dir, files);
  git(dir, ['add', '-A']);
  const env = options.date ? ['-c', `user.name=${options.author ?? 'Test Author'}`] : [];
  git(dir, [...env, 'commit', '-q', '--allow-empty', '-m', message, ...(options.date ? ['--date', options.date] : [])]);
  return git(dir, ['rev-parse', 'HEAD']).trim();
}
