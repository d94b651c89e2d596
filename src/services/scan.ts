import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { FileStore } from '../core/ports.js';
import { ExitCode, SecretsError, errnoCode, type ExitCodeValue } from '../core/errors.js';
import type { Policy } from '../core/policy.js';
import { formatBaseline, parseBaseline, withoutBaseline } from '../core/scan/baseline.js';
import { archiveKind, openArchive, type ArchiveLimits } from '../core/scan/archive.js';
import { decodeText } from '../core/scan/binary.js';
import { Detector } from '../core/scan/detector.js';
import { HistoryFindings } from '../core/scan/history.js';
import type { HistoryBlob, HistorySelection, ScanSources } from '../core/scan/ports.js';
import { rules as defaultRules } from '../core/scan/rules.js';
import type { Finding, Fragment, ManagedValue, Rule, ScanSkipped } from '../core/scan/types.js';
import type { ExtraMatcher } from '../core/scan/past-values.js';
export type { ScanSkipped } from '../core/scan/types.js';

/**
 * The policy's parts, loaded only when there is a policy: the kinds' registry (with its schemas
 * and YAML reader) costs about as much CPU as starting node, which a scan without a policy, such
 * as a CI scan of a repository's history, need not pay.
 */
const policyParts = async () => ({
  ...(await import('../kinds/index.js')),
  ...(await import('./policy/managed-values.js')),
  ...(await import('./state/past-values.js')),
});

export const DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024;
/** An archive in the tree may inflate to this many times the file size limit, nested archives included. */
const ARCHIVE_INFLATE_FACTOR = 4;
const ARCHIVE_LIMITS = { maxMembers: 10_000, maxDepth: 3 };

export type ScanMode = 'tree' | 'staged' | 'history';

export interface ScanInput {
  cwd: string;
  /** Paths to scan in the working tree (default: everything under the root). */
  paths?: string[];
  mode?: ScanMode;
  /** History: only commits after this revision. */
  since?: string;
  /** History: a revision range such as `v1.0..main`. */
  range?: string;
  maxFileSize?: number;
  /** Accept the findings listed in this baseline file. */
  baseline?: string;
  /** Write the findings (before the baseline filter) to this file. */
  writeBaseline?: string;
  /** Policy file: its managed values are searched and its scan.ignore_paths honoured. */
  policy?: string | Policy;
  /** Never report the env file, htpasswd files, state and backup folders (the leaked-value check: the gitignore check covers them). */
  skipValueHomes?: boolean;
  /** History: skip commits reachable from these (what an incremental scan already covered). */
  exclude?: string[];
  /**
   * Also report past values of the policy's managed secrets (by keyed fingerprint, from the audit
   * trail), as `managed-past:<id>`, severity high. `only`: the past values of that secret alone.
   */
  pastValues?: boolean | { only: string };
  /**
   * History: how to read it. `diff` (the default) reads every commit's diff. `blobs` reads each
   * blob of the history once and diffs only the commits that brought a blob holding a finding:
   * the same findings, faster where many refs share their files (mirrors with pull-request refs),
   * slower on a plain linear history (docs/scanner.md has the figures). It applies to whole-history
   * scans; with a range, `since` or `exclude` the diff engine runs.
   */
  historyEngine?: 'blobs' | 'diff';
}

export interface ScanProgress {
  start(total: number, unit: 'files' | 'commits'): void;
  tick(): void;
  done(): void;
}

export interface ScanDeps {
  sources: ScanSources;
  files: FileStore;
  progress?: ScanProgress;
  /** The rules to run; default: the built-in set. */
  rules?: readonly Rule[];
}

export interface ScanOutcome {
  mode: ScanMode;
  root: string;
  findings: Finding[];
  /** Findings the baseline accepted. */
  accepted: number;
  scanned: { files: number; commits: number; skippedBinary: number; skippedLarge: number };
  /** What was not scanned, by name, so that a report can say so rather than pass in silence. */
  skipped: ScanSkipped;
  exitCode: ExitCodeValue;
}

