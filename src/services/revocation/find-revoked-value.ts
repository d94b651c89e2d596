import { relative, sep } from 'node:path';
import type { Policy } from '../../core/policy.js';
import { looksBinary } from '../../core/scan/binary.js';
import { Detector } from '../../core/scan/detector.js';
import type { ScanSources } from '../../core/scan/ports.js';
import type { Finding, Fragment } from '../../core/scan/types.js';
import type { Secret } from '../../core/secret.js';
import { DEFAULT_MAX_FILE_SIZE } from '../scan.js';

/** One place the revoked value was found: a file of the working tree, or a file in a commit. */
export interface RevokedValueLocation {
  file: string;
  line: number;
  commit?: string;
  author?: string;
  date?: string;
}

export interface RevokedValueSearch {
  root: string;
  tree: RevokedValueLocation[];
  /** Every commit that added the value, each file and line (not only the first, as `scan` shows). */
  history: RevokedValueLocation[];
  commitsScanned: number;
  /** False outside git: only the tree was searched. */
  git: boolean;
}

const toPosix = (path: string) => (sep === '/' ? path : path.split(sep).join('/'));

function locationOf(finding: Finding): RevokedValueLocation {
  return {
    file: finding.file,
    line: finding.line,
    ...(finding.commit ? { commit: finding.commit } : {}),
    ...(finding.author ? { author: finding.author } : {}),
    ...(finding.date ? { date: finding.date } : {}),
  };
}

function unique(locations: RevokedValueLocation[]): RevokedValueLocation[] {
  const seen = new Map<string, RevokedValueLocation>();
  for (const location of locations)
    seen.set(`${location.commit ?? ''}\u0000${location.file}\u0000${location.line}`, location);
  return [...seen.values()].sort(
    (a, b) => (a.commit ?? '').localeCompare(b.commit ?? '') || a.file.localeCompare(b.file) || a.line - b.line,
  );
}

/**
 * Where did the revoked value go? A literal search (no pattern rules) of the working tree and of
 * every commit of every ref, for the values captured before the cut-off. The state and backup
 * folders are skipped: the state folder holds the replacements file, which holds the value.
 */
export async function findRevokedValue(
  policy: Policy,
  id: string,
  values: readonly Secret[],
  sources: ScanSources,
): Promise<RevokedValueSearch> {
  const gitRoot = await sources.gitRoot(policy.root);
  const root = gitRoot ?? policy.root;
  const ignorePaths = [policy.stateDir, policy.backupDir]
    .map((path) => toPosix(relative(root, path)))
    .filter((path) => path && !path.startsWith('..'))
    .map((path) => `/${path}`);
  const detector = new Detector({
    rules: [],
    managed: values.map((value) => ({ id, value: value.reveal() })),
    ignorePaths,
  });

  const tree: RevokedValueLocation[] = [];
  for (const file of await sources.listFiles(root, { git: gitRoot !== undefined, paths: [] })) {
    if (detector.isIgnored(file)) continue;
    const size = await sources.fileSize(`${root}/${file}`);
    if (size === undefined || size > (policy.doc.scan.max_file_size ?? DEFAULT_MAX_FILE_SIZE)) continue;
    const bytes = await sources.readFile(`${root}/${file}`);
    if (!bytes || looksBinary(bytes)) continue;
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8').replace(/\r\n/g, '\n');
    tree.push(...detector.detect({ text, file }).map(locationOf));
  }

  const history: RevokedValueLocation[] = [];
  let commitsScanned = 0;
  if (gitRoot) {
    const commits = await sources.listCommits(gitRoot, {});
    await sources.history(
      gitRoot,
      commits,
      (fragment: Fragment) => history.push(...detector.detect(fragment).map(locationOf)),
      {
        total: () => undefined,
        commitDone: () => {
          commitsScanned++;
        },
      },
    );
  }
  return { root, tree: unique(tree), history: unique(history), commitsScanned, git: gitRoot !== undefined };
}
