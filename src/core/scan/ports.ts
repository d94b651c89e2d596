import type { Fragment } from './types.js';

/** Which commits a history scan covers. */
export interface HistorySelection {
  /** A revision range such as `v1.0..main`; default: every ref. */
  range?: string;
  /** Only commits after this revision (`REV..` on every ref). */
  since?: string;
  /** Commits reachable from these are skipped (incremental scans). */
  exclude?: string[];
}

/** One blob of a history, as the blob-once scan meets it. */
export interface HistoryBlob {
  /** Its object id. */
  id: string;
  /** The path it was first met under (a blob may have several). */
  path: string;
  size: number;
  /** Its bytes; undefined when it is larger than the scan's limit (streamed past, never held). */
  bytes?: Uint8Array;
}

export interface HistoryProgress {
  total(commits: number): void;
  commitDone(): void;
}

/**
 * The git and file system side of `secrets scan`, as the use case sees it. Implemented in
 * src/adapters/scan-sources.ts; tests use the real one on temp repositories.
 */
export interface ScanSources {
  /** The top of the git work tree holding `dir`, or undefined outside git. */
  gitRoot(dir: string): Promise<string | undefined>;
  /** The git folder of the repository holding `dir` (a bare or mirror repository has no work tree). */
  gitDir?(dir: string): Promise<string | undefined>;
  /**
   * Files to scan, as paths relative to `root` with forward slashes: in git, tracked files
   * plus untracked ones that are not ignored; elsewhere every file (no .git folders).
   */
  listFiles(
    root: string,
    options: { git: boolean; paths: string[]; onUnreadable?: (path: string) => void },
  ): Promise<string[]>;
  /** The file's size and bytes; undefined when it vanished or is not a regular file. */
  fileSize(path: string): Promise<number | undefined>;
  readFile(path: string): Promise<Uint8Array | undefined>;
  /** The lines the staged change adds, per file. */
  staged(root: string, onFragment: (fragment: Fragment) => void): Promise<void>;
  /** Commits of the selection, newest first. */
  listCommits(root: string, selection: HistorySelection): Promise<string[]>;
  /** Streams the added lines of each commit; memory stays flat however long the history. */
  history(
    root: string,
    commits: string[],
    onFragment: (fragment: Fragment) => void,
    progress?: HistoryProgress,
  ): Promise<void>;
  /**
   * The blob-once pass of a whole-history scan (every ref): each blob some commit's change brings
   * (merges: a blob new against every parent) is read once, bytes only up to `maxBytes`, and
   * judged by `isSuspect`; returns the commits that bring a suspect blob, or any blob at a path
   * `isSuspectPath` names (a blob is judged under one of its paths only). Memory holds a few
   * bytes per blob met, never a whole history. Optional: without it, history scans read diffs.
   */
  suspectCommits?(
    root: string,
    maxBytes: number,
    judge: { isSuspect: (blob: HistoryBlob) => boolean; isSuspectPath: (path: string) => boolean },
  ): Promise<string[]>;
  /** Current tips of every ref (what an incremental scan remembers). */
  refTips(root: string): Promise<string[]>;
  /** The folder git runs hooks from (core.hooksPath and worktrees respected). */
  hooksDir(root: string): Promise<string>;
}