/** Read errors that concern one file: the scan names it and goes on. */
const UNREADABLE = new Set(['EACCES', 'EPERM', 'EIO', 'ELOOP', 'ENAMETOOLONG', 'EBUSY', 'ENXIO', 'ETIMEDOUT']);

async function loadPolicy(path: string, files: FileStore): Promise<Policy> {
  let text: string;
  try {
    text = await files.readText(path);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT')
      throw new SecretsError('policy-missing', 'no policy file here', {
        where: path,
        hint: 'run secrets init, or pass --policy FILE',
      });
    throw error;
  }
  return (await policyParts()).parsePolicy(text, path);
}

const toPosix = (path: string) => (sep === '/' ? path : path.split(sep).join('/'));

/** Runs tasks with at most `limit` in flight. */
async function eachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function exitCodeOf(findings: readonly Finding[]): ExitCodeValue {
  if (findings.some((finding) => finding.ruleId.startsWith('managed:'))) return ExitCode.critical;
  return findings.length > 0 ? ExitCode.warning : ExitCode.ok;
}

function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort(
    (a, b) =>
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
      a.line - b.line ||
      a.column - b.column ||
      (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0),
  );
}

/**
 * `secrets scan`: builds the source the mode asks for (working tree, staged change or history),
 * runs every fragment through one detector, then applies the baseline. Findings are results,
 * not errors: the exit code says 1 (leaks) or 2 (a managed secret leaked).
 */
