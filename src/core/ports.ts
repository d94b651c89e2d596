/**
 * The outside world as the use cases see it. Adapters in src/adapters implement these; commands
 * receive them in `Deps` and never import an adapter. Core itself touches none of them.
 */

export interface FileStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  ino: number;
  nlink: number;
  isFile: boolean;
  isDirectory: boolean;
}

export interface AtomicWriteOptions {
  /** File mode; default: the existing file's mode, else 0o600. */
  mode?: number;
}

export interface FileStore {
  readText(path: string): Promise<string>;
  readBytes(path: string): Promise<Uint8Array>;
  /** undefined when the path does not exist. */
  stat(path: string): Promise<FileStat | undefined>;
  /** Temp file in the same folder, fsync, rename, fsync the folder; keeps owner and mode. */
  writeAtomic(path: string, data: string | Uint8Array, options?: AtomicWriteOptions): Promise<void>;
  /** Appends one line and fsyncs. Creates the file with mode 600. */
  appendLine(path: string, line: string): Promise<void>;
  ensureDir(path: string, mode?: number): Promise<void>;
  list(dir: string): Promise<string[]>;
  remove(path: string): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export interface LockHandle {
  release(): Promise<void>;
}

export interface LockInfo {
  pid: number;
  host: string;
  user: string;
  command: string;
  since: string;
}

export interface Locker {
  /** Takes the state folder's lock; fails at once with who holds it, or waits up to `waitMs`. */
  acquire(stateDir: string, options: { command: string; waitMs?: number }): Promise<LockHandle>;
}

export interface Output {
  /** Human output, results. */
  out(text: string): void;
  /** Diagnostics, progress, warnings. */
  err(text: string): void;
  /** Whether stdout/stderr is a terminal (progress and colour only then). */
  isTTY: boolean;
  color: boolean;
}

export interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface ProcessRunner {
  /**
   * Runs a shell command (policy hooks). Secrets never go in its arguments or environment:
   * the environment passed is the caller's, filtered of every managed key.
   */
  run(command: string, options: { cwd: string; timeoutMs: number; env?: Record<string, string | undefined> }): Promise<RunResult>;
}

/** Read-only questions to git that `check` needs; cheap calls, no history walking. */
export interface GitInfo {
  /** The top folder of the repository holding `dir`, or undefined outside git. */
  repoRoot(dir: string): Promise<string | undefined>;
  /** Which of `paths` (absolute) git tracks in the repository at `repoRoot`. */
  trackedFiles(repoRoot: string, paths: string[]): Promise<string[]>;
}

export interface Prompter {
  /** A hidden prompt (passwords, secrets). Throws a SecretsError (exit 3) on Ctrl+C. */
  password(message: string): Promise<string>;
  confirm(message: string, defaultValue?: boolean): Promise<boolean>;
  input(message: string, defaultValue?: string): Promise<string>;
  /** A list to tick; returns the values ticked, in list order. */
  checkbox(message: string, choices: Array<{ name: string; value: string; checked: boolean }>): Promise<string[]>;
}
