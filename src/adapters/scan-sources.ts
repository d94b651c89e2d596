import { execFile, spawn } from 'node:child_process';
import { findGitRoot } from './git-info.js';
import { availableParallelism } from 'node:os';
import { promises as fs } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { SecretsError, errnoCode } from '../core/errors.js';
import { COMMIT_FORMAT, DiffParser } from '../core/scan/diff-parser.js';
import type { HistoryProgress, HistorySelection, ScanSources } from '../core/scan/ports.js';
import type { Fragment } from '../core/scan/types.js';

/** Options every streamed diff shares: plain, unquoted, renames followed, merges as dense combined diffs. */
const DIFF_OPTIONS = [
  '-U0',
  '--no-color',
  '--no-ext-diff',
  '--no-textconv',
  '-M',
  '--src-prefix=a/',
  '--dst-prefix=b/',
];

const toPosix = (path: string) => (sep === '/' ? path : path.split(sep).join('/'));

/**
 * A small git call, buffered. (Plain execFile rather than simple-git: the leaked-value check runs
 * inside the daily `secrets check`, whose start-up time matters more than the convenience.)
 */
function gitOutput(cwd: string, args: string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile('git', args, { cwd, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error)
        reject(
          new Error(
            String(stderr || error.message)
              .trim()
              .split('\n')[0],
          ),
        );
      else resolvePromise(stdout);
    });
  });
}

/**
 * Runs git with its stdout streamed line by line into `onLine` (never buffered whole), and
 * optionally `input` written to its stdin. Rejects with git's stderr when it fails.
 */
function streamGit(cwd: string, args: string[], onLine: (line: string) => void, input?: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('git', ['-c', 'core.quotepath=off', ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const decoder = new StringDecoder('utf8');
    let rest = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const text = rest + decoder.write(chunk);
      let start = 0;
      for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', start)) {
        onLine(text.slice(start, at));
        start = at + 1;
      }
      rest = text.slice(start);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      rest += decoder.end();
      if (rest.length > 0) onLine(rest);
      if (code === 0) resolvePromise();
      else
        reject(
          new SecretsError('git-failed', `git ${args[0]} failed: ${stderr.trim().split('\n')[0] ?? `exit ${code}`}`, {
            where: cwd,
          }),
        );
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

async function walk(dir: string, root: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (errnoCode(error) === 'EACCES' || errnoCode(error) === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== '.git') await walk(path, root, out);
    } else if (entry.isFile()) {
      out.push(toPosix(relative(root, path)));
    }
  }
}

/** Spreads commits over `parts` lists, round robin, so big and small commits mix evenly. */
export function splitCommits(commits: string[], parts: number): string[][] {
  const lists: string[][] = Array.from({ length: Math.max(1, Math.min(parts, commits.length)) }, () => []);
  commits.forEach((commit, index) => lists[index % lists.length]!.push(commit));
  return lists;
}

export interface ScanSourcesOptions {
  /** git processes for a history scan; default: the number of cores (capped at 4). */
  gitProcesses?: number;
}

export function createScanSources(options: ScanSourcesOptions = {}): ScanSources {
  const processes = options.gitProcesses ?? Math.min(4, Math.max(1, availableParallelism()));
  return {
    gitRoot: findGitRoot,

    async listFiles(root, { git, paths }) {
      const targets = paths
        .map((path) => toPosix(relative(root, isAbsolute(path) ? path : resolve(path))))
        .filter((path) => path !== '');
      if (git) {
        const args = ['ls-files', '-z', '--cached', '--others', '--exclude-standard'];
        if (targets.length > 0) args.push('--', ...targets);
        const output = await gitOutput(root, args);
        return [...new Set(output.split('\0').filter((path) => path.length > 0))];
      }
      const out: string[] = [];
      if (targets.length === 0) await walk(root, root, out);
      for (const target of targets) {
        const absolute = join(root, target);
        const stat = await fs.lstat(absolute).catch(() => undefined);
        if (stat?.isDirectory()) await walk(absolute, root, out);
        else if (stat?.isFile()) out.push(target);
      }
      return out;
    },

    async fileSize(path) {
      const stat = await fs.lstat(path).catch(() => undefined);
      return stat?.isFile() ? stat.size : undefined;
    },

    async readFile(path) {
      try {
        return await fs.readFile(path);
      } catch (error) {
        if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'EISDIR') return undefined;
        throw error;
      }
    },

    async staged(root, onFragment) {
      const parser = new DiffParser(onFragment);
      await streamGit(root, ['diff', '--cached', ...DIFF_OPTIONS], (line) => parser.line(line));
      parser.flush();
    },

    async listCommits(root, selection: HistorySelection) {
      const args = ['rev-list'];
      if (selection.range) args.push(selection.range);
      else if (selection.since) args.push('--all', '--not', selection.since);
      else args.push('--all');
      if (selection.exclude && selection.exclude.length > 0) args.push('--not', ...selection.exclude);
      let output: string;
      try {
        output = await gitOutput(root, args);
      } catch (error) {
        throw new SecretsError(
          'bad-revision',
          `git could not list the commits: ${String((error as Error).message).split('\n')[0]}`,
          {
            where: root,
            hint: 'check the --since revision or the range',
          },
        );
      }
      return output.split('\n').filter((line) => line.length > 0);
    },

    async history(root, commits, onFragment, progress?: HistoryProgress) {
      progress?.total(commits.length);
      // With nothing on stdin, `git log --stdin` would fall back to HEAD.
      if (commits.length === 0) return;
      // Several `git log --no-walk --stdin` processes: git's diffing is the slow part, and it
      // only uses one core per process.
      const lists = splitCommits(commits, processes);
      await Promise.all(
        lists.map((list) => {
          const parser = new DiffParser(onFragment);
          const args = [
            'log',
            '-p',
            '--no-walk=unsorted',
            '--stdin',
            `--format=${COMMIT_FORMAT}`,
            '--diff-merges=dense-combined',
            ...DIFF_OPTIONS,
          ];
          return streamGit(
            root,
            args,
            (line) => {
              if (line.charCodeAt(0) === 1) progress?.commitDone();
              parser.line(line);
            },
            list.join('\n') + '\n',
          ).then(() => parser.flush());
        }),
      );
    },

    async refTips(root) {
      const output = await gitOutput(root, ['for-each-ref', '--format=%(objectname)']);
      return [...new Set(output.split('\n').filter((line) => line.length > 0))].sort();
    },

    async hooksDir(root) {
      const path = (await gitOutput(root, ['rev-parse', '--git-path', 'hooks'])).trim();
      return isAbsolute(path) ? path : join(root, path);
    },
  };
}