export async function runScan(input: ScanInput, deps: ScanDeps): Promise<ScanOutcome> {
  const mode = input.mode ?? 'tree';
  const cwd = resolve(input.cwd);
  const maxFileSize = input.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
  if (!Number.isFinite(maxFileSize) || maxFileSize <= 0) {
    throw new SecretsError('bad-option', '--max-file-size must be a positive number of bytes');
  }
  const policy =
    typeof input.policy === 'string' ? await loadPolicy(resolve(cwd, input.policy), deps.files) : input.policy;
  const parts = policy ? await policyParts() : undefined;
  const managed: ManagedValue[] = policy ? await parts!.readManagedValues(policy, deps) : [];
  const gitRoot = await deps.sources.gitRoot(cwd);
  // A bare or mirror repository (a server-side or CI scan) has history but no work tree.
  const bareGitDir = mode === 'history' && !gitRoot ? await deps.sources.gitDir?.(cwd) : undefined;
  if ((mode === 'staged' || (mode === 'history' && !bareGitDir)) && !gitRoot) {
    throw new SecretsError('not-a-repository', `--${mode} needs a git repository`, {
      where: cwd,
      hint: 'run it inside a git work tree, or scan files without the flag',
    });
  }
  const root = gitRoot ?? bareGitDir ?? cwd;
  const ignorePaths = [...(policy?.doc.scan.ignore_paths ?? [])];
  // Outside git, the files where values live by design are not leaks of themselves; inside git
  // an un-ignored .env could be committed, so `secrets scan` reports it, unless asked not to.
  if (policy && (!gitRoot || input.skipValueHomes)) {
    for (const home of parts!.managedValueHomes(policy)) {
      const path = toPosix(relative(root, home));
      if (path && !path.startsWith('..')) ignorePaths.push(`/${path}`);
    }
  }
  const accepted = input.baseline
    ? parseBaseline(await deps.files.readText(resolve(cwd, input.baseline)), input.baseline)
    : new Set<string>();
  const extra =
    policy && input.pastValues
      ? await parts!.pastValuesMatcher(
          policy.stateDir,
          deps,
          typeof input.pastValues === 'object' ? input.pastValues.only : undefined,
        )
      : undefined;
  const detectorOptions = { rules: deps.rules ?? defaultRules, managed };
  const detector = new Detector({ ...detectorOptions, ignorePaths, ...(extra ? { extra } : {}) });
  const scanned = { files: 0, commits: 0, skippedBinary: 0, skippedLarge: 0 };
  const skipped: ScanSkipped = { binary: [], large: [], unreadable: [], archives: [], notes: [] };
  const archiveLimits: ArchiveLimits = { ...ARCHIVE_LIMITS, maxInflated: ARCHIVE_INFLATE_FACTOR * maxFileSize };
  let findings: Finding[] = [];

  if (mode === 'tree') {
    for (const path of input.paths ?? []) {
      if (!(await deps.files.lstat(resolve(cwd, path))))
        throw new SecretsError('scan-path-missing', 'no such file or folder', {
          where: path,
          hint: 'check the path; nothing was scanned',
        });
    }
    const files = await deps.sources.listFiles(root, {
      git: gitRoot !== undefined,
      paths: (input.paths ?? []).map((path) => resolve(cwd, path)),
      onUnreadable: (path) => skipped.unreadable.push(path),
    });
    if (gitRoot !== undefined) skipped.notes.push(...(await ignoredTargets(deps.files, root, cwd, input.paths, files)));
    deps.progress?.start(files.length, 'files');
    await eachLimited(files, 8, async (file) => {
      try {
        if (detector.isIgnored(file)) return;
        const absolute = join(root, file);
        let size: number | undefined;
        let bytes: Uint8Array | undefined;
        try {
          size = await deps.sources.fileSize(absolute);
          if (size === undefined || size > maxFileSize) bytes = undefined;
          else bytes = await deps.sources.readFile(absolute);
        } catch (error) {
          const code = errnoCode(error);
          if (code === undefined || !UNREADABLE.has(code)) throw error;
          skipped.unreadable.push(file);
          return;
        }
        if (size === undefined) return;
        if (size > maxFileSize) {
          scanned.skippedLarge++;
          skipped.large.push(file);
          return;
        }
        if (!bytes) return;
        if (archiveKind(file)) {
          scanned.files++;
          const opened = openArchive(file, bytes, archiveLimits);
          skipped.archives.push(...opened.skipped);
          for (const member of opened.members) {
            const memberText = decodeText(member.data);
            if (memberText === undefined) findings.push(...detector.detectPath(member.name));
            else findings.push(...detector.detect({ text: memberText.replace(/\r\n/g, '\n'), file: member.name }));
          }
          return;
        }
        const text = decodeText(bytes);
        if (text === undefined) {
          scanned.skippedBinary++;
          skipped.binary.push(file);
          findings.push(...detector.detectPath(file));
          return;
        }
        scanned.files++;
        findings.push(...detector.detect({ text: text.includes('\r') ? text.replace(/\r\n/g, '\n') : text, file }));
      } finally {
        deps.progress?.tick();
      }
    });
    deps.progress?.done();
  } else if (mode === 'staged') {
    await deps.sources.staged(root, (fragment) => {
      scanned.files++;
      findings.push(...detector.detect(fragment));
    });
  } else {
    const selection: HistorySelection = {};
    if (input.range) selection.range = input.range;
    if (input.since) selection.since = input.since;
    if (input.exclude && input.exclude.length > 0) selection.exclude = input.exclude;
    if (gitRoot && (await deps.files.stat(join(gitRoot, '.gitmodules'))))
      skipped.notes.push('submodule histories are not scanned: run secrets scan --history inside each submodule');
    const commits = await deps.sources.listCommits(root, selection);
    const order = new Map(commits.map((commit, index) => [commit, index]));
    const history = new HistoryFindings((commit) => order.get(commit) ?? -1);
    const onFragment = (fragment: Fragment) => {
      for (const finding of detector.detect(fragment)) history.add(finding);
    };
    const progress = {
      total: (count: number) => deps.progress?.start(count, 'commits'),
      commitDone: () => {
        scanned.commits++;
        deps.progress?.tick();
      },
    };
    const wholeHistory = !selection.range && !selection.since && !selection.exclude;
    const blobsFirst = input.historyEngine === 'blobs' && wholeHistory && commits.length > 0;
    if (blobsFirst) deps.progress?.start(commits.length, 'commits');
    const introducing = blobsFirst
      ? await commitsWithSuspectBlobs(deps, root, maxFileSize, { ...detectorOptions, extra })
      : undefined;
    if (introducing) {
      // Only these commits' diffs are read, by the same parser and detector as a diff scan, so
      // lines, commits and "added again" come out as that scan gives them.
      const wanted = introducing.filter((commit) => order.has(commit));
      wanted.sort((a, b) => order.get(a)! - order.get(b)!);
      await deps.sources.history(root, wanted, onFragment);
      scanned.commits = commits.length;
      deps.progress?.done();
    } else {
      await deps.sources.history(root, commits, onFragment, progress);
      deps.progress?.done();
    }
    findings = history.results();
  }

  sortFindings(findings);
  if (input.writeBaseline) {
    const path = resolve(cwd, input.writeBaseline);
    await deps.files.ensureDir(dirname(path), 0o755);
    await deps.files.writeAtomic(path, formatBaseline(findings), { mode: 0o644 });
  }
  const reported = withoutBaseline(findings, accepted);
  for (const list of [skipped.binary, skipped.large, skipped.unreadable]) list.sort();
  skipped.archives.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return {
    skipped,
    mode,
    root,
    findings: reported,
    accepted: findings.length - reported.length,
    scanned,
    exitCode: exitCodeOf(reported),
  };
}

/**
 * The blob-once pass of a whole-history scan: each blob of the history is read once and run
 * through the detector; one that holds a finding, or is too large to read whole, is a suspect.
 * Returns the commits whose change brings a suspect, or undefined when the source cannot
 * list blobs (the caller then reads every diff).
 *
 * The pass only chooses commits; their diffs decide. It knows one path per blob and not the
 * others a blob may have, so it runs without the policy's ignore_paths (a blob may be ignored
 * under one path and not under another), and the diff pass applies them, path by path.
 */
async function commitsWithSuspectBlobs(
  deps: ScanDeps,
  root: string,
  maxBytes: number,
  options: { rules: readonly Rule[]; managed: ManagedValue[]; extra: ExtraMatcher | undefined },
): Promise<string[] | undefined> {
  if (!deps.sources.suspectCommits) return undefined;
  const detector = new Detector({
    rules: options.rules,
    managed: options.managed,
    ...(options.extra ? { extra: options.extra } : {}),
  });
  try {
    const isSuspect = ({ bytes, path }: HistoryBlob) => {
      if (!bytes) return true;
      // What git's diff calls binary (a NUL in the first 8000 bytes) adds no lines to any diff.
      if (bytes.subarray(0, 8000).includes(0)) return false;
      if (!detector.mayFind(bytes, path)) return false;
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
      return detector.detect({ text: text.includes('\r') ? text.replace(/\r\n/g, '\n') : text, file: path }).length > 0;
    };
    return await deps.sources.suspectCommits(root, maxBytes, {
      isSuspect,
      isSuspectPath: (path) => detector.hasRuleForPath(path),
    });
  } catch (error) {
    if (error instanceof SecretsError && error.code === 'git-failed') return undefined;
    throw error;
  }
}

/** Relative display path of the scan root (for messages). */
export function displayRoot(outcome: ScanOutcome, cwd: string): string {
  const path = relative(cwd, outcome.root);
  return path === '' ? '.' : isAbsolute(path) ? path : toPosix(path);
}

/**
 * A path the operator named that lies in the repository but yields no file: git ignores all of it
 * (node_modules, build/). Said, so "no leaks found in 0 files" is not read as "scanned and clean".
 */
async function ignoredTargets(
  files: FileStore,
  root: string,
  cwd: string,
  paths: readonly string[] | undefined,
  listed: readonly string[],
): Promise<string[]> {
  const notes: string[] = [];
  for (const path of paths ?? []) {
    const target = relative(root, resolve(cwd, path)).split(sep).join('/');
    if (target === '' || target === '..' || target.startsWith('../') || isAbsolute(target)) continue;
    if (listed.some((file) => file === target || file.startsWith(`${target}/`))) continue;
    if (!(await files.stat(join(root, target)))) continue;
    notes.push(`${target}: ignored by git, so not scanned (scan a copy outside the repository to read it)`);
  }
  return notes;
}
